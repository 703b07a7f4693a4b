#!/usr/bin/env bash
# bench/run.sh - the benchmark of issue 6: ActorTls against HAProxy 2.6 on this machine, measured with the neutral
# tools of ../shared/bench (tlsload, backend), and docs/benchmarks.md generated from the numbers, with the issue's
# targets (ratios ActorTls / HAProxy of the same run) at the top.
#
#   bench/run.sh            full run (about 40-50 minutes on 2 vCPUs: the leak check's 1,000,000 full handshakes per
#                           system take 20-30 of them, depending mostly on ActorTls's handshake rate; the rest ~20)
#   bench/run.sh --quick    smoke run: short durations, 1 round, a leak check of 2,000 and 5,000 handshakes instead
#                           of 100,000 and 1,000,000, cross-node test with bench/cluster.sh --quick (about 4 minutes)
#   bench/run.sh --rounds N number of A/B rounds (default 3, --quick 1)
#
# What one run measures, in this order:
#   1. cross-node resumed fraction over 3 ActorTls nodes (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 stateful and
#      stateless tickets) and over two HAProxy instances with and without a shared ticket-key file: test 1 of
#      bench/cluster.sh (`bench/cluster.sh --only resumption`, unpinned: three JVMs on one CPU starve), its raw
#      results in bench/run/xnode/
#   2. one ActorTls node and one HAProxy, side by side, pinned (see BENCH_PIN), in A/B rounds whose order
#      alternates: full handshakes (TLS 1.3 ECDSA P-256, TLS 1.2 RSA-2048) and resumed handshakes on one instance
#      (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3), each at peak (32 connections: rate, server CPU per handshake)
#      and at about half the peak rate (p50/p99 handshake latency); bulk GET and echo (MB/s, server CPU per GB);
#      RSS per 1,000 idle TLS connections (a fresh instance of each per round)
#   3. native leak check: RSS of the same two processes after 100,000 and 1,000,000 more full handshakes
# Half load: tlsload is closed-loop (no rate option), so in round 1, after the peak runs, each system gets a ladder
# of connection counts (CAL_STEPS below, CAL_DUR s each) until its rate reaches half of its own peak; the count
# whose rate lies nearest 50 % is used for that system and test in every round.
#
# Everything it makes lives under bench/run/ (git-ignored; wiped at the start of each run, except
# bench/run/cluster-bench/ and bench/run/balancing-bench/ of bench/cluster.sh and bench/balancing.sh); every
# process it starts is stopped by PID on exit. It replaces only its own section of docs/benchmarks.md
# (bench/cluster.sh and bench/balancing.sh write theirs). Only 127.0.0.1 is used. Environment knobs (all optional):
#   BENCH_PORT_BASE   first port (default 18443); ActorTls EC/RSA base+0/+1, HAProxy base+10/+11, the fresh
#                     instances of the idle test base+20/+21 and base+30/+31, backend base+37, ActorTls cluster
#                     channels base+60/+61 and management base+70/+71
#   BENCH_CLUSTER_PORT_BASE  ports of the cross-node test (default 19443; see bench/cluster.sh)
#   BENCH_JAVA_OPTS   extra JVM options for ActorTls, passed as ACTORTLS_JAVA_OPTS
#                     (default "-Xms512m -Xmx512m -XX:+AlwaysPreTouch", see docs/benchmarks.md for why)
#   BENCH_PIN         1 (default): servers on the first half of the CPUs, tlsload + backend on the other half
#                     (taskset); 0: no pinning
#   BENCH_HAPROXY_NBTHREAD  HAProxy threads (default: the number of CPUs the server may run on)
#   BENCH_ACTORTLS_LOG_LEVEL   ActorTls root log level (default INFO = the shipped default: one access line
#                     per connection, written to bench/run/actortls.log)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

