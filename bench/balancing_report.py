#!/usr/bin/env python3
"""Reads what bench/balancing.sh leaves in bench/run/balancing-bench/ (results.jsonl, meta.tsv, the nodes' logs).

    python3 bench/balancing_report.py placement DIR   "POOL NODE" per pool: the node hosting the pool's entity
                                                       (newest "pool entity started" line of x1-x3)
    python3 bench/balancing_report.py lastmove DIR    "AGE PENDING": seconds since the newest "pool entity
                                                       started" or shard "Starting rebalance" line (the logs are
                                                       in UTC), and rebalanced shards whose entity has not
                                                       started again yet
    python3 bench/balancing_report.py report DIR      the "balancing" section of docs/benchmarks.md, on stdout
                                                       (bench/docsection.py puts it into the document)

Every number in the report is computed here from the measurements and the logs; nothing is typed in by hand.
"""
import json
import os
import re
import statistics
import sys
import time

NODES = ["x1", "x2", "x3"]
POOLS = [("lc", "leastconn", "cluster"), ("rr", "roundrobin", "cluster"), ("lcnode", "leastconn", "node")]
COST_TARGET = 0.05   # the issue: cluster-wide balancing costs at most 5 % of the full-handshake rate / CPU
MIN_PICKS = 20       # per-second windows with fewer picks are left out of the pick-latency percentiles

LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) +(\w+) +\S+ - (.*)$")
KV = re.compile(r"(\w+)=(\[[^\]]*\]|\{[^}]*\}|\S+)")


def parse_line(line):
    m = LINE.match(line)
    if not m:
        return None
    t = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + int(m.group(4)) / 1000
    return t, m.group(5), m.group(6)


def kvs(msg):
    return {k: v for k, v in KV.findall(msg)}


def read_logs(r):
    logs = {}
    for n in NODES:
        p = os.path.join(r, n + ".log")
        with open(p, errors="replace") as f:
            logs[n] = f.read().splitlines()
    return logs


def node_addresses(logs):
    """cluster address (host:port) -> node name, from each node's "ActorTls node ready" line."""
    out = {}
    for n, lines in logs.items():
        for l in lines:
            m = re.search(r"ActorTls node ready: .* cluster address (\S+)", l)
            if m:
                out[m.group(1)] = n
                break
    return out


def placement(logs):
    addr = node_addresses(logs)
    newest = {}
    for n, lines in logs.items():
        for l in lines:
            p = parse_line(l)
            if not p or not p[2].startswith("pool entity started"):
                continue
            kv = kvs(p[2])
            pool, node = kv.get("pool"), addr.get(kv.get("node"), kv.get("node"))
            if pool and (pool not in newest or p[0] >= newest[pool][0]):
                newest[pool] = (p[0], node)
    return {pool: v[1] for pool, v in newest.items()}


def last_move(logs):
    """Seconds since the newest "pool entity started" or "Starting rebalance" line, and how many rebalanced shards
    have not yet led to a new entity start (an entity starts again on its new node only when a message reaches it)."""
    newest, starts, pools, moved = None, 0, set(), 0
    for lines in logs.values():
        for l in lines:
            if "pool entity started" in l or "Starting rebalance" in l:
                p = parse_line(l)
                if not p:
                    continue
                newest = p[0] if newest is None else max(newest, p[0])
                if "pool entity started" in l:
                    starts += 1
                    pools.add(kvs(p[2]).get("pool"))
                else:
                    m = re.search(r"Starting rebalance for shards \[([^\]]*)\]", l)
                    moved += len([x for x in m.group(1).split(",") if x.strip()]) if m else 0
    age = 1e9 if newest is None else (time.time() % 86400 - newest) % 86400
    return age, moved - (starts - len(pools))


if len(sys.argv) != 3 or sys.argv[1] not in ("placement", "lastmove", "report"):
    raise SystemExit(__doc__)
R = sys.argv[2]
LOGS = read_logs(R)
if sys.argv[1] == "placement":
    for pool, node in sorted(placement(LOGS).items()):
        print(pool, node)
    sys.exit(0)
if sys.argv[1] == "lastmove":
    age, pending = last_move(LOGS)
    print(int(age), pending)
    sys.exit(0)

