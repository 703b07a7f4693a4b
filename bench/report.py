#!/usr/bin/env python3
"""Turns bench/run/results.jsonl and meta.tsv (written by bench/run.sh), and bench/run/xnode/ (written by
`bench/cluster.sh --only resumption` for it), into the single-node section of docs/benchmarks.md, on stdout.

Every number in the output is computed here from the measurements; nothing is typed in by hand.
"""
import os
import re
import statistics
import sys

from reportlib import XSYS, fmt, load_run, quality, resumed_cell

R = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "run")
RABS = os.path.abspath(R)
SYSTEMS = [("actortls", "ActorTls"), ("haproxy", "HAProxy")]
HS_TESTS = [("full-ec13", "full handshake, TLS 1.3, ECDSA P-256"),
            ("full-rsa12", "full handshake, TLS 1.2, RSA-2048"),
            ("res-id12", "resumed handshake, TLS 1.2 session ID"),
            ("res-ticket12", "resumed handshake, TLS 1.2 ticket"),
            ("res-13", "resumed handshake, TLS 1.3 ticket")]
BULK_TESTS = [("bulk-get", "bulk GET"), ("bulk-echo", "bulk echo")]
XKINDS = [("id12", "TLS 1.2 session ID"), ("ticket12", "TLS 1.2 ticket"),
          ("stateful13", "TLS 1.3 stateful ticket"), ("stateless13", "TLS 1.3 stateless ticket")]
# The targets of issue 6 (ratios ActorTls / HAProxy of the same run, except the last two)
FULL_CPU_MAX = 1.0
RESUMED_CPU_MAX = 1.2
P99_MAX = 1.2
BULK_RATE_MIN = 0.8
BULK_CPU_MAX = 1.3
IDLE_MEM_MAX = 1.5
LEAK_GROWTH_MAX = 5.0       # %
XNODE_MIN = 0.995


meta, records = load_run(R)
xmeta, xrecords = load_run(os.path.join(R, "xnode"))
QUICK = meta.get("mode") == "quick"


def rel(text):
    """Paths inside the run directory, as the repository sees them."""
    repo = os.path.dirname(os.path.dirname(RABS))
    return text.replace(RABS + "/", "bench/run/").replace(RABS, "bench/run").replace(repo + "/", "")


def read(path):
    with open(os.path.join(R, path)) as f:
        return rel(f.read().rstrip("\n"))


# ---------------------------------------------------------------------------------------------- derived values
def handshakes(res):
    """Handshakes of a run: full mode counts them; resume mode counts resumption attempts and each slot's first."""
    return res.get("handshakes") or (res.get("resume_attempts", 0) + res.get("fresh", 0))


MEASURED = {(r["sys"], r["test"], r["round"]): r for r in records if r["kind"] == "measure"}


def cpu_per_hs(rec):
    n = handshakes(rec.get("res", {}))
    return rec["srv_ticks"] / rec["hz"] * 1e6 / n if n else None


def latency(res, q):
    """ms; of the resumed handshakes in a resume run (full ones are a different operation)."""
    lat = res.get("resumed_lat_us") if res.get("mode") == "resume" else res.get("lat_us")
    return lat[q] / 1000 if lat and lat.get("n") else None


def value(rec, metric):
    res, hz = rec.get("res", {}), rec.get("hz", 100)
    srv_s = rec.get("srv_ticks", 0) / hz
    if metric == "rate":
        return res.get("hs_per_s")
    if metric == "cpu_us_per_hs":
        return cpu_per_hs(rec)
    if metric == "resumed_frac":
        return res.get("resumed_frac")
    if metric == "cpu_us_net":
        # the non-resumed handshakes of the run at the cost of a full TLS 1.3 ECDSA handshake of the same system and
        # round, taken out; what is left, per resumed handshake
        full = MEASURED.get((rec["sys"], "full-ec13", rec["round"]))
        fc = full and cpu_per_hs(full)
        resumed = res.get("resumed") or 0
        if fc is None or not resumed:
            return None
        nonres = res.get("resume_attempts", 0) - resumed + res.get("fresh", 0)
        return (srv_s * 1e6 - nonres * fc) / resumed
    if metric == "conns":
        return rec.get("conns")
    if metric == "busy_pct":
        return 100.0 * srv_s / res["elapsed_s"] if res.get("elapsed_s") else None
    if metric == "load_pct":
        peak = MEASURED.get((rec["sys"], rec["test"].split("@")[0], rec["round"]))
        pr = peak and peak["res"].get("hs_per_s")
        return 100.0 * res["hs_per_s"] / pr if pr and res.get("hs_per_s") is not None else None
    if metric in ("p50", "p99"):
        return latency(res, metric)
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