QUICK=0
ROUNDS=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) [ $# -ge 2 ] || { echo "run.sh: --rounds needs a number" >&2; exit 2; }; ROUNDS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
SHARED=../shared/bench            # the neutral tools, by relative path from the repository root
R=$TOP/bench/run                  # everything this run writes (git-ignored)
INVOCATION="bench/run.sh"
if [ $QUICK = 1 ]; then INVOCATION+=" --quick"; fi
if [ -n "$ROUNDS" ]; then INVOCATION+=" --rounds $ROUNDS"; fi

# ---------------------------------------------------------------------------------------------- parameters
if [ $QUICK = 1 ]; then
  MODE=quick; DUR=2; HALF_DUR=2; CAL_DUR=1; BULK_DUR=2; IDLE_HOLD=6; IDLE_WARM=500; ROUNDS=${ROUNDS:-1}
  WARM_WIN=3; WARM_MIN=2; WARM_MAX=4; WARM_OTHER=1; WARM_HA=1
  LEAK_A=2000; LEAK_B=5000
else
  MODE=full; DUR=8; HALF_DUR=6; CAL_DUR=3; BULK_DUR=6; IDLE_HOLD=10; IDLE_WARM=2000; ROUNDS=${ROUNDS:-3}
  # ActorTls warm-up: WARM_WIN-second windows of TLS 1.3 ECDSA handshakes until the server CPU per handshake of
  # the last three windows agrees within 10 % (at least WARM_MIN, at most WARM_MAX windows), then WARM_OTHER
  # seconds of every other test. On 2 vCPUs the JIT needs ~20k handshakes (~45 s) to settle.
  WARM_WIN=5; WARM_MIN=6; WARM_MAX=24; WARM_OTHER=8; WARM_HA=2
  LEAK_A=100000; LEAK_B=1000000
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "--rounds must be 1-99"
FULL_CONNS=32                     # peak load of the handshake tests
CAL_STEPS="1 2 3 4 6 8 12 16"     # connection counts tried for half load, in this order
BULK_CONNS=4; BULK_BYTES=64m
IDLE_CONNS=1000
HS_TESTS="full-ec13 full-rsa12 res-id12 res-ticket12 res-13"
BULK_TESTS="bulk-get bulk-echo"
C13=TLS_AES_128_GCM_SHA256
C12_RSA=ECDHE-RSA-AES128-GCM-SHA256
C12_EC=ECDHE-ECDSA-AES128-GCM-SHA256
SNI_EC=ec.localhost
SNI_RSA=rsa.localhost
BASE=${BENCH_PORT_BASE:-18443}
[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65000 ] || die "bad BENCH_PORT_BASE"
A_EC=$BASE; A_RSA=$((BASE + 1)); H_EC=$((BASE + 10)); H_RSA=$((BASE + 11)); BE_PORT=$((BASE + 37))
AI_EC=$((BASE + 20)); AI_RSA=$((BASE + 21)); HI_EC=$((BASE + 30)); HI_RSA=$((BASE + 31))   # fresh instances, idle test
JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms512m -Xmx512m -XX:+AlwaysPreTouch}
ATLS_LOG_LEVEL=${BENCH_ACTORTLS_LOG_LEVEL:-INFO}
# The tls settings ActorTls documents as defaults (pekko.hocon), given to HAProxy too.
TLS12_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
GROUPS_LIST="X25519:P-256:P-384"

# ---------------------------------------------------------------------------------------------- prerequisites
bench_prereqs "$SHARED"
bench_haproxy

NCPU=$(nproc)
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
  SRV_N=$((NCPU / 2)); CLI_N=$((NCPU - SRV_N))
  SRV_CPUS=0-$((SRV_N - 1)); CLI_CPUS=$SRV_N-$((NCPU - 1))
  PIN_SRV=(taskset -c "$SRV_CPUS"); PIN_CLI=(taskset -c "$CLI_CPUS")
  PINNING="server on CPU $SRV_CPUS, tlsload and backend on CPU $CLI_CPUS (taskset)"
else
  SRV_N=$NCPU; CLI_N=$NCPU; SRV_CPUS=all; CLI_CPUS=all
  PIN_SRV=(); PIN_CLI=()
  PINNING="none: server, tlsload and backend share all $NCPU CPUs"
fi

HA_NBTHREAD=${BENCH_HAPROXY_NBTHREAD:-$SRV_N}
[[ "$HA_NBTHREAD" =~ ^[1-9][0-9]?$ ]] || die "BENCH_HAPROXY_NBTHREAD must be a number of threads"