# ================================================================================================ report
RABS = os.path.abspath(R)
meta = {}
with open(os.path.join(R, "meta.tsv")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("\t")
        meta[k] = v
records = [json.loads(l) for l in open(os.path.join(R, "results.jsonl")) if l.strip()]
QUICK = meta.get("mode") == "quick"
ADDR = node_addresses(LOGS)


def rel(text):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(RABS)))
    return text.replace(RABS + "/", "bench/run/balancing-bench/").replace(RABS, "bench/run/balancing-bench").replace(repo + "/", "")


def read(name):
    with open(os.path.join(R, name)) as f:
        return rel(f.read().rstrip("\n"))


def cell(values, spec):
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return format(med, spec)
    return f"{format(med, spec)} ({format(min(vals), spec)}–{format(max(vals), spec)})"


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def window(rec, node):
    """The lines node logged during rec's run (and up to 1.5 s after it), parsed."""
    a, b = rec["logs"][node]
    out = []
    for l in LOGS[node][a:b]:
        p = parse_line(l)
        if p:
            out.append((p[0], p[1], p[2], kvs(p[2])))
    return out


def picks_of(rec, node, pool):
    return [kv for _, _, msg, kv in window(rec, node) if msg.startswith("pool picks") and kv.get("pool") == pool]


def hosts_in(rec, pool):
    """Nodes that logged the pool entity's stats line during the run: more than one means it moved."""
    return sorted(n for n in NODES if any(msg.startswith("pool stats") and kv.get("pool") == pool
                                          for _, _, msg, kv in window(rec, n)))


def servers_used(rec, pool):
    counts = {}
    for n in NODES:
        for _, _, msg, kv in window(rec, n):
            if msg.startswith("connection closed") and kv.get("pool") == pool:
                counts[kv.get("server")] = counts.get(kv.get("server"), 0) + 1
    return counts


def local_decisions(rec, node, pool):
    """Picks the node made from its last view because the entity did not answer in time, during the run (the
    gateway's counter is cumulative: the last value in the window minus the last value before it)."""
    a, _ = rec["logs"][node]
    before = 0
    for l in LOGS[node][:a]:
        p = parse_line(l)
        if p and p[2].startswith("pool picks"):
            kv = kvs(p[2])
            if kv.get("pool") == pool:
                before = int(kv.get("local_decisions", 0))
    inside = [int(kv.get("local_decisions", 0)) for kv in picks_of(rec, node, pool)]
    return (inside[-1] - before) if inside else 0


def errors(rec):
    return sum(rec["res"].get("errors", {}).values()) if isinstance(rec.get("res"), dict) else 0


def disturbance(rec):
    """CPU of other processes in % of one CPU, and steal %, during one tlsload run."""
    m0, m1, hz = rec.get("machine0"), rec.get("machine1"), rec.get("hz", 100)
    res = rec.get("res", {})
    el = res.get("elapsed_s") or 0
    if not m0 or not m1 or not el:
        return None, None
    busy = (m1[0] - m0[0]) / hz
    ours = sum(rec.get("ticks", {}).values()) / hz + rec.get("be_ticks", 0) / hz \
        + res.get("cpu_user_s", 0.0) + res.get("cpu_sys_s", 0.0)
    other = max(0.0, busy - ours) / el * 100
    total = m1[2] - m0[2]
    return other, (100.0 * (m1[1] - m0[1]) / total if total > 0 else 0.0)


def us_per_hs(rec, nodes):
    hs = rec["res"].get("handshakes") or 0
    if not hs:
        return None
    return sum(rec["ticks"][n] for n in nodes) / rec["hz"] / hs * 1e6


def verdict(ok):
    if ok is None:
        return "no data"
    return ("yes" if ok else "**no**") + (" (smoke run)" if QUICK else "")


def ents(rec):
    out = {}
    for part in rec.get("entities", "").split(";"):
        if part.strip():
            p, n = part.split()
            out[p] = n
    return out


md = []
w = md.append
w("## Cluster-wide balancing: pick latency and handshake cost")
w("")
if QUICK:
    w("> **Smoke run (`bench/balancing.sh --quick`), not for comparison.** Short durations, one round, on a machine "
      "other jobs were using. It shows that the harness works and what it finds, not how ActorTls performs. The "
      "numbers for comparison come from a full run (`bench/balancing.sh`) on an otherwise idle machine.")
    w("")
