#!/usr/bin/env bash
# bench/soak.sh - the soak of issue 7: one ActorTls node under steady load for a long time, with its RSS, live heap,
# open file descriptors and threads sampled after every segment, so that a leak of native memory (SSL, BIO,
# SSL_SESSION, arenas), of sockets or of threads shows as growth. Writes bench/run-soak/soak.md (the summary, to be
# quoted in docs/reliability.md) and bench/run-soak/samples.jsonl.
#
#   bench/soak.sh                 30 minutes of load (plus about 2 minutes of start and warm-up)
#   bench/soak.sh --minutes N     N minutes of load (1-600)
#   bench/soak.sh --quick         3 minutes, 20-second segments: a smoke run of the script itself
#
# The load is closed-loop tlsload (../shared/bench), 16 connections, in segments that cycle through four kinds of
# connection, each with a 1 KiB GET through the node to the backend: full TLS 1.3 ECDSA handshakes, TLS 1.3
# resumptions, full TLS 1.2 RSA handshakes, TLS 1.2 session-ID resumptions. Growth is measured from the sample after
# the first full cycle (the JIT and the pools have settled) to the last sample; the sample at which the node had made
# 1,000,000 handshakes is reported too, when the run gets there. Nothing is pinned: the machine may be shared, which
# changes the rate, not what a leak would show. Only 127.0.0.1 is used.
# Environment (optional): SOAK_PORT_BASE (default 18543: EC, RSA = base+0/+1, backend +7, cluster +8, management +9),
# BENCH_JAVA_OPTS (default "-Xms512m -Xmx512m -XX:+AlwaysPreTouch": a fixed heap, so RSS shows native memory).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

MINUTES=30
SEGMENT=60
INVOCATION="bench/soak.sh"
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]{0,2}$ ]] && [ "$2" -le 600 ] \
                 || { echo "soak.sh: --minutes needs a number 1-600" >&2; exit 2; }; MINUTES=$2; INVOCATION+=" --minutes $2"; shift ;;
    --quick) MINUTES=3; SEGMENT=20; INVOCATION+=" --quick" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BENCH_NAME=soak.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
SHARED=../shared/bench
R=$TOP/bench/run-soak
BASE=${SOAK_PORT_BASE:-18543}
[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65000 ] || die "bad SOAK_PORT_BASE"
EC_PORT=$BASE; RSA_PORT=$((BASE + 1)); BE_PORT=$((BASE + 7)); CLUSTER_PORT=$((BASE + 8))
SNI_EC=ec.localhost; SNI_RSA=rsa.localhost
ATLS_LOG_LEVEL=INFO
JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms512m -Xmx512m -XX:+AlwaysPreTouch}
PIN_SRV=()
CONNS=16
KINDS=(full-ec13 res-13 full-rsa12 res-id12)

bench_prereqs "$SHARED"
ports_free SOAK_PORT_BASE $EC_PORT $RSA_PORT $BE_PORT $CLUSTER_PORT $((CLUSTER_PORT + 10))
bench_traps
rm -rf "$R"; mkdir -p "$R/pki"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
T_START=$(date +%s)

log "building tlsload and backend, then ActorTls (./actortls build; log: bench/run-soak/build.log)"
bench_build_tools "$SHARED" "$R"
./actortls build >"$R/build.log" 2>&1 || { tail -30 "$R/build.log" >&2; die "./actortls build failed"; }
bench_pki "$R/pki"
./actortls cluster-certs --dir "$R" --nodes 1 >"$R/cluster-certs.log" 2>&1 || die "cluster certificates: $(cat "$R/cluster-certs.log")"
CLUSTER_PASSWORD=$(cat "$R/cluster/password")
actortls_conf "$R/actortls.conf" $EC_PORT $RSA_PORT $CLUSTER_PORT

"$R/backend" -p $BE_PORT -t 2 >"$R/backend.log" 2>&1 &
PIDS+=($!)
wait_port $BE_PORT 10 || die "backend did not start (bench/run-soak/backend.log)"
log "starting ActorTls on $EC_PORT (EC), $RSA_PORT (RSA)"
start_actortls "$R/actortls.conf" "$R/actortls.log" $EC_PORT $RSA_PORT
APID=$STARTED
JCMD=$(dirname "$(readlink "/proc/$APID/exe")")/jcmd

