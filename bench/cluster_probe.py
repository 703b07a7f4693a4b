#!/usr/bin/env python3
"""Helpers of bench/cluster.sh that watch ActorTls node logs (text format, timestamps in UTC: the script starts the
nodes with TZ=UTC). Every subcommand is bounded in time and prints JSON lines on stdout.

  replication --create-port P --sni NAME --ciphers LIST --observe-log FILE --samples N --timeout S --max-total S
      The replication latency of the cluster session cache, observed from outside the node: for each sample, one
      full TLS 1.2 handshake without tickets on node A (which caches exactly one new session, stored into A's
      mirror and handed to the replicator), then node B's periodic "session cache cached=N" lines (a short
      sessions.stats-interval on B) are read until N grows by one. A sample's latency lies between the last line
      that did not show the session yet and the first line that does (both relative to the end of the client's
      handshake): [lo, hi]. Samples are sequential with a random 0-100 ms pause, so that they do not lock onto
      the period of the stats timer or of Distributed Data's notifications.

  join --log FILE --self-address ADDR --target N --start EPOCH --max S --stall S
      How long a node that has just joined needs until its mirror holds N sessions: reads its log from the
      beginning for its own MemberUp, then its "session cache cached=N" lines until N >= target, until --max
      seconds after --start, or until cached has not grown for --stall seconds.

  pollcheck --create-port P --poll-port Q --sni NAME --ciphers LIST --observe-log FILE --samples N
      The control for the method above: does polling node B with the session (the obvious external method,
      `s_client -sess_in` against B) observe replication? For each sample a full TLS 1.2 handshake on A, then at
      once a resumption attempt with its session on B; B's fetch counters before and after tell how many of the
      resumptions were served by fetch-on-miss rather than by B's mirror.

  counters --log FILE
      The counters of the last "session cache" line of a node, as one JSON object.
"""
import argparse
import json
import random
import re
import socket
import ssl
import statistics
import sys
import time

STATS = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*session cache (.*)$")
MEMBER_UP = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*cluster membership: MemberUp (\S+);")
READY = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*ActorTls node ready")
KV = re.compile(r"([a-z_]+)=(\d+)")


def tod(m):
    """Seconds of the (UTC) day of a log timestamp."""
    h, mi, s, ms = (int(x) for x in m.groups()[:4])
    return h * 3600 + mi * 60 + s + ms / 1000.0


def rel(log_tod, epoch):
    """Seconds from `epoch` to a log timestamp given as seconds of the UTC day (midnight-safe within 12 h)."""
    return (log_tod - epoch % 86400.0 + 43200.0) % 86400.0 - 43200.0


class Tail:
    """Reads a growing log file line by line; `None` when nothing new has been written yet."""

    def __init__(self, path, from_start=False):
        self.f = open(path, errors="replace")
        self.buf = ""
        if not from_start:
            self.f.seek(0, 2)

    def line(self):
        chunk = self.f.readline()
        if not chunk:
            return None
        self.buf += chunk
        if not self.buf.endswith("\n"):
            return None          # a partial line: wait for its end
        out, self.buf = self.buf, ""
        return out


def stats_lines(tail, deadline):
    """Yields (seconds of day, counters) of the 'session cache' lines until `deadline` (epoch)."""
    while time.time() < deadline:
        line = tail.line()
        if line is None:
            time.sleep(0.002)
            continue
        m = STATS.match(line)
        if m:
            yield tod(m), {k: int(v) for k, v in KV.findall(m.group(5))}