def cell(values, spec):
    vals = list(values)
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{format(med, spec)} (n=1)"
    return f"{format(med, spec)} ({format(min(vals), spec)}–{format(max(vals), spec)})"


def ratio(metric, test):
    """(median ActorTls / median HAProxy, text with the range of the per-round ratios)"""
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


def metric_table(rows, err_tests):
    """rows: (label, test, metric, format[, False: no ratio]) -> markdown table with medians (min–max) and the
    ratio of the medians."""
    out = ["| | ActorTls | HAProxy | ActorTls / HAProxy |", "|---|---|---|---|"]
    for label, test, metric, spec, *compare in rows:
        cells = [cell(series(s, test, metric).values(), spec) for s, _ in SYSTEMS]
        r, spread = ratio(metric, test) if compare != [False] else (None, "")
        out.append(f"| {label} | {cells[0]} | {cells[1]} | {'' if compare == [False] else fmt(r, '.2f') + spread} |")
    errs = []
    for s, _ in SYSTEMS:
        e = [value(r, "errors") for r in records
             if r["sys"] == s and r["test"] in err_tests and r["kind"] in ("measure", "idle")]
        errs.append(str(sum(x for x in e if x is not None)))
    out.append(f"| client-side errors, all rounds | {errs[0]} | {errs[1]} | |")
    return "\n".join(out)


def leak_growth(rec, i):
    """(handshakes, RSS kB, growth %) at checkpoint i of a leak-rss record."""
    n, kb = rec["points"][i]
    return n, kb, 100.0 * (kb - rec["rss0_kb"]) / rec["rss0_kb"]


LEAK = {r["sys"]: r for r in records if r["kind"] == "leak-rss"}
XNODE = {(r["sys"], r["test"]): r for r in xrecords if r["kind"] == "xnode"}


def xfrac(sys_, kind):
    r = XNODE.get((sys_, kind))
    return None if not r else r["res"].get("resumed_frac")


# ---------------------------------------------------------------------------------------------- document
md = []
w = md.append
if QUICK:
    w("> **Smoke run (`bench/run.sh --quick`), not for comparison.** Short durations, one round, a leak check of a few "
      "thousand handshakes instead of 100,000 and 1,000,000, and measured while other jobs may have been using the "
      "same CPUs. It shows that the harness works, not how ActorTls performs. The numbers for comparison come from "
      "a full run (`bench/run.sh`) on an otherwise idle machine.")
    w("")
w("# ActorTls benchmarks")
w("")
w(f"Generated by `{meta['invocation']}` on {meta['date']} from ActorTls commit {meta['commit']} (the run took "
  f"{meta.get('minutes', '?')} min); every number below is computed by `bench/report.py` from `bench/run/results.jsonl` "
  "and `bench/run/xnode/results.jsonl`. Regenerate instead of editing.")
w("")

# ---- targets
targets = []   # (target, measured, limit, ok or None)


def verdict(ok):
    if ok is None:
        return "no data"
    v = "yes" if ok else "**no**"
    return v + (" (smoke run)" if QUICK else "")


def ratio_target(label, metric, test, limit, at_most=True, note=""):
    r, spread = ratio(metric, test)
    ok = None if r is None else (r <= limit if at_most else r >= limit)
    targets.append((label, f"{fmt(r, '.2f')}×{spread}{note}", f"{'≤' if at_most else '≥'} {limit}×", ok))


def fractions(test):
    """Median resumed fractions, ActorTls / HAProxy."""
    meds = [series(s, test, "resumed_frac").values() for s, _ in SYSTEMS]
    return " / ".join(fmt(statistics.median(m) if m else None, ".3f") for m in meds)


for test, label in HS_TESTS[:2]:
    ratio_target(f"server CPU per {label}", "cpu_us_per_hs", test, FULL_CPU_MAX)