load_args() {
  local ec="--targets 127.0.0.1:$EC_PORT --sni $SNI_EC"
  case $1 in
    full-ec13)  echo "full $ec --tls 1.3" ;;
    res-13)     echo "resume $ec --tls 1.3" ;;
    full-rsa12) echo "full --targets 127.0.0.1:$RSA_PORT --sni $SNI_RSA --tls 1.2" ;;
    res-id12)   echo "resume $ec --tls 1.2 --no-ticket" ;;
  esac
}

heap_kb() { "$JCMD" "$APID" GC.run >/dev/null 2>&1; "$JCMD" "$APID" GC.heap_info 2>/dev/null | sed -n 's/.*heap .*used \([0-9]*\)K.*/\1/p' | head -1; }
sample() {   # sample SEGMENT KIND HANDSHAKES ERRORS: one line of samples.jsonl
  printf '{"segment":%d,"kind":"%s","seconds":%d,"handshakes":%d,"errors":%d,"rss_kb":%d,"heap_kb":%s,"fds":%d,"threads":%d}\n' \
    "$1" "$2" $(( $(date +%s) - T_START )) "$3" "$4" "$(rss_kb "$APID")" "$(heap_kb)" \
    "$(ls "/proc/$APID/fd" | wc -l)" "$(ls "/proc/$APID/task" | wc -l)" >> "$R/samples.jsonl"
}

SEGMENTS=$(( MINUTES * 60 / SEGMENT ))
[ "$SEGMENTS" -ge $(( ${#KINDS[@]} + 1 )) ] || die "--minutes too short for a warm-up cycle and one more segment"
log "soak: $SEGMENTS segments of $SEGMENT s, $CONNS connections, cycling ${KINDS[*]}, each with GET /1024"
total=0; errors=0
sample 0 start 0 0
for seg in $(seq 1 "$SEGMENTS"); do
  kind=${KINDS[$(( (seg - 1) % ${#KINDS[@]} ))]}
  # shellcheck disable=SC2046
  "$R/tlsload" $(load_args "$kind") --get /1024 --conns $CONNS --duration $SEGMENT --json > "$R/last.json" 2>"$R/tlsload.err" \
    || die "tlsload failed in segment $seg: $(cat "$R/tlsload.err")"
  kill -0 "$APID" 2>/dev/null || die "ActorTls exited during the soak; see bench/run-soak/actortls.log"
  read -r hs err < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d.get("handshakes", d.get("resume_attempts", 0) + d.get("fresh", 0)), sum(d["errors"].values()))' "$R/last.json")
  total=$((total + hs)); errors=$((errors + err))
  sample "$seg" "$kind" "$total" "$errors"
  log "  segment $seg/$SEGMENTS $kind: $hs handshakes ($total in all, $errors client errors); $(tail -1 "$R/samples.jsonl")"
done

log "writing bench/run-soak/soak.md"
python3 - "$R" "$INVOCATION" "$SEGMENT" "$CONNS" "${#KINDS[@]}" "$(git rev-parse --short HEAD)" > "$R/soak.md" <<'PY'
import json, sys
r, invocation, segment, conns, cycle, commit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
s = [json.loads(l) for l in open(f"{r}/samples.jsonl")]
base, last = s[cycle], s[-1]
million = next((x for x in s if x["handshakes"] >= 1_000_000), None)
def growth(a, b, k): return 100.0 * (b[k] - a[k]) / a[k]
print(f"Soak of commit {commit}: `{invocation}`, "
      f"{len(s) - 1} segments of {segment} s at {conns} closed-loop connections, "
      f"{last['handshakes']:,} handshakes with a 1 KiB GET each, {last['errors']} client errors.")
print()
print("| | after warm-up (segment %d, %d handshakes) | end (segment %d, %d handshakes) | growth | max |" % (base["segment"], base["handshakes"], last["segment"], last["handshakes"]))
print("|---|---|---|---|---|")
for k, label in (("rss_kb", "RSS (kB)"), ("heap_kb", "live heap after full GC (kB)"), ("fds", "open file descriptors"), ("threads", "threads")):
    print(f"| {label} | {base[k]:,} | {last[k]:,} | {growth(base, last, k):+.2f} % | {max(x[k] for x in s[cycle:]):,} |")
if million:
    print()
    print(f"At 1,000,000 handshakes (segment {million['segment']}, {million['handshakes']:,}): RSS {million['rss_kb']:,} kB "
          f"({growth(base, million, 'rss_kb'):+.2f} % from the warm-up sample), {million['fds']} file descriptors "
          f"({growth(base, million, 'fds'):+.2f} %).")
PY
cat "$R/soak.md"
log "done in $(( ($(date +%s) - T_START + 30) / 60 )) min"