PORTS=($A_EC $A_RSA $H_EC $H_RSA $AI_EC $AI_RSA $HI_EC $HI_RSA $BE_PORT $((BASE + 60)) $((BASE + 61)) $((BASE + 70)) $((BASE + 71)))
ports_free BENCH_PORT_BASE "${PORTS[@]}"
bench_traps

alive() { kill -0 "$1" 2>/dev/null || die "$2 (PID $1) has exited; see its log in bench/run/"; }

# ---------------------------------------------------------------------------------------------- run directory, tools
mkdir -p "$R"
find "$R" -mindepth 1 -maxdepth 1 ! -name cluster-bench ! -name balancing-bench -exec rm -rf {} +   # the other scripts' runs stay
mkdir -p "$R/pki"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
T_START=$(date +%s)
log "mode $MODE: $ROUNDS round(s); pinning: $PINNING"
log "building tlsload and backend from $SHARED into bench/run/"
bench_build_tools "$SHARED" "$R"
log "building ActorTls (./actortls build; log: bench/run/build.log)"
./actortls build >"$R/build.log" 2>&1 || { tail -30 "$R/build.log" >&2; die "./actortls build failed"; }
# The code measured is the code built now: a commit made while the run goes on does not change it.
BUILT_COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml pekko.hocon actortls || echo ' (with uncommitted changes)')"

# ---------------------------------------------------------------------------------------------- 1. cross-node
# bench/cluster.sh's own test 1 (its PKI, nodes, HAProxy pairs, sanity checks), into a directory of this run; first,
# so that its three JVMs are gone before the pinned measurements start, and a failure shows at once.
XNODE_CMD=(bench/cluster.sh --only resumption --no-build --dir bench/run/xnode)
if [ $QUICK = 1 ]; then XNODE_CMD+=(--quick); fi
log "cross-node resumption: ${XNODE_CMD[*]} (log: bench/run/xnode.log)"
run_tracked "${XNODE_CMD[@]}" >"$R/xnode.log" 2>&1 || { tail -20 "$R/xnode.log" >&2; die "${XNODE_CMD[*]} failed; see bench/run/xnode.log"; }
grep 'resumed' "$R/xnode.log" | sed 's/^/    /' || true

# ---------------------------------------------------------------------------------------------- test PKI
log "making the test PKI in bench/run/pki"
bench_pki "$R/pki"

# ---------------------------------------------------------------------------------------------- configurations

# haproxy_conf FILE EC_PORT RSA_PORT: as in ../shared/bench/peers/gen-configs.sh (TCP mode, session cache on,
# tickets on, TLS >= 1.2), one thread per CPU it may run on, and ActorTls's default TLS 1.2 ciphers, TLS 1.3 suites
# and groups. Both log one line per connection, as each does in production (ActorTls by default, HAProxy with
# `option tcplog`), each to a file: HAProxy's to its stdout, which start_haproxy sends to its log file.
haproxy_conf() {
  cat > "$1" <<EOF
global
    nbthread $HA_NBTHREAD
    log stdout format raw local0 info
    maxconn 9000
    tune.ssl.cachesize 100000
    tune.ssl.lifetime 600
    ssl-default-bind-options ssl-min-ver TLSv1.2
    ssl-default-bind-ciphers $TLS12_CIPHERS
    ssl-default-bind-ciphersuites $TLS13_SUITES
    ssl-default-bind-curves $GROUPS_LIST
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    maxconn 9000
frontend ec
    bind 127.0.0.1:$2 ssl crt $R/pki/ec.pem
    default_backend be
frontend rsa
    bind 127.0.0.1:$3 ssl crt $R/pki/rsa.pem
    default_backend be
backend be
    server s1 127.0.0.1:$BE_PORT
EOF
  "$HAPROXY" -c -q -f "$1" || die "HAProxy rejects $1"
}