def client_context(ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_TICKET          # session-ID resumption only: the server caches the session
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def replication(a):
    ctx = client_context(a.ciphers)
    tail = Tail(a.observe_log)
    end_all = time.time() + a.max_total
    done = 0
    for i in range(a.samples):
        if time.time() > end_all:
            break
        # the current count on B: the next line written after now
        base = None
        for _, c in stats_lines(tail, time.time() + 5):
            base = c.get("cached")
            break
        if base is None:
            print(json.dumps({"kind": "repl", "i": i, "error": "no 'session cache' line from the observed node within 5 s"}))
            sys.stdout.flush()
            break
        t0 = time.time()
        try:
            with socket.create_connection(("127.0.0.1", a.create_port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname=a.sni) as tls:
                    t1 = time.time()
                    reused, version, cipher = tls.session_reused, tls.version(), tls.cipher()[0]
        except (OSError, ssl.SSLError) as e:
            print(json.dumps({"kind": "repl", "i": i, "error": "handshake: %s" % e}))
            sys.stdout.flush()
            time.sleep(0.2)
            continue
        rec = {"kind": "repl", "i": i, "hs_ms": round((t1 - t0) * 1000, 2), "proto": version, "cipher": cipher,
               "reused_on_a": reused, "base": base}
        prev, prev_count, lines = None, base, 0
        for t, c in stats_lines(tail, t1 + a.timeout):
            lines += 1
            d = rel(t, t1)
            n = c.get("cached", 0)
            if n > base:
                rec.update(hi_ms=round(d * 1000, 1), lo_ms=round(max(0.0, prev if prev is not None else 0.0) * 1000, 1),
                           gap_ms=None if prev is None else round((d - prev) * 1000, 1), seen=n - base)
                break
            prev, prev_count = d, n
        else:
            rec.update(timeout=True, timeout_s=a.timeout, last_cached=prev_count, lines=lines)
        print(json.dumps(rec))
        sys.stdout.flush()
        done += 1
        time.sleep(random.uniform(0.0, 0.1))
    return 0 if done else 1


def last_counters(path):
    last = None
    with open(path, errors="replace") as f:
        for line in f:
            if "session cache" in line:
                last = line
    m = STATS.match(last) if last else None
    return {k: int(v) for k, v in KV.findall(m.group(5))} if m else {}


def pollcheck(a):
    ctx = client_context(a.ciphers)
    tail = Tail(a.observe_log)
    before = None
    for _, c in stats_lines(tail, time.time() + 5):
        before = c
        break
    reused = attempts = 0
    lat = []
    for _ in range(a.samples):
        try:
            with socket.create_connection(("127.0.0.1", a.create_port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname=a.sni) as tls:
                    sess = tls.session
            t0 = time.time()
            with socket.create_connection(("127.0.0.1", a.poll_port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname=a.sni, session=sess) as tls:
                    lat.append((time.time() - t0) * 1000)
                    attempts += 1
                    reused += bool(tls.session_reused)
        except (OSError, ssl.SSLError):
            pass
        time.sleep(random.uniform(0.05, 0.1))
    after, t_end = None, time.time()
    for t, c in stats_lines(tail, t_end + 5):
        if rel(t, t_end) >= 0.05:        # a line written after the last attempt (the log has been piling up)
            after = c
            break
    out = {"kind": "pollcheck", "samples": a.samples, "attempts": attempts, "reused": reused,
           "poll_ms_p50": round(statistics.median(lat), 1) if lat else None}
    if before and after:
        for k in ("fetch_hits", "fetch_timeouts", "hits", "misses"):
            if k in before and k in after:
                out[k + "_delta"] = after[k] - before[k]
    print(json.dumps(out))
    return 0


def join(a):
    tail = Tail(a.log, from_start=True)
    deadline = a.start + a.max
    up_tod = ready_tod = None
    first_nonzero = reached = None
    last_n, last_growth = 0, time.time()
    progress = []
    reason = "max"
    while time.time() < deadline:
        line = tail.line()
        if line is None:
            if time.time() - last_growth > a.stall and up_tod is not None:
                reason = "stall"
                break
            time.sleep(0.01)
            continue
        m = READY.match(line)
        if m and ready_tod is None:
            ready_tod = tod(m)
            continue
        m = MEMBER_UP.match(line)
        if m and m.group(5) == a.self_address and up_tod is None:
            up_tod = tod(m)
            last_growth = time.time()
            continue
        m = STATS.match(line)
        if not m:
            continue
        t = tod(m)
        n = int(dict(KV.findall(m.group(5))).get("cached", 0))
        if not progress or progress[-1][1] != n:
            progress.append((round(rel(t, a.start), 3), n))
        if n > last_n:
            last_n, last_growth = n, time.time()
        if n > 0 and first_nonzero is None:
            first_nonzero = t
        if n >= a.target:
            reached = t
            reason = "reached"
            break

    def since_start(x):
        return None if x is None else round(rel(x, a.start), 3)

    out = {"kind": "join", "target": a.target, "end": reason, "last_cached": last_n,
           "ready_s": since_start(ready_tod), "up_s": since_start(up_tod), "first_nonzero_s": since_start(first_nonzero),
           "reached_s": since_start(reached), "waited_s": round(time.time() - a.start, 1),
           "progress": progress[:: max(1, len(progress) // 60)] + progress[-1:]}
    print(json.dumps(out))
    return 0


def counters(a):
    print(json.dumps(last_counters(a.log)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("replication")
    r.add_argument("--create-port", type=int, required=True)
    r.add_argument("--sni", default="ec.localhost")
    r.add_argument("--ciphers", default="")
    r.add_argument("--observe-log", required=True)
    r.add_argument("--samples", type=int, default=100)
    r.add_argument("--timeout", type=float, default=2.0)
    r.add_argument("--max-total", type=float, default=300.0)
    j = sub.add_parser("join")
    j.add_argument("--log", required=True)
    j.add_argument("--self-address", required=True)
    j.add_argument("--target", type=int, required=True)
    j.add_argument("--start", type=float, required=True)
    j.add_argument("--max", type=float, required=True)
    j.add_argument("--stall", type=float, required=True)
    q = sub.add_parser("pollcheck")
    q.add_argument("--create-port", type=int, required=True)
    q.add_argument("--poll-port", type=int, required=True)
    q.add_argument("--sni", default="ec.localhost")
    q.add_argument("--ciphers", default="")
    q.add_argument("--observe-log", required=True)
    q.add_argument("--samples", type=int, default=20)
    c = sub.add_parser("counters")
    c.add_argument("--log", required=True)
    a = p.parse_args()
    return {"replication": replication, "pollcheck": pollcheck, "join": join, "counters": counters}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