w(f"Generated by `{meta['invocation']}` on {meta['date']} from ActorTls commit {meta['commit']}; every number in this "
  "section is computed by `bench/balancing_report.py` from `bench/run/balancing-bench/results.jsonl` and the nodes' "
  "logs. Regenerate instead of editing.")
w("")

# ---------------------------------------------------------------------------------------------- test 2 numbers first
cost = [r for r in records if r["kind"] == "cost"]


def cost_summary(where):
    recs = [r for r in cost if r["test"] == "cost-" + where]
    if not recs:
        return None
    node = recs[0]["node"]
    lc_host = meta.get("lc_host")
    by = {"lc": [r for r in recs if r["pool"] == "lc"], "lcnode": [r for r in recs if r["pool"] == "lcnode"]}
    rounds = sorted({r["round"] for r in recs})
    per_round = []
    for rd in rounds:
        a = next((r for r in by["lc"] if r["round"] == rd), None)
        b = next((r for r in by["lcnode"] if r["round"] == rd), None)
        if a and b:
            per_round.append((rd, a, b))
    return {"node": node, "lc_host": lc_host, "by": by, "per_round": per_round}


def ratio_cells(s, f):
    """ratio of medians, and the range of the per-round ratios"""
    ma = med([f(r) for r in s["by"]["lc"]])
    mb = med([f(r) for r in s["by"]["lcnode"]])
    rs = [f(a) / f(b) for _, a, b in s["per_round"] if f(a) and f(b)]
    if ma is None or not mb:
        return None, "–"
    text = f"{ma / mb:.3f}"
    if len(rs) > 1:
        text += f" (per round {min(rs):.3f}–{max(rs):.3f})"
    return ma / mb, text


def hs_rate(r):
    return r["res"].get("hs_per_s")


S_REMOTE = cost_summary("remote")
S_LOCAL = cost_summary("local")

w("### Targets (issue 4)")
w("")
w("| target | measured | limit | met |")
w("|---|---|---|---|")
for s, label in ((S_REMOTE, "entity on another node"), (S_LOCAL, "entity on this node")):
    if not s:
        continue
    n = s["node"]
    rr, rtext = ratio_cells(s, hs_rate)
    cr, ctext = ratio_cells(s, lambda r: us_per_hs(r, [n]))
    w(f"| full-handshake rate on node {n} ({label}), scope cluster / scope node | {rtext} | ≥ {1 - COST_TARGET:.2f} | "
      f"{verdict(None if rr is None else rr >= 1 - COST_TARGET)} |")
    w(f"| server CPU per full handshake on node {n} ({label}), scope cluster / scope node | {ctext} | ≤ {1 + COST_TARGET:.2f} | "
      f"{verdict(None if cr is None else cr <= 1 + COST_TARGET)} |")
    if n != s["lc_host"]:
        ar, atext = ratio_cells(s, lambda r: us_per_hs(r, NODES))
        w(f"| server CPU per full handshake on node {n}, all three nodes counted (the entity's work on "
          f"{s['lc_host']} included), scope cluster / scope node | {atext} | ≤ {1 + COST_TARGET:.2f} | "
          f"{verdict(None if ar is None else ar <= 1 + COST_TARGET)} |")
w("")
w("Ratios divide the medians over the rounds; the per-round range divides each round's two measurements (taken one "
  "after the other, the order alternating).")
w("")
if S_REMOTE and S_REMOTE["lc_host"] in NODES:
    n, h = S_REMOTE["node"], S_REMOTE["lc_host"]
    d_node = med([us_per_hs(r, [n]) for r in S_REMOTE["by"]["lc"]]) - med([us_per_hs(r, [n]) for r in S_REMOTE["by"]["lcnode"]])
    d_ent = med([us_per_hs(r, [h]) for r in S_REMOTE["by"]["lc"]]) - med([us_per_hs(r, [h]) for r in S_REMOTE["by"]["lcnode"]])
    w(f"In short: with the entity on another node, every connection's pick cost the loaded node {d_node:.0f} µs of CPU "
      f"more than a node-scope pick (difference of the medians) and the entity's node {d_ent:.0f} µs, against "
      f"{med([us_per_hs(r, [n]) for r in S_REMOTE['by']['lcnode']]):.0f} µs for the whole connection with scope node. "
      "Each such connection sends three messages across the cluster channel (Pick, the answer, and the Release when it "
      "ends); the entity also sends its view with the counts to every gateway, at most once a second.")
    w("")