# A one-node cluster each (the cluster channel needs its certificates even alone).
./actortls cluster-certs --dir "$R" --nodes 1 >"$R/cluster-certs.log" 2>&1 || die "cluster certificates: $(cat "$R/cluster-certs.log")"
CLUSTER_PASSWORD=$(cat "$R/cluster/password")
actortls_conf "$R/actortls.conf" $A_EC $A_RSA $((BASE + 60))
actortls_conf "$R/actortls-idle.conf" $AI_EC $AI_RSA $((BASE + 61))
haproxy_conf "$R/haproxy.cfg" $H_EC $H_RSA
haproxy_conf "$R/haproxy-idle.cfg" $HI_EC $HI_RSA

# ---------------------------------------------------------------------------------------------- servers
# start_haproxy CFG LOG EC_PORT RSA_PORT -> sets STARTED to its PID
start_haproxy() {
  "${PIN_SRV[@]}" "$HAPROXY" -db -f "$1" >"$2" 2>&1 &
  STARTED=$!; PIDS+=($STARTED)
  wait_port "$3" 10 && wait_port "$4" 10 || die "HAProxy did not start ($2)"
}


# again: the cross-node test took minutes, and tests of the project take ports of this range from a sequence of their own
ports_free BENCH_PORT_BASE "${PORTS[@]}"
log "starting backend on 127.0.0.1:$BE_PORT"
"${PIN_CLI[@]}" "$R/backend" -p $BE_PORT -t "$CLI_N" >"$R/backend.log" 2>&1 &
BPID=$!; PIDS+=($BPID)
wait_port $BE_PORT 10 || die "backend did not start (bench/run/backend.log)"

log "starting HAProxy on $H_EC (EC), $H_RSA (RSA)"
start_haproxy "$R/haproxy.cfg" "$R/haproxy.log" $H_EC $H_RSA
HPID=$STARTED

log "starting ActorTls on $A_EC (EC), $A_RSA (RSA); ACTORTLS_JAVA_OPTS=\"$JAVA_OPTS\""
start_actortls "$R/actortls.conf" "$R/actortls.log" $A_EC $A_RSA
APID=$STARTED
JAVA_BIN=$(readlink "/proc/$APID/exe")
JCMD=$(dirname "$JAVA_BIN")/jcmd
[ -x "$JCMD" ] || JCMD=""

declare -A SPID=([actortls]=$APID [haproxy]=$HPID)
declare -A PORT_EC=([actortls]=$A_EC [haproxy]=$H_EC)
declare -A PORT_RSA=([actortls]=$A_RSA [haproxy]=$H_RSA)
declare -A SNAME=([actortls]=ActorTls [haproxy]=HAProxy [idle]="fresh instance for the idle test")

# ---------------------------------------------------------------------------------------------- measurement
OUT=$R/results.jsonl
: > "$OUT"
TL="$R/tlsload"

# args_for TEST SYS [CONNS] -> the tlsload arguments of a test (without --duration/--requests). The resumption
# tests offer each session to the same instance; `resume` also sends a GET /0 (tlsload: it flushes the tickets).
args_for() {
  local s=$2 ec="--targets 127.0.0.1:${PORT_EC[$2]} --sni $SNI_EC" n=${3:-$FULL_CONNS}
  case $1 in
    full-ec13)    echo "full $ec --tls 1.3 --ciphers $C13 --conns $n" ;;
    full-rsa12)   echo "full --targets 127.0.0.1:${PORT_RSA[$s]} --sni $SNI_RSA --tls 1.2 --ciphers $C12_RSA --conns $n" ;;
    res-id12)     echo "resume $ec --tls 1.2 --no-ticket --ciphers $C12_EC --conns $n" ;;
    res-ticket12) echo "resume $ec --tls 1.2 --ciphers $C12_EC --conns $n" ;;
    res-13)       echo "resume $ec --tls 1.3 --ciphers $C13 --conns $n" ;;
    bulk-get)     echo "bulk $ec --tls 1.3 --ciphers $C13 --conns ${3:-$BULK_CONNS} --bulk get --bytes $BULK_BYTES" ;;
    bulk-echo)    echo "bulk $ec --tls 1.3 --ciphers $C13 --conns ${3:-$BULK_CONNS} --bulk echo --bytes $BULK_BYTES" ;;
    *) die "args_for: unknown test $1" ;;
  esac
}