for test, label in HS_TESTS[2:]:
    net, _ = ratio("cpu_us_net", test)
    ratio_target(f"server CPU per {label} (per handshake; the net estimate and the resumed fractions ActorTls / "
                 "HAProxy beside it)", "cpu_us_per_hs", test, RESUMED_CPU_MAX,
                 note=f"; net {fmt(net, '.2f')}×; resumed {fractions(test)}")
for test, label in HS_TESTS:
    ratio_target(f"p99 latency at about half load, {label}", "p99", test + "@half", P99_MAX)
for test, label in BULK_TESTS:
    ratio_target(f"{label} throughput (4 connections)", "mb_per_s", test, BULK_RATE_MIN, at_most=False)
for test, label in BULK_TESTS:
    ratio_target(f"{label}, server CPU per GB", "cpu_s_per_gb", test, BULK_CPU_MAX)
heap_known = bool(series("actortls", "idle", "heap_mb_per_1000"))
ratio_target("memory per 1,000 idle TLS connections (" + ("RSS + live Java heap" if heap_known else "RSS") + ")",
             "mem_mb_per_1000", "idle", IDLE_MEM_MAX)
la, lh = LEAK.get("actortls"), LEAK.get("haproxy")
if la:
    n, _, g = leak_growth(la, -1)
    gh = leak_growth(lh, -1)[2] if lh else None
    targets.append((f"ActorTls RSS growth after {n:,} full handshakes (HAProxy: {fmt(gh, '+.2f')} %)"
                    + (" — smoke run: not 1,000,000" if QUICK else ""), f"{g:+.2f} %", f"< {LEAK_GROWTH_MAX:g} %",
                    g < LEAK_GROWTH_MAX))
else:
    targets.append(("ActorTls RSS growth after 1,000,000 full handshakes", "–", f"< {LEAK_GROWTH_MAX:g} %", None))
for kind, label in XKINDS:
    f = xfrac("actortls", kind)
    hs, hd = xfrac("haproxy-shared", kind), xfrac("haproxy-default", kind)
    targets.append((f"cross-node resumed fraction over 3 ActorTls nodes, {label} (HAProxy pair: shared keys "
                    f"{fmt(hs, '.3f')}, default keys {fmt(hd, '.3f')})", fmt(f, ".4f"), f"≥ {XNODE_MIN}",
                    None if f is None else f >= XNODE_MIN))

w("## Targets (issue 6)")
w("")
met = sum(1 for t in targets if t[3])
w(f"{met} of {len(targets)} targets met" + (" in this smoke run" if QUICK else "") + ". Ratios are ActorTls / HAProxy "
  "of the medians over the rounds of this run (the per-round range in parentheses).")
w("")
w("| target | measured | limit | met |")
w("|---|---|---|---|")
for label, measured, limit, ok in targets:
    w(f"| {label} | {measured} | {limit} | {verdict(ok)} |")
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
w(f"- CPU pinning of the single-node tests: {meta['pinning']}. HAProxy runs with `nbthread {meta['haproxy_nbthread']}` "
  "(one thread per CPU it may run on, unless BENCH_HAPROXY_NBTHREAD says otherwise); the JVM sizes its GC and "
  "compiler threads from the same affinity mask. The cross-node test is not pinned"
  + (f" ({xmeta.get('pinning')})" if xmeta else "") + ": three JVMs on one CPU starve.")
w(f"- ActorTls JVM: the launcher's flags plus `ACTORTLS_JAVA_OPTS=\"{meta['java_opts']}\"` (fixed, pre-touched heap, so "
  "that RSS changes show native memory and the heap's growth does not hide or fake a leak); log level "
  f"{meta['actortls_log_level']} (the default: one access-log line per connection, to a file; HAProxy likewise, with `option tcplog`, to its stdout redirected to a file).")
w(f"- Parameters: {meta['params']}; {meta['rounds']} A/B round(s), the order of the two systems alternating per round; "
  f"half-load calibration: {meta['cal']}; leak check: RSS after {' and '.join(f'{int(x):,}' for x in meta['leak_points'].split())} "
  "full handshakes.")