# ---------------------------------------------------------------------------------------------- setup
w("### Setup")
w("")
w(f"- Machine: {meta['cpu_model']}, `nproc` = {meta['nproc']}, {meta['mem']}; {meta['kernel']}; {meta['os']}")
w(f"- OpenSSL: {meta['openssl_cli']} (CLI, tlsload); ActorTls loads {meta.get('actortls_openssl') or '?'}")
w(f"- Java: {meta['java']} (`{meta['java_bin']}`); every node runs with `ACTORTLS_JAVA_OPTS=\"{meta['java_opts']}\"`; "
  "Pekko 1.7 (Cluster Sharding, Artery over TLS 1.3 with mutual authentication)")
w(f"- Load average (1, 5, 15 min) at the start: {meta['load_start']}; at the end: {meta['load_end']} "
  "(this run's own processes included). Other jobs' CPU during the runs: see Measurement quality.")
w("- No CPU pinning: the three nodes, the three backends and tlsload share both CPUs.")
w(f"- Parameters: {meta['params']}.")
w(f"- Ports: {meta['ports']}.")
w("- Three ActorTls nodes (separate JVMs on 127.0.0.1, one cluster; x1 is the seed) with one listener and three "
  "vhosts chosen by SNI, each with a pool of its own over the same three `backend` processes (../shared/bench, one "
  "thread each): `lc` (leastconn, `scope = \"cluster\"`), `rr` (roundrobin, `scope = \"cluster\"`) and `lcnode` "
  "(leastconn, `scope = \"node\"`: the node decides from its own connections, as a static terminator does, and "
  "does not ask the entity; its gateway still reports each ended lease to the entity, see test 2). The A/B of test 2 therefore switches only the SNI, in the same JVMs (same JIT state, "
  "same servers); every other key keeps its documented default, except `log.stats-interval = 1s`.")
w("- Every pool is one Cluster Sharding entity; its node is read from the newest `pool entity started` line "
  "(field node) and, per run, from which node logged the entity's `pool stats` line during the run.")
pl = next((r for r in records if r["kind"] == "placement" and r["test"] == "after-warmup"), None)
if pl:
    w(f"- Entities after the warm-up: {pl['entities'].replace(';', ', ').strip(', ')} (settled, i.e. no entity "
      f"started and no shard rebalance began for {meta.get('settle_quiet', '?')} s: {pl['settled']}, after "
      f"{pl['waited_s']} s of waiting beyond the warm-up).")
w("")

# ---------------------------------------------------------------------------------------------- test 1
w("### 1. Pick latency at a steady rate, connections spread over the three nodes")
w("")
peak = next((r for r in records if r["kind"] == "peak"), None)
cal = [r for r in records if r["kind"] == "calibrate"]
picks = [r for r in records if r["kind"] == "picks"]
if peak:
    w(f"Peak: {peak['res'].get('hs_per_s', 0):.0f} handshakes/s (pool lc, {peak['res'].get('conns')} connections, "
      "round robin over x1–x3). tlsload has no rate limit, so the steady load is a fixed number of connections, each "
      "opening its next one when the last closes, chosen to give about half the peak: "
      + ", ".join(f"{r['conns']} → {r['res'].get('hs_per_s', 0):.0f}/s" for r in cal)
      + f"; used: **{meta['steady_conns']} connection(s)** for every pool. With a fixed number of connections the rate "
      "of a pool falls as its pick latency grows (the pick lies in each connection's path), so the rates below differ "
      "by pool.")
    w("")
