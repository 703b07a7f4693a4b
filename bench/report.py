#!/usr/bin/env python3
"""Turns bench/run/results.jsonl and meta.tsv (written by bench/run.sh) into docs/benchmarks.md on stdout.

Every number in the output is computed here from the measurements; nothing is typed in by hand.
"""
import json
import os
import statistics
import sys

R = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "run")
SYSTEMS = [("actortls", "ActorTls"), ("haproxy", "HAProxy")]

meta = {}
with open(os.path.join(R, "meta.tsv")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("\t")
        meta[k] = v
records = [json.loads(l) for l in open(os.path.join(R, "results.jsonl")) if l.strip()]
QUICK = meta.get("mode") == "quick"


RABS = os.path.abspath(R)


def rel(text):
    """Paths inside the run directory, as the repository sees them."""
    return text.replace(RABS + "/", "bench/run/").replace(RABS, "bench/run")


def read(name):
    with open(os.path.join(R, name)) as f:
        return rel(f.read().rstrip("\n"))


# ---------------------------------------------------------------------------------------------- derived values
def client_cpu(res):
    return res.get("cpu_user_s", 0.0) + res.get("cpu_sys_s", 0.0)


def disturbance(rec):
    """(other processes' CPU in % of one core, steal %) during one tlsload run."""
    m0, m1, hz = rec.get("machine0"), rec.get("machine1"), rec.get("hz", 100)
    res = rec.get("res", {})
    el = res.get("elapsed_s") or 0
    if not m0 or not m1 or not el:
        return None, None
    busy = (m1[0] - m0[0]) / 100.0          # /proc/stat counts USER_HZ (100) ticks
    ours = rec["srv_ticks"] / hz + rec.get("be_ticks", 0) / hz + client_cpu(res)
    other = max(0.0, busy - ours) / el * 100
    total = m1[2] - m0[2]
    steal = 100.0 * (m1[1] - m0[1]) / total if total > 0 else 0.0
    return other, steal


def value(rec, metric):
    res, hz = rec.get("res", {}), rec.get("hz", 100)
    srv_s = rec.get("srv_ticks", 0) / hz
    if metric == "rate":
        return res.get("hs_per_s")
    if metric == "cpu_us_per_hs":
        n = res.get("handshakes") or 0
        return srv_s * 1e6 / n if n else None
    if metric == "mb_per_s":
        return res.get("mb_per_s")
    if metric == "cpu_s_per_gb":
        b = res.get("bytes_rx") or 0
        return srv_s / (b / 1e9) if b else None
    if metric == "errors":
        return sum(res.get("errors", {}).values()) if "errors" in res else None
    n = res.get("established") or 0
    if metric == "rss_mb_per_1000":
        return (rec["rss1_kb"] - rec["rss0_kb"]) / 1024 * 1000 / n if n else None
    if metric == "heap_mb_per_1000":
        if rec.get("heap0_kb") is None or rec.get("heap1_kb") is None or not n:
            return None
        return (rec["heap1_kb"] - rec["heap0_kb"]) / 1024 * 1000 / n
    if metric == "mem_mb_per_1000":
        rss = value(rec, "rss_mb_per_1000")
        heap = value(rec, "heap_mb_per_1000")
        return None if rss is None else rss + (heap or 0)
    if metric == "idle_open":
        return res.get("open_at_end")
    if metric == "established":
        return res.get("established")
    raise KeyError(metric)


def series(sys_, test, metric):
    """{round: value} over the measured rounds."""
    out = {}
    for r in records:
        if r["sys"] == sys_ and r["test"] == test and r["kind"] in ("measure", "idle"):
            v = value(r, metric)
            if v is not None:
                out[r["round"]] = v
    return out


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def cell(values, spec):
    vals = list(values)
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{format(med, spec)} (n=1)"
    return f"{format(med, spec)} ({format(min(vals), spec)}–{format(max(vals), spec)})"


def ratio(metric, test):
    a, h = series("actortls", test, metric), series("haproxy", test, metric)
    if not a or not h:
        return None, ""
    hm = statistics.median(h.values())
    if hm == 0:
        return None, ""
    r = statistics.median(a.values()) / hm
    paired = [a[k] / h[k] for k in sorted(a) if k in h and h[k]]
    spread = f" (per round {min(paired):.2f}–{max(paired):.2f})" if len(paired) > 1 else ""
    return r, spread


def metric_table(test, rows):
    """rows: (label, metric, format) -> markdown table with medians (min–max) and the ratio."""
    out = ["| | ActorTls | HAProxy | ActorTls / HAProxy |", "|---|---|---|---|"]
    for label, metric, spec in rows:
        cells = [cell(series(s, test, metric).values(), spec) for s, _ in SYSTEMS]
        r, spread = ratio(metric, test)
        out.append(f"| {label} | {cells[0]} | {cells[1]} | {fmt(r, '.2f')}{spread} |")
    errs = []
    for s, _ in SYSTEMS:
        e = [value(r, "errors") for r in records if r["sys"] == s and r["test"] == test and r["kind"] in ("measure", "idle")]
        errs.append(str(sum(x for x in e if x is not None)))
    out.append(f"| client-side errors, all rounds | {errs[0]} | {errs[1]} | |")
    return "\n".join(out)


def leak_rows():
    rows = {}
    for r in records:
        if r["kind"] == "leak-rss":
            rows[r["sys"]] = r
        if r["kind"] == "leak":
            rows.setdefault(r["sys"] + ":run", r)
    return rows


# ---------------------------------------------------------------------------------------------- document
md = []
w = md.append
if QUICK:
    w("> **Smoke run (`bench/run.sh --quick`), not for comparison.** Short durations, one round, a small leak check,")
    w("> and measured while other jobs were using the same CPUs. It shows that the harness works, not how ActorTls")
    w("> performs. The numbers for comparison come from a full run (`bench/run.sh`) on an otherwise idle machine.")
    w("")
w("# ActorTls benchmarks")
w("")
w(f"Generated by `{meta['invocation']}` on {meta['date']} from ActorTls commit {meta['commit']}; "
  "every number below is computed by `bench/report.py` from `bench/run/results.jsonl`. Regenerate instead of editing.")
w("")

# ---- targets
ec_cpu, ec_spread = ratio("cpu_us_per_hs", "full-ec13")
bulk_r, bulk_spread = ratio("mb_per_s", "bulk-get")
lr = leak_rows()


def growth(s):
    r = lr.get(s)
    return None if not r else 100.0 * (r["rss1_kb"] - r["rss0_kb"]) / r["rss0_kb"]


g_a, g_h = growth("actortls"), growth("haproxy")


def verdict(ok):
    if ok is None:
        return "no data"
    v = "yes" if ok else "**no**"
    return v + (" (smoke run)" if QUICK else "")


w("## Targets")
w("")
w("| target (from the issue) | measured | limit | met |")
w("|---|---|---|---|")
w(f"| server CPU per full handshake, TLS 1.3 ECDSA, ActorTls / HAProxy | {fmt(ec_cpu, '.2f')}×{ec_spread} | ≤ 1.5× | "
  f"{verdict(None if ec_cpu is None else ec_cpu <= 1.5)} |")
w(f"| bulk GET throughput, ActorTls / HAProxy | {fmt(bulk_r, '.2f')}×{bulk_spread} | ≥ 0.5× | "
  f"{verdict(None if bulk_r is None else bulk_r >= 0.5)} |")
leak_n = lr.get("actortls:run", {}).get("res", {}).get("handshakes")
w(f"| ActorTls RSS growth over {fmt(leak_n, ',.0f')} full handshakes after warm-up (HAProxy: {fmt(g_h, '+.2f')} %) | "
  f"{fmt(g_a, '+.2f')} % | < 5 % | {verdict(None if g_a is None else g_a < 5)} |")
w("")

# ---- setup
w("## Machine and software")
w("")
w(f"- CPU: {meta['cpu_model']}, `nproc` = {meta['nproc']}; memory {meta['mem']}")
w(f"- Kernel: {meta['kernel']}; OS: {meta['os']}")
w(f"- OpenSSL: {meta['openssl_cli']} (CLI and tlsload); ActorTls loads {meta['actortls_openssl'] or '?'}; "
  f"HAProxy runs on {meta['haproxy_openssl']}")
w(f"- HAProxy: {meta['haproxy']}")
w(f"- Java: {meta['java']} (`{meta['java_bin']}`, chosen by the `actortls` launcher)")
w(f"- CPU pinning: {meta['pinning']}. HAProxy runs with `nbthread {meta['haproxy_nbthread']}` (one thread per CPU it "
  "may run on, unless BENCH_HAPROXY_NBTHREAD says otherwise); the JVM sizes its GC and compiler threads from the "
  "same affinity mask.")
w(f"- ActorTls JVM: the launcher's flags plus `ACTORTLS_JAVA_OPTS=\"{meta['java_opts']}\"` (fixed, pre-touched heap, so "
  "that RSS changes show native memory and the heap's growth does not hide or fake a leak); log level "
  f"{meta['actortls_log_level']} (the default: one access-log line per connection, to a file; HAProxy logs nothing).")
w(f"- Parameters: {meta['params']}; {meta['rounds']} A/B round(s), the order of the two systems alternating per round.")
w("")
w("## Method")
w("")
w("Load comes from `tlsload` (../shared/bench), plaintext answers from its `backend`; both are built from source by the "
  "script. Both terminators run side by side with the same certificates (one test CA, EC P-256 and RSA-2048 leaves), "
  "the same backend, and the same TLS settings; only one of them is loaded at a time. **Server CPU** is the "
  "change in utime+stime of the server process (`/proc/PID/stat`) over a tlsload run, divided by the handshakes "
  "(or bytes) tlsload counted. **Memory** is VmRSS from `/proc/PID/status`. Cells show the median and, in "
  "parentheses, the minimum–maximum over the rounds; the ratio column divides the medians, and gives the range of the "
  "per-round ActorTls/HAProxy ratios.")
w("")
w(f"ActorTls is warmed up (JIT) before the first round: {meta.get('warmup', '?')}, then TLS 1.2 RSA and bulk "
  "transfers; HAProxy gets 2 s of each test.")
w("")

# ---- results
w("## Full handshakes, TLS 1.3, ECDSA P-256 (X25519, TLS_AES_128_GCM_SHA256)")
w("")
w(metric_table("full-ec13", [("handshakes/s", "rate", ".0f"), ("server CPU µs per handshake", "cpu_us_per_hs", ".0f")]))
w("")
w("## Full handshakes, TLS 1.2, RSA-2048 (ECDHE-RSA-AES128-GCM-SHA256)")
w("")
w(metric_table("full-rsa12", [("handshakes/s", "rate", ".0f"), ("server CPU µs per handshake", "cpu_us_per_hs", ".0f")]))
w("")
w("## Bulk GET, TLS 1.3, 4 connections × 64 MiB")
w("")
w(metric_table("bulk-get", [("MB/s (10⁶ bytes)", "mb_per_s", ".0f"), ("server CPU s per GB", "cpu_s_per_gb", ".2f")]))
w("")
w("## Memory per 1,000 idle TLS connections (TLS 1.3, ECDSA)")
w("")
idle_rows = [("RSS growth, MB per 1,000 connections", "rss_mb_per_1000", ".1f")]
if series("actortls", "idle", "heap_mb_per_1000"):
    idle_rows.append(("live Java heap growth after full GC, MB per 1,000 (ActorTls only)", "heap_mb_per_1000", ".1f"))
    idle_rows.append(("RSS + live heap, MB per 1,000", "mem_mb_per_1000", ".1f"))
idle_rows.append(("connections established", "established", ".0f"))
idle_rows.append(("connections still open at the end", "idle_open", ".0f"))
w(metric_table("idle", idle_rows))
w("")
w("Each round starts a fresh instance of each server for this test (ports of their own), sends it a few "
  "handshakes with a 1 KiB GET, then opens the idle connections: both servers keep freed memory for reuse "
  "(HAProxy's pools, malloc's arenas), so on a process that has held many connections before, the RSS hardly "
  "moves. With a pre-touched fixed heap the JVM's RSS moves only with native memory (OpenSSL's SSL objects, buffers, "
  "thread stacks); the Java objects of the connections show up as the live heap after a full GC (`jcmd GC.run`, "
  "then `GC.heap_info`). Their sum is the comparable figure; the ratio of the RSS row alone flatters ActorTls.")
w("")
w("## Native leak check: RSS before and after full handshakes (TLS 1.3, ECDSA)")
w("")
w("| | warm-up handshakes | RSS after warm-up | handshakes measured | RSS after | growth |")
w("|---|---|---|---|---|---|")
for s, name in SYSTEMS:
    r = lr.get(s)
    warm = next((x for x in records if x["kind"] == "leak-warm" and x["sys"] == s), None)
    run = lr.get(s + ":run")
    if not r:
        w(f"| {name} | – | – | – | – | – |")
        continue
    g = 100.0 * (r["rss1_kb"] - r["rss0_kb"]) / r["rss0_kb"]
    w(f"| {name} | {fmt(warm and warm['res'].get('handshakes'), ',.0f')} | {r['rss0_kb'] / 1024:.1f} MB | "
      f"{fmt(run and run['res'].get('handshakes'), ',.0f')} | {r['rss1_kb'] / 1024:.1f} MB | "
      f"{g:+.2f} % ({(r['rss1_kb'] - r['rss0_kb']) / 1024:+.1f} MB) |")
w("")

# ---- quality
w("## Measurement quality")
w("")
dist = [(r, *disturbance(r)) for r in records if r["kind"] in ("measure", "leak")]
others = [d[1] for d in dist if d[1] is not None]
steals = [d[2] for d in dist if d[2] is not None]
if others:
    w(f"- CPU used by other processes on the machine during the measurements (busy time in `/proc/stat` minus the "
      f"server, backend and tlsload): median {statistics.median(others):.0f} %, max {max(others):.0f} % of one CPU"
      + (" — **the machine was not idle; treat these numbers with suspicion**." if max(others) > 5 else "."))
    bad = [(r, o) for r, o, _ in dist if o is not None and o > 10]
    if bad:
        w("- Measurements during which other processes used more than 10 % of a CPU: " + "; ".join(
            f"{dict(SYSTEMS)[r['sys']]} {r['test']}" + (f" round {r['round']}" if r["kind"] == "measure" else "")
            + f" ({o:.0f} %)" for r, o in bad) + ".")
if steals:
    w(f"- Hypervisor steal time: median {statistics.median(steals):.1f} %, max {max(steals):.1f} %.")
w(f"- ActorTls connection closes by reason (its access log, whole run): {meta.get('actortls_closes') or '–'}; "
  f"log lines at WARN or ERROR: {meta.get('actortls_errors', '?')}.")
nonzero = [r for r in records if r["kind"] in ("measure", "leak", "leak-warm", "warmup") and r.get("rc", 0) != 0]
if nonzero:
    w(f"- tlsload exited non-zero {len(nonzero)} time(s); see bench/run/tlsload.err.")
w("")

# ---- commands
w("## Exact commands")
w("")
w("```sh")
w(meta["invocation"] + "    # from the repository root")
w("```")
w("")
w("Processes (command lines read from `/proc/PID/cmdline`):")
w("")
w("```")
w(rel(meta["actortls_cmdline"]).strip() + "    # ActorTls (ACTORTLS_JAVA_OPTS=\"" + meta["java_opts"] + "\")")
w(rel(meta["haproxy_cmdline"]).strip() + "    # HAProxy")
w(rel(meta["backend_cmdline"]).strip() + "    # backend")
w("```")
w("")
w("Load (one line per test and system; `--duration`/`--requests` as listed):")
w("")
w("```")
seen = set()
for r in records:
    key = (r["kind"], r.get("of", r["sys"]), r["test"])
    if r["kind"] in ("measure", "idle-warm", "idle", "leak-warm", "leak") and key not in seen:
        seen.add(key)
        w(r["cmd"])
w("```")
w("")
w("ActorTls configuration (`bench/run/actortls.conf`, on top of the documented defaults in `pekko.hocon`):")
w("")
w("```hocon")
w(read("actortls.conf"))
w("```")
w("")
w("HAProxy configuration (`bench/run/haproxy.cfg`):")
w("")
w("```")
w(read("haproxy.cfg"))
w("```")
print("\n".join(md))