w("")
w("## Method")
w("")
w("Load comes from `tlsload` (../shared/bench), plaintext answers from its `backend`; both are built from source by the "
  "script. Both terminators run side by side with the same certificates (one test CA, EC P-256 and RSA-2048 leaves), "
  "the same backend, and the same TLS settings (session cache and tickets on: ActorTls's default `resumption = "
  "\"both\"`, HAProxy's defaults); only one of them is loaded at a time. **Server CPU** is the change in utime+stime "
  "of the server process (`/proc/PID/stat`) over a tlsload run, divided by the handshakes (or bytes) tlsload "
  "counted. **Memory** is VmRSS from `/proc/PID/status`. Cells show the median and, in parentheses, the "
  "minimum–maximum over the rounds; the ratio column divides the medians, and gives the range of the per-round "
  "ActorTls/HAProxy ratios.")
w("")
w("- **Peak**: 32 connections, each opening the next as soon as the last closes; rate and server CPU per handshake "
  "come from these runs.")
w("- **Half load, latency**: tlsload is closed-loop (no rate option), so the load is a number of connections. In round "
  "1, after the peak runs, each system is given 1, 2, 3, … connections (a short run each) until its rate reaches half "
  "of its own peak; the count whose rate lay nearest 50 % of the peak is used for that system and test in every "
  "round. The table gives the count, the rate reached, its share of the same round's peak, and how busy the "
  "server's CPU was. Where one connection already gives more than half the peak, that is the lowest load a "
  "closed-loop client offers, and the share says so; where the server is far from busy at the peak, the peak is the "
  "client's (tlsload and the backend share one CPU). Latency is tlsload's: from the TCP connect to the end of the "
  "client's handshake.")
w("- **Resumed handshakes** (`tlsload resume`, one instance: every connection offers the session its previous one "
  "got, and sends a `GET /0`, which makes the server send its tickets): the server CPU is divided by all handshakes "
  "of the run (resumption attempts plus each connection's first, full, one), so a system that resumes fewer of them "
  "pays full handshakes in that figure; the resumed fraction stands next to it (tlsload, like browsers, uses a TLS "
  "1.3 ticket once, so a server that sends no new ticket after a resumption resumes only every second connection; "
  "HAProxy does so with a shared `tls-ticket-keys` file, see the cross-node table). The **net** row estimates the CPU per resumed handshake alone: the run's non-resumed handshakes, "
  "charged at the same system's TLS 1.3 ECDSA full-handshake cost of the same round, are taken out. Latency rows "
  "of these tests are of the resumed handshakes only.")
w("- **Bulk**: 4 connections each move 64 MiB (GET: download; echo: sent and echoed back through the backend); MB/s "
  "and GB count the payload bytes tlsload received (10⁶ and 10⁹ bytes), so in echo each byte counted also went the "
  "other way.")
w("")
w(f"ActorTls is warmed up (JIT) before the first round: {meta.get('warmup', '?')}, then a few seconds of every other "
  "test; HAProxy gets a short run of every test.")
w("")

# ---- results
for test, label in HS_TESTS:
    resume = test.startswith("res-")
    cmd = next((r["cmd"] for r in records if r["kind"] == "measure" and r["test"] == test), "")
    how = re.sub(r"^bench/run/tlsload (\w+) --targets \S+ ", r"\1 ", cmd)
    how = re.sub(r" --conns.*", "", how)
    w(f"## {label[0].upper() + label[1:]} (`{how}`)")
    w("")
    rows = [("handshakes/s at 32 connections" + (" (resumption attempts)" if resume else ""), test, "rate", ".0f"),
            ("server CPU µs per handshake", test, "cpu_us_per_hs", ".0f"),
            ("server busy at 32 connections, % of its CPU", test, "busy_pct", ".0f", False)]
    if resume:
        rows += [("resumed fraction", test, "resumed_frac", ".3f", False),
                 ("server CPU µs per resumed handshake, net (estimate, see Method)", test, "cpu_us_net", ".0f")]
    rows += [("half load: connections", test + "@half", "conns", ".0f", False),
             ("half load: handshakes/s", test + "@half", "rate", ".0f"),
             ("half load: % of the round's peak rate", test + "@half", "load_pct", ".0f", False),
             ("half load: server busy, % of its CPU", test + "@half", "busy_pct", ".0f", False),
             ("half load: p50 latency, ms" + (" (resumed)" if resume else ""), test + "@half", "p50", ".2f"),
             ("half load: p99 latency, ms" + (" (resumed)" if resume else ""), test + "@half", "p99", ".2f")]
    if resume:
        rows.append(("half load: resumed fraction", test + "@half", "resumed_frac", ".3f", False))
    w(metric_table(rows, (test, test + "@half")))
    w("")