w("Pick latency is what each node's gateway logs once a second (`pool picks`): from the connection's request "
  "(after its handshake) until the server is known, i.e. for scope cluster the gateway → entity → gateway round trip "
  "(over Artery TLS when the entity is remote, plus both actors' mailboxes), for scope node the local decision. "
  f"Cells: the median over the one-second windows (windows with fewer than {MIN_PICKS} picks left out) and, in "
  "parentheses, the lowest and highest window; max is the largest single pick. Client latency is tlsload's, per "
  "connection (connect, handshake, GET of 1 KiB through the picked server), over the whole run.")
w("")
w("| pool | node | entity | handshakes/s (all nodes) | picks | pick p50 µs | pick p99 µs | pick max µs | decided locally after a timeout | client p50 / p99 ms |")
w("|---|---|---|---|---|---|---|---|---|---|")
moved = []
for pool, alg, scope in POOLS:
    recs = [r for r in picks if r["pool"] == pool]
    if not recs:
        continue
    hosts = set()
    for r in recs:
        h = hosts_in(r, pool)
        hosts.update(h)
        if len(h) > 1:
            moved.append((pool, r["round"], h))
    rate = med([r["res"].get("hs_per_s") for r in recs])
    cl50 = med([r["res"].get("lat_us", {}).get("p50") for r in recs])
    cl99 = med([r["res"].get("lat_us", {}).get("p99") for r in recs])
    first = True
    for n in NODES:
        ws = [kv for r in recs for kv in picks_of(r, n, pool)]
        full = [kv for kv in ws if int(kv["picks"]) >= MIN_PICKS]
        total = sum(int(kv["picks"]) for kv in ws)
        p50 = cell([int(kv["p50_us"]) for kv in full], ".0f")
        p99 = cell([int(kv["p99_us"]) for kv in full], ".0f")
        mx = max([int(kv["max_us"]) for kv in ws], default=None)
        loc = sum(local_decisions(r, n, pool) for r in recs)
        if scope == "node":
            ent = "not asked (scope node)"
        elif len(hosts) == 1:
            ent = "**local**" if n in hosts else f"remote ({next(iter(hosts))})"
        else:
            ent = "moved: " + ", ".join(sorted(hosts))
        lead = f"`{pool}` ({alg}, {scope})" if first else ""
        rate_cell = f"{rate:.0f}" if first and rate is not None else ""
        client = f"{cl50 / 1000:.1f} / {cl99 / 1000:.1f}" if first and cl50 is not None else ""
        w(f"| {lead} | {n} | {ent} | {rate_cell} | {total:,} | {p50} | {p99} | {mx if mx is not None else '–'} | {loc} | {client} |")
        first = False
w("")
shares = []
for pool, _, _ in POOLS:
    counts = {}
    for r in picks:
        if r["pool"] == pool:
            for s, c in servers_used(r, pool).items():
                counts[s] = counts.get(s, 0) + c
    tot = sum(counts.values())
    if tot:
        shares.append(f"`{pool}` " + " / ".join(f"{s} {100 * c / tot:.1f} %" for s, c in sorted(counts.items(), key=lambda x: str(x[0]))))
if shares:
    w("Connections per server over these runs (access-log lines of all three nodes): " + "; ".join(shares) + ".")
    w("")
if moved:
    w("**An entity moved during a run** (its stats line came from more than one node): "
      + "; ".join(f"{p} round {rd}: {', '.join(h)}" for p, rd, h in moved) + ".")
    w("")

# ---------------------------------------------------------------------------------------------- test 2
w("### 2. Full-handshake rate and server CPU on one node: scope cluster against scope node")
w("")
w("tlsload sends 32 connections (TLS 1.3 full handshake, GET of 1 KiB, close) to ONE node; pool `lc` "
  "(leastconn, scope cluster: every connection's pick asks the entity) and pool `lcnode` (leastconn, scope node) "
  "alternate A/B then B/A per round, with the same servers, in the same JVMs. Server CPU = the change in utime+stime "
  "of the node's JVM (`/proc/PID/stat`) over the run divided by the handshakes tlsload completed; \"all three nodes\" "
  "adds the other two JVMs (the entity's work, gossip, and their idle cost). Cells: median (min–max) over the rounds.")
