"""Helpers shared by bench/report.py and bench/cluster_report.py (imported: both run as `python3 bench/X.py`, so
bench/ is on the module path)."""
import json
import os
import statistics

# The systems of the cross-node test (bench/cluster.sh test 1), in table order
XSYS = [("actortls", "ActorTls, 3 nodes of one cluster"), ("haproxy-shared", "HAProxy, 2 instances, shared `tls-ticket-keys`"),
        ("haproxy-default", "HAProxy, 2 instances, default keys")]


def load_run(run_dir):
    """(meta.tsv as a dict, results.jsonl as a list) of a run directory; ({}, []) if it has no meta.tsv."""
    meta = {}
    if not os.path.exists(os.path.join(run_dir, "meta.tsv")):
        return meta, []
    with open(os.path.join(run_dir, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    with open(os.path.join(run_dir, "results.jsonl")) as f:
        return meta, [json.loads(l) for l in f if l.strip()]


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def disturbance(rec):
    """(other processes' CPU in % of one CPU, steal %) during one tlsload run: the machine's busy time in /proc/stat
    minus the server process(es), the backend and tlsload."""
    m0, m1, hz = rec.get("machine0"), rec.get("machine1"), rec.get("hz", 100)
    res = rec.get("res", {})
    el = res.get("elapsed_s") or 0
    if not m0 or not m1 or not el:
        return None, None
    busy = (m1[0] - m0[0]) / 100.0          # /proc/stat counts USER_HZ (100) ticks
    servers = sum(rec["ticks"].values()) if "ticks" in rec else rec["srv_ticks"]
    ours = (servers + rec.get("be_ticks", 0)) / hz + res.get("cpu_user_s", 0.0) + res.get("cpu_sys_s", 0.0)
    other = max(0.0, busy - ours) / el * 100
    total = m1[2] - m0[2]
    return other, (100.0 * (m1[1] - m0[1]) / total if total > 0 else 0.0)


def quality(recs, kinds, during):
    """(markdown bullets on the CPU of other processes and the steal time during the runs of `kinds`, [(record, other
    processes' CPU %, steal %)])"""
    dist = [(r, *disturbance(r)) for r in recs if r["kind"] in kinds]
    others = [d[1] for d in dist if d[1] is not None]
    steals = [d[2] for d in dist if d[2] is not None]
    out = []
    if others:
        out.append(f"- CPU used by other processes {during} (busy time in `/proc/stat` minus the servers, backend and "
                   f"tlsload): median {statistics.median(others):.0f} %, max {max(others):.0f} % of one CPU"
                   + (" — **the machine was not idle; treat these numbers with suspicion**." if max(others) > 5 else "."))
    if steals:
        out.append(f"- Hypervisor steal time {during}: median {statistics.median(steals):.1f} %, max {max(steals):.1f} %.")
    return out, dist


def resumed_cell(rec):
    """A cross-node table cell: resumed fraction (resumed/attempts; errors)."""
    if not rec:
        return "–"
    res = rec["res"]
    errs = sum(res.get("errors", {}).values())
    return (f"{fmt(res.get('resumed_frac'), '.4f')} ({res.get('resumed', 0):,}/{res.get('resume_attempts', 0):,}"
            + (f"; {errs} errors" if errs else "") + ")")