cal = [r for r in records if r["kind"] == "cal"]
if cal:
    w("Half-load calibration (round 1; handshakes/s per number of connections, and the peak it was measured against):")
    w("")
    w("| test | system | peak | ladder |")
    w("|---|---|---|---|")
    for test, label in HS_TESTS:
        for s, name in SYSTEMS:
            steps = [r for r in cal if r["test"] == test and r["sys"] == s]
            if steps:
                w(f"| {label} | {name} | {steps[0]['peak']:.0f} | " + ", ".join(
                    f"{r['conns']} → {fmt(r['res'].get('hs_per_s'), '.0f')}" for r in steps) + " |")
    w("")
for test, label in BULK_TESTS:
    w(f"## {label[0].upper() + label[1:]}, TLS 1.3, 4 connections × 64 MiB")
    w("")
    w(metric_table([("MB/s (10⁶ bytes)", test, "mb_per_s", ".0f"), ("server CPU s per GB", test, "cpu_s_per_gb", ".2f")],
                   (test,)))
    w("")
w("## Memory per 1,000 idle TLS connections (TLS 1.3, ECDSA)")
w("")
idle_rows = [("RSS growth, MB per 1,000 connections", "idle", "rss_mb_per_1000", ".1f")]
if heap_known:
    idle_rows.append(("live Java heap growth after full GC, MB per 1,000 (ActorTls only)", "idle", "heap_mb_per_1000", ".1f"))
    idle_rows.append(("RSS + live heap, MB per 1,000", "idle", "mem_mb_per_1000", ".1f"))
idle_rows.append(("connections established", "idle", "established", ".0f", False))
idle_rows.append(("connections still open at the end", "idle", "idle_open", ".0f", False))
w(metric_table(idle_rows, ("idle",)))
w("")
w("Each round starts a fresh instance of each server for this test (ports of their own), sends it a few "
  "handshakes with a 1 KiB GET, then opens the idle connections: both servers keep freed memory for reuse "
  "(HAProxy's pools, malloc's arenas), so on a process that has held many connections before, the RSS hardly "
  "moves. With a pre-touched fixed heap the JVM's RSS moves only with native memory (OpenSSL's SSL objects, buffers, "
  "thread stacks); the Java objects of the connections show up as the live heap after a full GC (`jcmd GC.run`, "
  "then `GC.heap_info`). Their sum is the comparable figure, and the target is judged on it; the ratio of the RSS "
  "row alone flatters ActorTls.")
w("")
w("## Native leak check: RSS after full handshakes (TLS 1.3, ECDSA, 32 connections)")
w("")
if QUICK:
    w(f"Smoke run: {' and '.join(f'{int(x):,}' for x in meta['leak_points'].split())} handshakes instead of 100,000 "
      "and 1,000,000.")
    w("")
w("The processes that ran the rounds (warm, their pools filled); RSS 2 s after each part. Cells: RSS (growth since the "
  "start of the check).")
w("")
planned = [int(x) for x in meta["leak_points"].split()]
w("| | RSS at the start | " + " | ".join(f"after {n:,} handshakes" for n in planned) + " |")
w("|---|---|" + "---|" * len(planned))
for s, name in SYSTEMS:
    r = LEAK.get(s)
    if not r:
        w(f"| {name} | – |" + " – |" * len(planned))
        continue
    parts = []
    for i, want in enumerate(planned[:len(r["points"])]):
        n, kb, g = leak_growth(r, i)
        parts.append(f"{kb / 1024:.1f} MB ({g:+.2f} %, {(kb - r['rss0_kb']) / 1024:+.1f} MB)"
                     + (f" — **only {n:,} handshakes** within the time bound" if n < want else ""))
    w(f"| {name} | {r['rss0_kb'] / 1024:.1f} MB | " + " | ".join(parts) + " |")
w("")

# ---- cross-node
w("## Cross-node resumption (3 ActorTls nodes; HAProxy pairs)")
w("")
if not xrecords:
    w("No data: `bench/run/xnode/` holds no results.")
    w("")