json_num() {   # json_num KEY: a number of the last run's JSON, 0 if it has none
  local v
  v=$(sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$R/last.json")
  echo "${v:-0}"
}

# run_load KIND SYS TEST ROUND EXTRA_JSON -- TLSLOAD_ARGS...: one tlsload run, CPU of the server process, of the
# backend, and of the whole machine (to see disturbance), appended to results.jsonl as one JSON object. Sets
# LAST_TICKS (server), LAST_HS (handshakes; resume: attempts + first handshakes) and LAST_RATE (handshakes/s).
run_load() {
  local kind=$1 sys=$2 test=$3 round=$4 extra=$5; shift 6
  local pid=${SPID[$sys]} c0 c1 b0 b1 m0 m1 out rc=0
  alive "$pid" "${SNAME[$sys]}"
  c0=$(ticks "$pid"); b0=$(ticks "$BPID"); m0=$(stat_cpu)
  run_tracked "${PIN_CLI[@]}" "$TL" "$@" --threads "$CLI_N" --json >"$R/last.json" 2>>"$R/tlsload.err" || rc=$?
  out=$(cat "$R/last.json")
  c1=$(ticks "$pid"); b1=$(ticks "$BPID"); m1=$(stat_cpu)
  [ -n "$out" ] || out='{"error":"no output"}'
  LAST_TICKS=$((c1 - c0))
  LAST_HS=$(( $(json_num handshakes) + $(json_num resume_attempts) + $(json_num fresh) ))
  LAST_RATE=$(json_num hs_per_s)
  printf '{"kind":"%s","sys":"%s","test":"%s","round":%d,"hz":%d,"srv_ticks":%d,"be_ticks":%d,"machine0":[%s],"machine1":[%s],"rc":%d,"cmd":"%s"%s,"res":%s}\n' \
    "$kind" "$sys" "$test" "$round" "$HZ" $((c1 - c0)) $((b1 - b0)) "${m0// /,}" "${m1// /,}" "$rc" \
    "bench/run/tlsload $* --threads $CLI_N --json" "$extra" "$out" >> "$OUT"
  alive "$pid" "${SNAME[$sys]}"
}

measure() {   # measure SYS TEST ROUND SECONDS [CONNS]: a measured run; TEST@half for a run below the peak
  local sys=$1 test=$2 round=$3 d=$4 n=${5:-}
  # shellcheck disable=SC2046
  run_load measure "$sys" "$test${n:+@half}" "$round" "${n:+,\"conns\":$n}" -- $(args_for "$test" "$sys" $n) --duration "$d"
}

# calibrate SYS TEST PEAK: connection counts of CAL_STEPS, CAL_DUR s each, until the rate reaches half of PEAK (the
# system's rate at FULL_CONNS connections); HALF[SYS:TEST] = the count whose rate lay nearest half of PEAK
declare -A HALF
calibrate() {
  local sys=$1 test=$2 peak=$3 n best="" bestd="" d
  awk -v p="$peak" 'BEGIN { exit !(p > 0) }' || die "no peak rate for ${SNAME[$sys]} $test (see bench/run/tlsload.err)"
  for n in $CAL_STEPS; do
    # shellcheck disable=SC2046
    run_load cal "$sys" "$test" 1 ",\"conns\":$n,\"peak\":$peak" -- $(args_for "$test" "$sys" $n) --duration "$CAL_DUR"
    d=$(awk -v r="${LAST_RATE:-0}" -v p="$peak" 'BEGIN { d = r / p - 0.5; print (d < 0 ? -d : d) }')
    if [ -z "$best" ] || awk -v a="$d" -v b="$bestd" 'BEGIN { exit !(a < b) }'; then best=$n; bestd=$d; fi
    awk -v r="${LAST_RATE:-0}" -v p="$peak" 'BEGIN { exit !(r >= p / 2) }' && break
  done
  HALF[$sys:$test]=$best
  log "    ${SNAME[$sys]} $test: peak $peak/s; half load with $best connection(s)"
}

heap_kb() {   # live Java heap after a full GC (ActorTls only), kB; empty if jcmd is unavailable
  local pid=$1 used
  [ -n "$JCMD" ] || return 0
  "${PIN_CLI[@]}" "$JCMD" "$pid" GC.run >/dev/null 2>&1 || return 0
  used=$("${PIN_CLI[@]}" "$JCMD" "$pid" GC.heap_info 2>/dev/null | sed -n 's/.*heap .*used \([0-9]*\)K.*/\1/p' | head -1)
  echo "$used"
}

# idle_mem SYS ROUND: RSS (and for ActorTls the live heap) of a fresh server instance before and while it holds
# IDLE_CONNS idle TLS connections. Fresh, because both servers keep freed memory for reuse (HAProxy's pools,
# malloc arenas), so a second round on the same process would show almost no growth.
idle_mem() {
  local sys=$1 round=$2 pid r0 r1 h0="" h1="" k tp c0 c1 out pe pr
  if [ "$sys" = actortls ]; then
    pe=$AI_EC; pr=$AI_RSA
    start_actortls "$R/actortls-idle.conf" "$R/actortls-idle-$round.log" $pe $pr
  else
    pe=$HI_EC; pr=$HI_RSA
    start_haproxy "$R/haproxy-idle.cfg" "$R/haproxy-idle-$round.log" $pe $pr
  fi
  pid=$STARTED
  SPID[idle]=$pid
  # a little traffic first (class loading, buffers, pools for the 32 busy connections), as a real server has seen
  run_load idle-warm idle idle "$round" ",\"of\":\"$sys\"" -- full --targets 127.0.0.1:$pe --sni $SNI_EC --tls 1.3 \
      --ciphers $C13 --conns $FULL_CONNS --get /1024 --requests $IDLE_WARM --duration 20
  [ "$sys" = actortls ] && h0=$(heap_kb "$pid")
  sleep 1
  r0=$(rss_kb "$pid"); c0=$(ticks "$pid")
  # in the background: the memory is read while tlsload holds the connections
  "${PIN_CLI[@]}" "$TL" idle --targets 127.0.0.1:$pe --sni $SNI_EC --tls 1.3 --ciphers $C13 --conns $IDLE_CONNS \
      --sample 1 --duration "$IDLE_HOLD" --threads "$CLI_N" --json >"$R/idle.json" 2>"$R/idle.err" &
  tp=$!; PIDS+=($tp)
  for k in $(seq 1 $((IDLE_HOLD * 10))); do grep -q established "$R/idle.err" && break; sleep 0.1; done
  sleep 2
  r1=$(rss_kb "$pid"); c1=$(ticks "$pid")
  [ "$sys" = actortls ] && h1=$(heap_kb "$pid")
  wait $tp || true
  forget $tp
  out=$(cat "$R/idle.json"); [ -n "$out" ] || out='{"error":"no output"}'
  printf '{"kind":"idle","sys":"%s","test":"idle","round":%d,"hz":%d,"rss0_kb":%d,"rss1_kb":%d,"heap0_kb":%s,"heap1_kb":%s,"srv_ticks":%d,"cmd":"%s","res":%s}\n' \
    "$sys" "$round" "$HZ" "$r0" "$r1" "${h0:-null}" "${h1:-null}" $((c1 - c0)) \
    "bench/run/tlsload idle --targets 127.0.0.1:$pe --sni $SNI_EC --tls 1.3 --ciphers $C13 --conns $IDLE_CONNS --sample 1 --duration $IDLE_HOLD --threads $CLI_N --json" \
    "$out" >> "$OUT"
  stop_started "$pid"
}

# leak SYS: RSS of the process that ran the rounds, then after LEAK_A and after LEAK_B full TLS 1.3 ECDSA handshakes
# (counted from the start of the check); each part is bounded in time at 400 handshakes/s + 60 s
leak() {
  local sys=$1 pid=${SPID[$1]} r0 r prev=0 total=0 n seg points=""
  sleep 2; r0=$(rss_kb "$pid")
  log "  ${SNAME[$sys]}: RSS ${r0} kB"
  for n in $LEAK_A $LEAK_B; do
    seg=$((n - prev))
    # shellcheck disable=SC2046
    run_load leak "$sys" leak 0 ",\"upto\":$n" -- $(args_for full-ec13 "$sys") --requests "$seg" --duration $((seg / 400 + 60))
    total=$((total + LAST_HS))
    sleep 2; r=$(rss_kb "$pid")
    log "  ${SNAME[$sys]}: RSS ${r} kB after $total handshakes"
    points+="${points:+,}[$total,$r]"
    prev=$n
  done
  printf '{"kind":"leak-rss","sys":"%s","test":"leak","round":0,"rss0_kb":%d,"points":[%s]}\n' "$sys" "$r0" "$points" >> "$OUT"
}

# ---- sanity: the right certificate on each port (chain and name verified), TLS versions, the backend path, echo
check() {   # check WHAT JSON PYTHON_CONDITION(r)
  echo "$2" | python3 -c "import json,sys; r=json.load(sys.stdin); sys.exit(0 if ($3) and sum(r['errors'].values())==0 else 1)" \
    || die "sanity check failed for $1: $2"
}
log "sanity checks (certificate chains verified against the test CA, GET and echo through each system)"
for s in actortls haproxy; do
  for chk in "${PORT_EC[$s]} $SNI_EC 1.2 $C12_EC" "${PORT_EC[$s]} $SNI_EC 1.3 $C13" \
             "${PORT_RSA[$s]} $SNI_RSA 1.2 $C12_RSA" "${PORT_RSA[$s]} $SNI_RSA 1.3 $C13"; do
    set -- $chk
    res=$("$TL" full --targets 127.0.0.1:$1 --sni $2 --tls $3 --ciphers $4 --verify "$R/pki/ca.crt" \
          --get /1024 --conns 2 --requests 10 --duration 10 --json 2>>"$R/tlsload.err" || true)
    check "${SNAME[$s]} port $1 (sni $2, TLS $3, $4)" "$res" 'r.get("handshakes")==10 and r.get("transfers")==10'
  done
  res=$("$TL" bulk --targets 127.0.0.1:${PORT_EC[$s]} --sni $SNI_EC --tls 1.3 --ciphers $C13 --bulk echo --bytes 256k \
        --conns 1 --requests 1 --duration 10 --json 2>>"$R/tlsload.err" || true)
  check "${SNAME[$s]} echo of 256 KiB" "$res" 'r.get("bytes_rx")==262144'
done

# ---- warm-up (JIT) of ActorTls until its CPU per handshake settles; a short one for HAProxy (fills its pools)
log "warm-up: ActorTls ${WARM_WIN}s windows of TLS 1.3 ECDSA handshakes until the CPU per handshake settles"
WARM_US=()
for i in $(seq 1 "$WARM_MAX"); do
  # shellcheck disable=SC2046
  run_load warmup actortls full-ec13 "$i" "" -- $(args_for full-ec13 actortls) --duration "$WARM_WIN"
  WARM_US+=($(( LAST_HS > 0 ? LAST_TICKS * 1000000 / HZ / LAST_HS : 0 )))
  if [ "$i" -ge "$WARM_MIN" ] && [ "$i" -ge 3 ]; then
    settled=$(printf '%s\n' "${WARM_US[@]: -3}" | awk 'NR==1{lo=$1;hi=$1} {if($1<lo)lo=$1; if($1>hi)hi=$1} END{print (lo > 0 && hi <= 1.10 * lo) ? 1 : 0}')
    [ "$settled" = 1 ] && break
  fi
done
log "  ActorTls µs per handshake by window: ${WARM_US[*]}"
WARM_NOTE="${#WARM_US[@]} windows of ${WARM_WIN}s (server CPU µs per handshake: ${WARM_US[*]})"
for s in actortls haproxy; do
  if [ $s = actortls ]; then w=$WARM_OTHER; else w=$WARM_HA; fi
  for t in $HS_TESTS $BULK_TESTS; do
    [ $s:$t != actortls:full-ec13 ] || continue
    # shellcheck disable=SC2046
    run_load warmup $s $t 0 "" -- $(args_for $t $s) --duration $w
  done
done

# ---- A/B rounds; the order of the two systems alternates from round to round
declare -A PEAK
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="actortls haproxy"; else order="haproxy actortls"; fi
  log "round $round/$ROUNDS (order: $order)"
  for test in $HS_TESTS; do
    for s in $order; do measure $s $test "$round" $DUR; PEAK[$s]=$LAST_RATE; done
    if [ "$round" = 1 ]; then
      log "  half load for $test: ${CAL_DUR}s steps of $CAL_STEPS connections"
      for s in $order; do calibrate $s $test "${PEAK[$s]}"; done
    fi
    for s in $order; do measure $s $test "$round" $HALF_DUR "${HALF[$s:$test]}"; done
  done
  for test in $BULK_TESTS; do
    for s in $order; do measure $s $test "$round" $BULK_DUR; done
  done
  for s in $order; do idle_mem $s "$round"; done
done

# ---- native leak check
log "leak check: RSS now and after $LEAK_A and $LEAK_B full handshakes (TLS 1.3 ECDSA)"
for s in actortls haproxy; do leak $s; done

# ---------------------------------------------------------------------------------------------- metadata, report
{
  printf 'mode\t%s\n' "$MODE"
  printf 'invocation\t%s\n' "$INVOCATION"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'minutes\t%s\n' "$(( ($(date +%s) - T_START + 30) / 60 ))"
  printf 'rounds\t%s\n' "$ROUNDS"
  machine_meta
  versions_meta "$R/actortls.log" "$JAVA_BIN"
  printf 'actortls_cmdline\t%s\n' "$(tr '\0' ' ' < "/proc/$APID/cmdline")"
  printf 'haproxy_cmdline\t%s\n' "$(tr '\0' ' ' < "/proc/$HPID/cmdline")"
  printf 'backend_cmdline\t%s\n' "$(tr '\0' ' ' < "/proc/$BPID/cmdline")"
  printf 'java_opts\t%s\n' "$JAVA_OPTS"
  printf 'actortls_log_level\t%s\n' "$ATLS_LOG_LEVEL"
  printf 'pinning\t%s\n' "$PINNING"
  printf 'srv_cpus\t%s\n' "$SRV_CPUS"
  printf 'haproxy_nbthread\t%s\n' "$HA_NBTHREAD"
  printf 'cli_cpus\t%s\n' "$CLI_CPUS"
  printf 'commit\t%s\n' "$BUILT_COMMIT"
  printf 'params\thandshake tests: %s s at peak (%s connections), %s s at half load; bulk: %s s, %s connections x %s; idle: %s connections held %s s by a fresh instance per round after %s handshakes with a 1 KiB GET\n' \
    "$DUR" "$FULL_CONNS" "$HALF_DUR" "$BULK_DUR" "$BULK_CONNS" "$BULK_BYTES" "$IDLE_CONNS" "$IDLE_HOLD" "$IDLE_WARM"
  printf 'cal\t%s s per step, connection counts %s\n' "$CAL_DUR" "$CAL_STEPS"
  printf 'leak_points\t%s %s\n' "$LEAK_A" "$LEAK_B"
  printf 'warmup\t%s\n' "$WARM_NOTE"
  printf 'xnode_cmd\t%s\n' "${XNODE_CMD[*]}"
  printf 'actortls_closes\t%s\n' "$(grep -o 'reason=[a-z_-]*' "$R/actortls.log" | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $2, $1}' | sed 's/reason=//g')"
  printf 'actortls_errors\t%s\n' "$(grep -c -E ' (ERROR|WARN) ' "$R/actortls.log" || true)"
} > "$R/meta.tsv"

log "writing docs/benchmarks.md"
python3 bench/report.py "$R" > "$R/benchmarks.md"
mkdir -p docs
python3 bench/docsection.py docs/benchmarks.md single-node "$R/benchmarks.md"   # keeps the other sections
log "done in $(( ($(date +%s) - T_START + 30) / 60 )) min: docs/benchmarks.md (raw data: bench/run/results.jsonl, bench/run/xnode/)"
