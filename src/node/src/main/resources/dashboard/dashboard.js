// The ActorTls cluster dashboard: polls GET /dashboard/state with the token kept in sessionStorage, turns the
// counters into rates between two polls, and keeps a few minutes of them for the charts. Actions call the same
// API routes as the CLI. Everything is written with textContent: names come from configuration and the cluster.
"use strict";

const POLL_MS = 1500;
const HISTORY_MS = 5 * 60 * 1000;
const TOKEN_KEY = "actortls-token";

let timer = null;
let previous = null;          // the last state, with the time it was read, for rates
const history = [];           // {t, ...numbers} per poll, the last HISTORY_MS

const $ = id => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k === "onclick") e.addEventListener("click", v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function td(value, cls) { return el("td", cls ? { class: cls } : {}, value); }
function num(value) { return el("td", { class: "num" }, value); }

function fmtRate(v) { return v == null ? "–" : v >= 100 ? Math.round(v).toString() : v.toFixed(1); }
function fmtBytes(v) {
  if (v == null) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? Math.round(v) : v.toFixed(1)) + " " + units[i];
}
function fmtAge(s) {
  if (s == null) return "–";
  if (s < 120) return s + " s";
  if (s < 7200) return Math.floor(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

// ---- login, polling, refusal ----

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function headers() {
  return { "Authorization": "Bearer " + token(), "X-ActorTls-Client": "dashboard" };
}

function showLogin(refusal) {
  clearInterval(timer);
  timer = null;
  previous = null;
  history.length = 0;
  // Nothing the cluster said stays on the page once the token is refused or dropped.
  $("dashboard").hidden = true;
  for (const body of document.querySelectorAll("#dashboard tbody, #dashboard tfoot, #dashboard dl")) body.replaceChildren();
  for (const chart of document.querySelectorAll("#dashboard [id^=chart-]")) chart.replaceChildren();
  $("pools").replaceChildren();
  $("login").hidden = false;
  $("logout").hidden = true;
  $("refusal").hidden = !refusal;
  $("refusal").textContent = refusal || "";
  $("status").textContent = "not logged in";
  $("updated").textContent = "";
}

function start() {
  $("login").hidden = true;
  $("refusal").hidden = true;
  $("logout").hidden = false;
  $("status").textContent = "connecting…";
  poll();
  timer = setInterval(poll, POLL_MS);
}

async function poll() {
  let response;
  try {
    response = await fetch("/dashboard/state", { headers: headers(), cache: "no-store" });
  } catch (e) {
    $("status").textContent = "cannot reach " + location.host + " (" + e.message + "); retrying";
    return;
  }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    const body = await response.json().catch(() => ({}));
    showLogin("Refused by " + location.host + ": " + (body.error || "wrong token"));
    return;
  }
  if (response.status === 429 && previous === null) {
    // Refused before any answer: most likely a wrong token over the node's failed-login limit; retrying feeds it.
    const body = await response.json().catch(() => ({}));
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Refused by " + location.host + ": " + (body.error || "too many calls"));
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $("status").textContent = "HTTP " + response.status + ": " + (body.error || response.statusText) + "; retrying";
    return;
  }
  if (timer === null) return; // logged out while the call was on its way
  render(await response.json(), Date.now());
}

// ---- actions: the CLI's routes, after a confirm() ----

async function act(question, method, path) {
  if (!confirm(question)) return;
  let text;
  try {
    const response = await fetch(path, { method, headers: headers(), cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    text = response.ok ? (body.message || JSON.stringify(body)) : "refused (HTTP " + response.status + "): " + (body.error || response.statusText);
    if (response.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin("Refused: " + (body.error || "wrong token")); }
  } catch (e) {
    text = "failed: " + e.message;
  }
  $("notice").textContent = text;
  $("notice").hidden = false;
  poll();
}

function serverActions(pool, server) {
  const base = "/pools/" + encodeURIComponent(pool) + "/servers/" + encodeURIComponent(server.name);
  const button = (label, action) => el("button", {
    type: "button", "data-action": action, "data-server": pool + "/" + server.name,
    onclick: () => act(label + " server " + server.name + " of pool " + pool + "?", "POST", base + "/" + action)
  }, label);
  const weight = el("button", {
    type: "button", "data-action": "weight", "data-server": pool + "/" + server.name, onclick: () => {
      const value = prompt("New weight of " + server.name + " (pool " + pool + ")", String(server.weight));
      if (value === null) return;
      if (!/^\s*\d+\s*$/.test(value)) { alert("A weight is a whole number, not " + value); return; }
      act("Set the weight of " + server.name + " to " + value.trim() + "?", "PUT", base + "/weight?value=" + value.trim());
    }
  }, "weight…");
  return el("td", { class: "actions" }, button("drain", "drain"), button("enable", "enable"), button("disable", "disable"), weight);
}

// ---- rendering ----

function counters(state) {
  const sum = { full: 0, resumed_local: 0, resumed_remote: 0, open: 0, accepted: 0, client_in: 0, client_out: 0 };
  for (const n of state.nodes) {
    if (!n.figures) continue;
    for (const k of ["full", "resumed_local", "resumed_remote"]) sum[k] += n.figures.handshakes[k] || 0;
    sum.open += n.figures.open;
    sum.accepted += n.figures.accepted;
    sum.client_in += n.figures.bytes.client_in;
    sum.client_out += n.figures.bytes.client_out;
  }
  return sum;
}

function rate(now, before, seconds) {
  return before == null || seconds <= 0 ? null : Math.max(0, now - before) / seconds;
}

function render(state, t) {
  const seconds = previous ? (t - previous.t) / 1000 : 0;
  const before = previous ? previous.state : null;
  const nodeBefore = name => before && before.nodes.find(n => n.node === name && n.figures);

  $("dashboard").hidden = false;
  $("status").textContent = state.cluster.members.length + " members, served by " + state.servedBy;
  $("updated").textContent = "updated " + new Date(t).toLocaleTimeString() + " (every " + POLL_MS / 1000 + " s)";

  // Members
  const members = state.cluster.members.map(m => {
    const roles = [];
    if (m.leader) roles.push(el("span", { class: "tag" }, "leader"));
    if (m.oldest) roles.push(el("span", { class: "tag" }, "oldest"));
    const status = m.reachable ? m.status : "unreachable (" + m.status + ")";
    return el("tr", { "data-member": m.node }, td(m.node), td(status, "state-" + (m.reachable ? m.status : "unreachable")),
      td(m.reachable ? "yes" : "no"), el("td", {}, ...roles));
  });
  $("members").tBodies[0].replaceChildren(...members);

  // Nodes
  const rows = state.nodes.map(n => {
    if (!n.figures) return el("tr", { "data-node": n.node }, td(n.node), el("td", { colSpan: 8, class: "state-down" }, n.error));
    const b = nodeBefore(n.node);
    const h = n.figures.handshakes;
    const r = k => fmtRate(b ? rate(h[k], b.figures.handshakes[k], seconds) : null);
    const bytes = k => fmtBytes(b ? rate(n.figures.bytes[k], b.figures.bytes[k], seconds) : null) + "/s";
    const drain = el("button", { type: "button", "data-action": "drain-node", "data-node": n.node,
      onclick: () => act("Drain node " + n.node + "? It stops taking connections, lets open ones finish and leaves the cluster.",
        "POST", "/node/drain?node=" + encodeURIComponent(n.node)) }, "drain node");
    return el("tr", { "data-node": n.node }, td(n.node), num(r("full")), num(r("resumed_local")), num(r("resumed_remote")),
      num(n.figures.open), num(n.figures.accepted), num(bytes("client_in")), num(bytes("client_out")), el("td", {}, drain));
  });
  $("nodes").tBodies[0].replaceChildren(...rows);
  const now = counters(state);
  const was = before ? counters(before) : null;
  const cr = k => was ? rate(now[k], was[k], seconds) : null;
  const handshakesTotal = now.full + now.resumed_local + now.resumed_remote;
  $("nodes").tFoot.replaceChildren(el("tr", {}, td("cluster"), num(fmtRate(cr("full"))), num(fmtRate(cr("resumed_local"))),
    num(fmtRate(cr("resumed_remote"))), num(now.open), el("td", { class: "num", "data-figure": "accepted" }, now.accepted),
    num(fmtBytes(cr("client_in")) + "/s"), num(fmtBytes(cr("client_out")) + "/s"),
    el("td", { "data-figure": "handshakes-total", title: "handshakes since the nodes started" }, handshakesTotal + " handshakes")));

  // Session cache (cluster-wide: summed counters, the largest copy's entries)
  const s = state.sessions.cluster;
  const sb = before ? before.sessions.cluster : null;
  const sr = k => sb ? rate(s[k], sb[k], seconds) : null;
  const figures = [["entries", s.cached], ["hits", s.hits], ["misses", s.misses], ["remote hits", s.remoteHits],
    ["fetch hits", s.fetchHits], ["fetch misses", s.fetchMisses], ["fetch timeouts", s.fetchTimeouts],
    ["evictions", s.evictions], ["expiries", s.expiries], ["stored", s.stored]];
  $("sessions").replaceChildren(...figures.map(([name, value]) =>
    el("div", { "data-figure": "sessions-" + name.replace(/ /g, "-") }, el("dt", {}, name), el("dd", {}, value))));
  if (state.sessions.missing.length)
    $("sessions").append(el("div", {}, el("dt", { class: "state-down" }, "no answer"),
      el("dd", {}, state.sessions.missing.map(m => m.node).join(", "))));

  // Ticket keys
  $("tickets").tBodies[0].replaceChildren(...state.sessions.nodes.map(n =>
    el("tr", {}, td(n.node), num(n.ticketKeyGeneration), num(fmtAge(n.ticketKeyAgeSeconds)))));

  // Pools
  $("pools").replaceChildren(...state.pools.map(p => renderPool(p, before, seconds)));

  // Close reasons
  const reasons = state.closes.total.closed;
  const nodes = state.closes.nodes;
  const head = el("tr", {}, el("th", {}, "reason"), el("th", { class: "num" }, "cluster"),
    ...nodes.map(n => el("th", { class: "num" }, n.node)));
  $("closes").tHead.replaceChildren(head);
  $("closes").tBodies[0].replaceChildren(...Object.keys(reasons).filter(k => reasons[k] > 0).sort().map(k =>
    el("tr", { "data-reason": k }, td(k), num(reasons[k]), ...nodes.map(n => num(n.error ? "–" : (n.closed[k] || 0))))));

  // History and charts
  history.push({ t, full: cr("full"), local: cr("resumed_local"), remote: cr("resumed_remote"), open: now.open,
    inRate: cr("client_in"), outRate: cr("client_out"), hits: sr("hits"), misses: sr("misses"), remoteHits: sr("remoteHits"),
    fetchHits: sr("fetchHits"), fetchMisses: sr("fetchMisses"), fetchTimeouts: sr("fetchTimeouts"),
    evictions: sr("evictions"), entries: s.cached });
  while (history.length && history[0].t < t - HISTORY_MS) history.shift();
  chart("chart-handshakes", ["full", "local", "remote"]);
  chart("chart-open", ["open"]);
  chart("chart-bytes", ["inRate", "outRate"], fmtBytes);
  chart("chart-lookups", ["hits", "misses", "remoteHits"]);
  chart("chart-fetches", ["fetchHits", "fetchMisses", "fetchTimeouts", "evictions"]);
  chart("chart-entries", ["entries"]);

  previous = { t, state };
}

function renderPool(p, before, seconds) {
  const section = el("section", { class: "card wide", "data-pool": p.pool }, el("h2", {}, "Pool " + p.pool));
  if (!p.detail) { section.append(el("p", { class: "state-down" }, p.error)); return section; }
  const d = p.detail;
  section.append(el("p", {}, d.algorithm + ", " + d.scope + "-wide, entity on " + (d.entityNode || "?") +
    ", queue " + d.queue.waiting + "/" + d.queue.maxWaiting));
  // Share of new connections: of the picks since the last poll, else (no new connections) since the nodes started.
  const prev = before && before.pools.find(q => q.pool === p.pool);
  const delta = {};
  let deltaTotal = 0, total = 0;
  for (const s of d.servers) {
    const picks = p.picks[s.name] || 0;
    delta[s.name] = Math.max(0, picks - ((prev && prev.picks[s.name]) || 0));
    deltaTotal += delta[s.name];
    total += picks;
  }
  const share = name => {
    const part = deltaTotal > 0 ? delta[name] / deltaTotal : total > 0 ? (p.picks[name] || 0) / total : null;
    return part == null ? "–" : Math.round(part * 100) + "%";
  };
  const table = el("table", {},
    el("thead", {}, el("tr", {}, ...["server", "address", "state", "health", "weight", "effective", "connections",
      "new connections", "actions"].map(h => el("th", {}, h)))),
    el("tbody", {}, ...d.servers.map(s => el("tr", { "data-server": p.pool + "/" + s.name },
      td(s.name), td(s.address), el("td", { class: "state-" + s.admin, "data-field": "state" }, s.admin),
      el("td", { class: "state-" + s.health, title: s.healthReason || "" }, s.health),
      el("td", { class: "num", "data-field": "weight" }, s.weight), num(s.effectiveWeight),
      el("td", { class: "num", "data-field": "connections" }, s.connections),
      el("td", { class: "num", "data-field": "share" }, share(s.name)), serverActions(p.pool, s)))));
  section.append(el("div", { class: "scroll" }, table));
  if (deltaTotal === 0 && total > 0) section.append(el("p", { class: "muted" }, "no new connections since the last update: shares since the nodes started"));
  return section;
}

// A few lines of SVG: one polyline per series, scaled to the largest value shown.
function chart(id, keys, format) {
  const width = 300, height = 70, pad = 2;
  const points = history.filter(h => keys.some(k => h[k] != null));
  const box = $(id);
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...points.flatMap(h => keys.map(k => h[k] || 0)));
  // From the first reading kept to the last: a fresh page fills the chart, then it scrolls over HISTORY_MS.
  const t0 = points.length ? points[0].t : 0;
  const span = Math.max(1, points.length ? points[points.length - 1].t - t0 : 1);
  keys.forEach((k, i) => {
    const line = document.createElementNS(svgNs, "polyline");
    line.setAttribute("class", "s" + i);
    line.setAttribute("points", points.filter(h => h[k] != null).map(h =>
      ((h.t - t0) / span * width).toFixed(1) + "," + (height - pad - (h[k] / max) * (height - 2 * pad)).toFixed(1)).join(" "));
    svg.append(line);
  });
  const label = document.createElementNS(svgNs, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", "11");
  label.textContent = "max " + (format ? format(max) : fmtRate(max));
  svg.append(label);
  box.replaceChildren(svg);
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", e => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showLogin(null); });
  $("rotate").addEventListener("click", () =>
    act("Rotate the cluster's session-ticket keys now? Tickets of the oldest generation stop resuming.", "POST", "/tickets/rotate"));
  if (token()) start(); else showLogin(null);
});