w("")
for s, label in ((S_REMOTE, "the pool's entity on another node (remote picks, the worst case)"),
                 (S_LOCAL, "the pool's entity on this node (local picks)")):
    if not s:
        continue
    n = s["node"]
    w(f"#### Node {n}: {label}")
    w("")
    hosts = {p: set() for p in ("lc", "lcnode")}
    for r in s["by"]["lc"] + s["by"]["lcnode"]:
        for p in hosts:
            hosts[p].update(hosts_in(r, p))
    lcn = ", ".join(sorted(hosts["lcnode"])) or "?"
    w(f"Entity of `lc` during these runs: {', '.join(sorted(hosts['lc'])) or '?'}"
      + (" (**it moved**)" if len(hosts["lc"]) > 1 else "") + f"; entity of `lcnode`: {lcn}"
      + (" (**it moved**)" if len(hosts["lcnode"]) > 1 else "") + ".")
    if hosts["lcnode"] and n not in hosts["lcnode"]:
        w("")
        w(f"Note: a node-scope pool picks on the node, but its gateway still sends every ended lease to the pool's "
          f"entity (`PoolEntity.Release`, which the entity ignores for leases it did not grant); with `lcnode`'s "
          f"entity on {lcn}, the scope-node baseline here also sends one message per connection to another node, "
          f"and {lcn}'s CPU for it shows in the row of that node.")
    w("")
    w("| | scope cluster (`lc`) | scope node (`lcnode`) | cluster / node |")
    w("|---|---|---|---|")
    rows = [("handshakes/s", hs_rate, ".0f"),
            (f"server CPU µs per handshake, {n} (the loaded node)", lambda r: us_per_hs(r, [n]), ".0f")]
    for o in NODES:
        if o == n:
            continue
        what = [f"`{p}`" for p in ("lc", "lcnode") if o in hosts[p]]
        label = f"CPU of {o} µs per handshake" + (f" (hosts the entity of {' and '.join(what)})" if what else " (hosts neither)")
        rows.append((label, (lambda o: lambda r: us_per_hs(r, [o]))(o), ".0f"))
    rows.append(("server CPU µs per handshake, all three nodes", lambda r: us_per_hs(r, NODES), ".0f"))
    for name, f, spec in rows:
        a = cell([f(r) for r in s["by"]["lc"]], spec)
        b = cell([f(r) for r in s["by"]["lcnode"]], spec)
        _, rt = ratio_cells(s, f)
        w(f"| {name} | {a} | {b} | {rt} |")
    p50 = {p: cell([int(kv["p50_us"]) for r in s["by"][p] for kv in picks_of(r, n, p) if int(kv["picks"]) >= MIN_PICKS], ".0f")
           for p in ("lc", "lcnode")}
    p99 = {p: cell([int(kv["p99_us"]) for r in s["by"][p] for kv in picks_of(r, n, p) if int(kv["picks"]) >= MIN_PICKS], ".0f")
           for p in ("lc", "lcnode")}
    w(f"| pick p50 µs on {n} (per-second windows) | {p50['lc']} | {p50['lcnode']} | |")
    w(f"| pick p99 µs on {n} (per-second windows) | {p99['lc']} | {p99['lcnode']} | |")
    cl = {p: cell([r["res"].get("lat_us", {}).get("p50", 0) / 1000 for r in s["by"][p]], ".1f") for p in ("lc", "lcnode")}
    w(f"| client latency p50 ms | {cl['lc']} | {cl['lcnode']} | |")
    loc = sum(local_decisions(r, n, "lc") for r in s["by"]["lc"])
    w(f"| picks decided locally after an entity timeout | {loc} | – | |")
    w(f"| client-side errors, all rounds | {sum(errors(r) for r in s['by']['lc'])} | "
      f"{sum(errors(r) for r in s['by']['lcnode'])} | |")
    w("")
    w("Per round (in the order run; the last column: CPU of processes outside this benchmark during each run, in % "
      "of one CPU):")
    w("")
    w(f"| round | order | `lc` handshakes/s | `lcnode` handshakes/s | rate ratio | `lc` µs/hs ({n}) | `lcnode` µs/hs ({n}) | CPU ratio | other processes' CPU, `lc` / `lcnode` run |")
    w("|---|---|---|---|---|---|---|---|---|")
    for rd, a, b in s["per_round"]:
        order = "lc, lcnode" if cost.index(a) < cost.index(b) else "lcnode, lc"
        ca, cb = us_per_hs(a, [n]), us_per_hs(b, [n])
        da, db = disturbance(a)[0], disturbance(b)[0]
        dist = f"{da:.0f} % / {db:.0f} %" if da is not None and db is not None else "–"
        w(f"| {rd} | {order} | {hs_rate(a):.0f} | {hs_rate(b):.0f} | {hs_rate(a) / hs_rate(b):.3f} | {ca:.0f} | {cb:.0f} | {ca / cb:.3f} | {dist} |")
    w("")