else:
    w(f"Test 1 of `bench/cluster.sh`, run by this script as `{meta['xnode_cmd']}` (generated {xmeta['date']}; its "
      f"parameters: {xmeta['params']}). `tlsload resume` round robin: the session a connection got from target k is "
      "offered to target k+1. ActorTls: three node processes of one cluster, one listener and two vhosts each "
      "(`both` = the default `resumption = \"both\"`, and `stateful`), chosen by SNI. HAProxy: two instances with a "
      "shared `tls-ticket-keys` file, and two with their default (per-process) keys, each with a second frontend "
      "with `no-tls-tickets` for the stateful kind. Cells: resumed fraction (resumed / attempts).")
    w("")
    w("| kind | " + " | ".join(name for _, name in XSYS) + " |")
    w("|---|" + "---|" * len(XSYS))
    for kind, label in XKINDS:
        w(f"| {label} | " + " | ".join(resumed_cell(XNODE.get((s, kind))) for s, _ in XSYS) + " |")
    w("")
    w(f"ActorTls cluster: connection closes by reason {xmeta.get('x_closes') or '–'}; log lines at WARN or ERROR: "
      f"{xmeta.get('x_errors', '?')}.")
    w("")

# ---- quality
w("## Measurement quality")
w("")
for during, recs in (("during the single-node tests", records), ("during the cross-node test", xrecords)):
    lines, dist = quality(recs, ("measure", "leak", "xnode"), during)
    md.extend(lines)
    bad = [(r, o) for r, o, _ in dist if o is not None and o > 10]
    if bad:
        w(f"- Runs {during} in which other processes used more than 10 % of a CPU: " + "; ".join(
            f"{r['sys']} {r['test']}" + (f" round {r['round']}" if r["kind"] == "measure" else "")
            + f" ({o:.0f} %)" for r, o in bad) + ".")
w(f"- ActorTls connection closes by reason (its access log, whole run): {meta.get('actortls_closes') or '–'}; "
  f"log lines at WARN or ERROR: {meta.get('actortls_errors', '?')}.")
nonzero = [r for r in records if r["kind"] in ("measure", "cal", "leak", "warmup") and r.get("rc", 0) != 0]
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
w(re.sub(r"-cp (\S+?\.jar)\S*", r"-cp \1:<the jars listed in src/node/target/classpath.txt>",
         rel(meta["actortls_cmdline"]).strip()) + "    # ActorTls (ACTORTLS_JAVA_OPTS=\"" + meta["java_opts"] + "\")")
w(rel(meta["haproxy_cmdline"]).strip() + "    # HAProxy")
w(rel(meta["backend_cmdline"]).strip() + "    # backend")
w(meta["xnode_cmd"] + "    # the cross-node test")
w("```")
w("")
w("Load (one line per test and system; `--duration`/`--requests` as listed; the half-load lines with each system's "
  "connection count):")
w("")
w("```")
seen = set()
for r in records + xrecords:
    key = (r["kind"], r.get("of", r["sys"]), r["test"])
    if r["kind"] in ("measure", "idle-warm", "idle", "leak", "xnode") and key not in seen:
        seen.add(key)
        w(r["cmd"])
w("```")
w("")
w("ActorTls configuration (`bench/run/actortls.conf`, on top of the documented defaults in `pekko.hocon`):")
w("")
w("```hocon")
w(re.sub(r'(password = )"[^"]*"', r'\1"<bench/run/cluster/password>"', read("actortls.conf")))
w("```")
w("")
w("HAProxy configuration (`bench/run/haproxy.cfg`):")
w("")
w("```")
w(read("haproxy.cfg"))
w("```")
if xrecords:
    w("")
    w("Cross-node test: ActorTls node x1 (`bench/run/xnode/x1.conf`; x2 and x3 differ in ports and key store) and "
      "HAProxy hs1 (`bench/run/xnode/hs1.cfg`; hd1 and hd2 have no `tls-ticket-keys`):")
    w("")
    w("```hocon")
    w(re.sub(r'(password = )"[^"]*"', r'\1"<bench/run/xnode/pki/cluster/password>"', read("xnode/x1.conf")))
    w("```")
    w("")
    w("```")
    w(read("xnode/hs1.cfg"))
    w("```")
print("\n".join(md))