# ---------------------------------------------------------------------------------------------- quality
w("### Measurement quality")
w("")
measured = [r for r in records if r["kind"] in ("picks", "cost")]
dist = [disturbance(r) for r in measured]
steals = [d[1] for d in dist if d[1] is not None]
for kinds, label in ((("peak", "calibrate"), "the peak and the calibration"), (("picks",), "test 1"), (("cost",), "test 2")):
    others = [d[0] for d in (disturbance(r) for r in records if r["kind"] in kinds) if d[0] is not None]
    if others:
        w(f"- CPU used by other processes during {label} (busy time in `/proc/stat` minus the three nodes, the "
          f"backends and tlsload, per run): median {statistics.median(others):.0f} %, max {max(others):.0f} % of one CPU"
          + (" — **the machine was not idle then; treat these numbers with suspicion**." if max(others) > 5 else "."))
if steals:
    w(f"- Hypervisor steal time: median {statistics.median(steals):.1f} %, max {max(steals):.1f} %.")
loads = [float(r["load"].split()[0]) for r in measured if r.get("load")]
if loads:
    w(f"- 1-minute load average when each measured run started: median {statistics.median(loads):.2f}, "
      f"min {min(loads):.2f}, max {max(loads):.2f} (includes this benchmark's own processes).")
w(f"- Connection closes by reason (access logs of x1–x3, whole run): {meta.get('x_closes') or '–'}; log lines at "
  f"WARN or ERROR: {meta.get('x_errors', '?')}, of which {meta.get('x_pick_timeouts', '?')} say that a pool entity "
  "did not answer within the pick-timeout (250 ms), so the node picked from its last view for 2 s (at startup, while "
  "an entity moves, or under overload; the column \"decided locally\" counts such picks inside the measured runs).")
if moved:
    w("- Pool entities moved during test 1 (see above).")
nonzero = [r for r in records if r.get("rc", 0) != 0]
if nonzero:
    w(f"- tlsload exited non-zero {len(nonzero)} time(s); see bench/run/balancing-bench/tlsload.err.")
w("- The pick percentiles are the gateway's own (`LatencyWindow`: the newest 16,384 picks per second and node, "
  "sorted); percentiles of one-second windows are summarized, not merged.")
w("")

# ---------------------------------------------------------------------------------------------- commands
w("### Exact commands")
w("")
w("```sh")
w(meta["invocation"] + "    # from the repository root")
w("```")
w("")
w("```")
w(re.sub(r"-cp (\S+?\.jar)\S*", r"-cp \1:<the jars listed in src/node/target/classpath.txt>",
         rel(meta["actortls_cmdline"]).strip()) + "    # node x1 (x2, x3 alike, each with its own config)")
w(f"bench/run/balancing-bench/backend -p PORT -t 1    # be1-be3")
w("```")
w("")
w("Load (one line per distinct command; D = the duration, N = the connections):")
w("")
w("```")
seen = set()
for r in records:
    if r["kind"] in ("warmup", "peak", "calibrate", "picks", "cost") and "cmd" in r:
        c = re.sub(r"--conns \S+", "--conns N", re.sub(r"--duration \S+", "--duration D", r["cmd"]))
        if c not in seen:
            seen.add(c)
            w(c)
w("```")
w("")
w("ActorTls configuration of node x1 (`bench/run/balancing-bench/x1.conf`; x2, x3 differ in ports and key store):")
w("")
w("```hocon")
w(re.sub(r'(password = )"[^"]*"', r'\1"<bench/run/balancing-bench/pki/cluster/password>"', read("x1.conf")))
w("```")
print("\n".join(md))
