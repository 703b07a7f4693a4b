#!/usr/bin/env bash
# bench/cluster.sh - ActorTls as a cluster of node processes on 127.0.0.1, against HAProxy 2.6 instances, measured
# with the neutral tools of ../shared/bench; the "Cluster" section of docs/benchmarks.md generated from the numbers
# (bench/run.sh generates its own section, taking its cross-node figures from test 1 here, run with --only
# resumption; each script replaces only its own section).
#
#   bench/cluster.sh                full run (about 35-50 minutes on 2 vCPUs; filling 100,000 sessions takes 10-15)
#   bench/cluster.sh --quick        smoke run: short durations, 1 round, few samples and sessions (about 5 minutes)
#   bench/cluster.sh --rounds N     A/B rounds of the CPU test (default 3, --quick 1)
#   bench/cluster.sh --sessions N   sessions for the memory and join test (default 100000, --quick 3000)
#   bench/cluster.sh --only resumption   test 1 alone (about 4 minutes, --quick 1.5); writes no section of
#                                   docs/benchmarks.md: its caller reports the results (bench/run.sh does)
#   bench/cluster.sh --dir DIR      run directory (default bench/run/cluster-bench)
#   bench/cluster.sh --no-build     use the ActorTls build that is there (the caller has just built it)
#
# What it measures (the cross-node part of issue 3):
#   1. resumed fraction of `tlsload resume` round-robin over 3 ActorTls nodes of one cluster, for TLS 1.2 session
#      IDs, TLS 1.2 tickets, TLS 1.3 stateful and TLS 1.3 stateless tickets; the same over two HAProxy instances
#      with and without a shared tls-ticket-keys file
#   2. server CPU per resumed handshake on one ActorTls node (of that cluster) and one HAProxy instance
#   3. replication latency: a session made on node A until node B's mirror holds it
#   4. heap per cached session on a 2-node cluster filled with N sessions, and the time a third node needs after
#      joining until its mirror holds them
# Everything it makes lives under bench/run/cluster-bench/ or --dir (wiped at the start of each run); every
# process it starts is stopped by PID on exit. Only 127.0.0.1 is used. Environment knobs (all optional):
#   BENCH_CLUSTER_PORT_BASE  first port (default 19443): ActorTls nodes base+0..2 (TLS) and base+10..12 (cluster),
#                     HAProxy base+20..27, second cluster base+30..32 (TLS) and base+40..42 (cluster), backend base+50
#   BENCH_CLUSTER_JAVA_OPTS  extra JVM options for every ActorTls node, passed as ACTORTLS_JAVA_OPTS
#                     (default "-Xms256m -Xmx2g")
#   BENCH_CLUSTER_PIN 0 (default): no CPU pinning; 1: in tests 1 and 2 the servers (all three ActorTls nodes and
#                     HAProxy) run on the first half of the CPUs, tlsload and the backend on the other half (taskset).
#                     On 2 vCPUs that puts three JVMs on one CPU, which starves them (cluster heartbeats 2-5 s late,
#                     fetches of sessions time out), hence the default. Tests 3 and 4 never pin.
#   BENCH_HAPROXY_NBTHREAD  HAProxy threads (default: the number of CPUs the servers may run on)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

QUICK=0
ROUNDS=""
SESSIONS=""
ONLY=""
DIR=bench/run/cluster-bench
BUILD=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) [ $# -ge 2 ] || { echo "cluster.sh: --rounds needs a number" >&2; exit 2; }; ROUNDS=$2; shift ;;
    --sessions) [ $# -ge 2 ] || { echo "cluster.sh: --sessions needs a number" >&2; exit 2; }; SESSIONS=$2; shift ;;
    --only) [ "${2:-}" = resumption ] || { echo "cluster.sh: --only takes: resumption" >&2; exit 2; }; ONLY=$2; shift ;;
    --dir) [ $# -ge 2 ] || { echo "cluster.sh: --dir needs a directory" >&2; exit 2; }; DIR=${2%/}; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BENCH_NAME=cluster.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
SHARED=../shared/bench            # the neutral tools, by relative path from the repository root
case $DIR in
  /*) R=$DIR ;;
  *) R=$TOP/$DIR ;;
esac
case $R in
  *..*) die "--dir must not contain .., not $DIR" ;;
  "$TOP"/bench/run/*) ;;
  *) die "--dir must lie under bench/run/ (git-ignored), not $DIR" ;;
esac
RD=${R#"$TOP"/}                   # the run directory as messages name it
INVOCATION="bench/cluster.sh"
if [ $QUICK = 1 ]; then INVOCATION+=" --quick"; fi
if [ -n "$ROUNDS" ]; then INVOCATION+=" --rounds $ROUNDS"; fi
if [ -n "$SESSIONS" ]; then INVOCATION+=" --sessions $SESSIONS"; fi
if [ -n "$ONLY" ]; then INVOCATION+=" --only $ONLY"; fi
if [ "$R" != "$TOP/bench/run/cluster-bench" ]; then INVOCATION+=" --dir $RD"; fi
if [ $BUILD = 0 ]; then INVOCATION+=" --no-build"; fi

# ---------------------------------------------------------------------------------------------- parameters
if [ $QUICK = 1 ]; then
  MODE=quick; ROUNDS=${ROUNDS:-1}; SESSIONS=${SESSIONS:-3000}
  XDUR=3; XWARM=2                   # test 1: seconds per measurement, warm-up seconds per kind
  CDUR=3; CWARM=2                   # test 2
  REPL_SAMPLES=15; REPL_TIMEOUT=2; REPL_MAX=45; POLL_SAMPLES=10
  FILL_MAX=120; JOIN_MAX=60; JOIN_STALL=20
else
  MODE=full; ROUNDS=${ROUNDS:-3}; SESSIONS=${SESSIONS:-100000}
  XDUR=10; XWARM=15
  CDUR=10; CWARM=10
  REPL_SAMPLES=120; REPL_TIMEOUT=2; REPL_MAX=330; POLL_SAMPLES=40
  FILL_MAX=1200; JOIN_MAX=240; JOIN_STALL=60
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || { echo "cluster.sh: --rounds must be 1-99" >&2; exit 2; }
[[ "$SESSIONS" =~ ^[1-9][0-9]{2,6}$ ]] || { echo "cluster.sh: --sessions must be 100-9999999" >&2; exit 2; }
[ $((SESSIONS / 80)) -le "$FILL_MAX" ] || FILL_MAX=$((SESSIONS / 80))   # the fill's bound grows with --sessions (80/s)
CONNS=16                            # tlsload's default for resume
FILL_CONNS=16
C13=TLS_AES_128_GCM_SHA256
C12=ECDHE-ECDSA-AES128-GCM-SHA256
SNI_BOTH=ec.localhost               # vhost with resumption = "both" (the default)
SNI_STATEFUL=stateful.localhost     # vhost with resumption = "stateful"
BASE=${BENCH_CLUSTER_PORT_BASE:-19443}
[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65000 ] || die "bad BENCH_CLUSTER_PORT_BASE"
JAVA_OPTS=${BENCH_CLUSTER_JAVA_OPTS:--Xms256m -Xmx2g}
TLS12_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
TLS13_SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
GROUPS_LIST="X25519:P-256:P-384"

# ports
declare -A TLSP CLP
for i in 1 2 3; do
  TLSP[x$i]=$((BASE + i - 1)); CLP[x$i]=$((BASE + 10 + i - 1))      # cluster 1 (tests 1 and 2): nodes x1 x2 x3
  TLSP[m$i]=$((BASE + 30 + i - 1)); CLP[m$i]=$((BASE + 40 + i - 1)) # cluster 2 (tests 3 and 4): nodes m1 m2 m3
done
declare -A HAP HAPS                 # HAProxy: "both" frontend, and "stateful" frontend (no-tls-tickets)
HAP[hs1]=$((BASE + 20)); HAPS[hs1]=$((BASE + 21)); HAP[hs2]=$((BASE + 22)); HAPS[hs2]=$((BASE + 23))   # shared keys
HAP[hd1]=$((BASE + 24)); HAPS[hd1]=$((BASE + 25)); HAP[hd2]=$((BASE + 26)); HAPS[hd2]=$((BASE + 27))   # default keys
BE_PORT=$((BASE + 50))

# ---------------------------------------------------------------------------------------------- prerequisites
bench_prereqs "$SHARED"
bench_haproxy

NCPU=$(nproc)
if [ "${BENCH_CLUSTER_PIN:-0}" = 1 ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
  SRV_N=$((NCPU / 2)); CLI_N=$((NCPU - SRV_N))
  SRV_CPUS=0-$((SRV_N - 1)); CLI_CPUS=$SRV_N-$((NCPU - 1))
  PIN_SRV=(taskset -c "$SRV_CPUS"); PIN_CLI=(taskset -c "$CLI_CPUS")
  PINNING="servers (all three ActorTls nodes, HAProxy) on CPU $SRV_CPUS, tlsload and backend on CPU $CLI_CPUS (taskset)"
else
  SRV_N=$NCPU; CLI_N=$NCPU; SRV_CPUS=all; CLI_CPUS=all
  PIN_SRV=(); PIN_CLI=()
  PINNING="none: servers, tlsload and backend share all $NCPU CPUs"
fi
HA_NBTHREAD=${BENCH_HAPROXY_NBTHREAD:-$SRV_N}
[[ "$HA_NBTHREAD" =~ ^[1-9][0-9]?$ ]] || die "BENCH_HAPROXY_NBTHREAD must be a number of threads"

ports_free BENCH_CLUSTER_PORT_BASE "${TLSP[@]}" "${CLP[@]}" "${HAP[@]}" "${HAPS[@]}" $BE_PORT
bench_traps

# ---------------------------------------------------------------------------------------------- run directory, tools
rm -rf "$R"
mkdir -p "$R/pki"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ -n "$ONLY" ]; then log "mode $MODE, test 1 only; pinning: $PINNING"
else log "mode $MODE: $ROUNDS round(s), $SESSIONS sessions; pinning (tests 1, 2): $PINNING"; fi
log "building tlsload and backend from $SHARED into $RD/"
bench_build_tools "$SHARED" "$R"
if [ $BUILD = 1 ]; then
  log "building ActorTls (./actortls build; log: $RD/build.log)"
  ./actortls build >"$R/build.log" 2>&1 || { tail -30 "$R/build.log" >&2; die "./actortls build failed"; }
fi
TL="$R/tlsload"

# ---------------------------------------------------------------------------------------------- PKI
# One test CA (EC P-256), one EC P-256 leaf for both vhost names; HAProxy gets the same bytes as one PEM. The
# cluster's own CA and node key stores come from `./actortls cluster-certs`. HAProxy's shared ticket keys: three
# 80-byte keys (AES-256, as ActorTls's ticket keys), base64, one per line (../shared/bench/peers/gen-configs.sh
# uses 48-byte AES-128 keys; the format is the same).
log "making the test PKI, the cluster stores and the HAProxy ticket-key file in $RD/pki"
(
  cd "$R/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=ActorTls cluster bench CA" -out ca.crt 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
  openssl req -new -key ec.key -subj "/CN=$SNI_BOTH" -out ec.csr 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$SNI_BOTH,DNS:$SNI_STATEFUL,DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" > ec.ext
  openssl x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile ec.ext -out ec.crt 2>/dev/null
  cat ec.crt ec.key > ec.pem
  rm -f ec.csr ec.ext
  for i in 1 2 3; do openssl rand 80 | openssl base64 -A; echo; done > haproxy-ticket-keys
  chmod 600 haproxy-ticket-keys ec.key ec.pem
)
./actortls cluster-certs --dir "$R/pki" --nodes 3 >"$R/cluster-certs.log" 2>&1 || die "cluster certificates: $(cat "$R/cluster-certs.log")"
CLUSTER_PASSWORD=$(cat "$R/pki/cluster/password")

# ---------------------------------------------------------------------------------------------- configurations
# actortls_conf NAME INDEX SEED_NAME STATS_INTERVAL [EXTRA]: one listener; vhost "both" (resumption = both, the
# default) and vhost "stateful" (resumption = stateful), chosen by SNI; every other key keeps its documented default
# unless EXTRA (more keys under actortls) says otherwise.
actortls_conf() {
  local name=$1 idx=$2 seed=$3 stats=$4 extra=${5:-}
  cat > "$R/$name.conf" <<EOF
# ActorTls node $name for bench/cluster.sh (cluster seed: $seed)
actortls {
  listeners = [ { name = "tls", port = ${TLSP[$name]} } ]
  listener-defaults { host = "127.0.0.1" }
  vhosts {
    both     { server-names = ["$SNI_BOTH"], certificate = "$R/pki/ec.crt", key = "$R/pki/ec.key", backends = ["127.0.0.1:$BE_PORT"] }
    stateful { server-names = ["$SNI_STATEFUL"], certificate = "$R/pki/ec.crt", key = "$R/pki/ec.key", backends = ["127.0.0.1:$BE_PORT"], resumption = "stateful" }
  }
  default-vhost = "both"
  sessions.stats-interval = $stats${extra:+
  $extra}
  management.port = $(( ${CLP[$name]} + 100 ))   # not the default 7626: three nodes per host
  cluster {
    port = ${CLP[$name]}
    seed-nodes = ["127.0.0.1:${CLP[$seed]}"]
    tls {
      key-store = "$R/pki/cluster/node-$idx.p12", trust-store = "$R/pki/cluster/truststore.p12"
      key-store-password = "$CLUSTER_PASSWORD", trust-store-password = "$CLUSTER_PASSWORD"
    }
  }
}
EOF
}

# haproxy_conf NAME KEYS(shared|default): as in ../shared/bench/peers/gen-configs.sh (TCP mode, session cache on,
# TLS >= 1.2), with ActorTls's default TLS 1.2 ciphers, TLS 1.3 suites and groups; a second frontend with
# no-tls-tickets gives TLS 1.3 stateful tickets (and TLS 1.2 without tickets), as ActorTls's "stateful" vhost.
haproxy_conf() {
  local name=$1 k=""
  [ "$2" = shared ] && k=" tls-ticket-keys $R/pki/haproxy-ticket-keys"
  cat > "$R/$name.cfg" <<EOF
global
    nbthread $HA_NBTHREAD
    maxconn 9000
    tune.ssl.cachesize 100000
    tune.ssl.lifetime 600
    ssl-default-bind-options ssl-min-ver TLSv1.2
    ssl-default-bind-ciphers $TLS12_CIPHERS
    ssl-default-bind-ciphersuites $TLS13_SUITES
    ssl-default-bind-curves $GROUPS_LIST
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    maxconn 9000
frontend both
    bind 127.0.0.1:${HAP[$name]} ssl crt $R/pki/ec.pem$k
    default_backend be
frontend stateful
    bind 127.0.0.1:${HAPS[$name]} ssl crt $R/pki/ec.pem no-tls-tickets
    default_backend be
backend be
    server s1 127.0.0.1:$BE_PORT
EOF
  "$HAPROXY" -c -q -f "$R/$name.cfg" || die "HAProxy rejects $R/$name.cfg"
}

actortls_conf x1 1 x1 1s; actortls_conf x2 2 x1 1s; actortls_conf x3 3 x1 1s
# cluster 2: m2's short stats interval makes its log the replication probe's clock (test 3); its 1 ms fetch timeout
# is for the control of that test (polling m2 with the session, as `s_client -sess_in` would)
actortls_conf m1 1 m1 1s; actortls_conf m2 2 m1 1ms "sessions.fetch-timeout = 1ms"; actortls_conf m3 3 m1 1s
haproxy_conf hs1 shared; haproxy_conf hs2 shared; haproxy_conf hd1 default; haproxy_conf hd2 default

# ---------------------------------------------------------------------------------------------- servers
declare -A SPID
JAVA_BIN=""; JCMD=""

start_haproxy() {   # start_haproxy NAME
  "${PIN_SRV[@]}" "$HAPROXY" -db -f "$R/$1.cfg" >"$R/$1.log" 2>&1 &
  SPID[$1]=$!; PIDS+=($!)
  wait_port "${HAP[$1]}" 10 && wait_port "${HAPS[$1]}" 10 || die "HAProxy $1 did not start ($RD/$1.log)"
}

launch_node() {   # launch_node NAME PIN(1|0): starts the JVM (the launcher execs it: same PID)
  local pin=()
  [ "$2" = 1 ] && pin=("${PIN_SRV[@]}")
  (
    for v in ACTORTLS_PORT ACTORTLS_HOST ACTORTLS_BACKENDS ACTORTLS_DEFAULT_VHOST ACTORTLS_LOG_FORMAT ACTORTLS_LOG_LEVEL \
             ACTORTLS_CLUSTER_HOST ACTORTLS_CLUSTER_PORT ACTORTLS_SEED_NODES ACTORTLS_CLUSTER_KEY_STORE \
             ACTORTLS_CLUSTER_KEY_STORE_PASSWORD ACTORTLS_CLUSTER_TRUST_STORE ACTORTLS_CLUSTER_TRUST_STORE_PASSWORD; do
      unset $v
    done
    export ACTORTLS_JAVA_OPTS="$JAVA_OPTS" TZ=UTC      # log timestamps in UTC: the probes compare them with the clock
    exec "${pin[@]}" ./actortls node --config "$R/$1.conf"
  ) >"$R/$1.log" 2>&1 &
  SPID[$1]=$!; PIDS+=($!)
  START_EPOCH[$1]=$(date +%s.%N)
}
declare -A START_EPOCH

wait_ready() {   # wait_ready NAME SECONDS: "ActorTls node ready" and the TLS port bound
  local k pid=${SPID[$1]}
  for k in $(seq 1 $(($2 * 10))); do
    grep -q "ActorTls node ready" "$R/$1.log" && port_busy "${TLSP[$1]}" && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$R/$1.log" >&2; die "ActorTls node $1 exited during startup"; }
    sleep 0.1
  done
  port_busy "${TLSP[$1]}" || { tail -20 "$R/$1.log" >&2; die "ActorTls node $1 did not start within $2 s"; }
  case $(readlink "/proc/$pid/exe") in
    */java) ;;
    *) die "PID $pid is $(readlink "/proc/$pid/exe"), not the JVM; the launcher did not exec java" ;;
  esac
  if [ -z "$JAVA_BIN" ]; then
    JAVA_BIN=$(readlink "/proc/$pid/exe"); JCMD=$(dirname "$JAVA_BIN")/jcmd; [ -x "$JCMD" ] || JCMD=""
  fi
}

wait_members() {   # wait_members NAME COUNT SECONDS: NAME's log says "members up: COUNT"
  local k
  for k in $(seq 1 $(($3 * 10))); do
    grep -q "members up: $2\$" "$R/$1.log" && return 0
    kill -0 "${SPID[$1]}" 2>/dev/null || die "ActorTls node $1 exited"
    sleep 0.1
  done
  tail -20 "$R/$1.log" >&2; die "node $1 did not see $2 members up within $3 s"
}

start_cluster() {   # start_cluster PIN NAME...: the first is the seed; the others join once it is ready
  local pin=$1; shift
  local first=$1 n=$# name
  launch_node "$first" "$pin"; wait_ready "$first" 180
  shift
  for name in "$@"; do launch_node "$name" "$pin"; done
  for name in "$@"; do wait_ready "$name" 180; done
  wait_members "$first" "$n" 120
  for name in "$@"; do wait_members "$name" "$n" 60; done
  sleep 2   # the ticket-key generation reaches every node by gossip
}

alive() { kill -0 "${SPID[$1]}" 2>/dev/null || die "$1 (PID ${SPID[$1]}) has exited; see $RD/$1.log"; }

heap_kb() {   # live Java heap after a full GC, kB; empty if jcmd is unavailable
  local pid=$1 used
  [ -n "$JCMD" ] || return 0
  "$JCMD" "$pid" GC.run >/dev/null 2>&1 || return 0
  used=$("$JCMD" "$pid" GC.heap_info 2>/dev/null | sed -n 's/.*heap .*used \([0-9]*\)K.*/\1/p' | head -1)
  echo "$used"
}

counters() { python3 bench/cluster_probe.py counters --log "$R/$1.log"; }

log "starting backend on 127.0.0.1:$BE_PORT"
"${PIN_CLI[@]}" "$R/backend" -p $BE_PORT -t "$CLI_N" >"$R/backend.log" 2>&1 &
BPID=$!; PIDS+=($BPID)
wait_port $BE_PORT 10 || die "backend did not start ($RD/backend.log)"

OUT=$R/results.jsonl
: > "$OUT"

# ---------------------------------------------------------------------------------------------- load
# kind_args KIND SYS(actortls|haproxy) -> the tlsload arguments that select a resumption kind (without targets)
kind_args() {
  case $1 in
    id12)        echo "--tls 1.2 --no-ticket --ciphers $C12 --sni $SNI_BOTH" ;;
    ticket12)    echo "--tls 1.2 --ciphers $C12 --sni $SNI_BOTH" ;;
    stateful13)  echo "--tls 1.3 --ciphers $C13 --sni $SNI_STATEFUL" ;;
    stateless13) echo "--tls 1.3 --ciphers $C13 --sni $SNI_BOTH" ;;
    full13)      echo "--tls 1.3 --ciphers $C13 --sni $SNI_BOTH" ;;
    full12)      echo "--tls 1.2 --no-ticket --ciphers $C12 --sni $SNI_BOTH" ;;
  esac
}
# target INSTANCE KIND -> 127.0.0.1:PORT (HAProxy's stateful kind has a frontend of its own; ActorTls picks the
# stateful vhost by SNI on the same listener)
target() {
  case $1 in
    x*|m*) echo "127.0.0.1:${TLSP[$1]}" ;;
    *) if [ "$2" = stateful13 ]; then echo "127.0.0.1:${HAPS[$1]}"; else echo "127.0.0.1:${HAP[$1]}"; fi ;;
  esac
}
targets() { local k=$1 out="" i; shift; for i in "$@"; do out+="${out:+,}$(target "$i" "$k")"; done; echo "$out"; }

# run_load KIND SYS TEST ROUND "SERVERS" EXTRA_JSON -- TLSLOAD_ARGS...: one tlsload run; CPU ticks of each server
# process named in SERVERS (the first is "the" server), of the backend and of the machine; one JSON line.
run_load() {
  local kind=$1 sys=$2 test=$3 round=$4 servers=$5 extra=$6; shift 7
  local s b0 b1 m0 m1 out rc=0 tp srv_json="" first="" d first_d=0
  local -A c0
  for s in $servers; do alive "$s"; c0[$s]=$(ticks "${SPID[$s]}"); [ -n "$first" ] || first=$s; done
  b0=$(ticks "$BPID"); m0=$(stat_cpu)
  "${PIN_CLI[@]}" "$TL" "$@" --threads "$CLI_N" --json >"$R/last.json" 2>>"$R/tlsload.err" &
  tp=$!; PIDS+=($tp)
  wait $tp || rc=$?
  forget $tp
  out=$(cat "$R/last.json")
  b1=$(ticks "$BPID"); m1=$(stat_cpu)
  for s in $servers; do
    alive "$s"; d=$(( $(ticks "${SPID[$s]}") - ${c0[$s]} ))
    srv_json+="${srv_json:+,}\"$s\":$d"; [ "$s" != "$first" ] || first_d=$d
  done
  [ -n "$out" ] || out='{"error":"no output"}'
  LAST_OUT=$out
  printf '{"kind":"%s","sys":"%s","test":"%s","round":%d,"hz":%d,"srv":"%s","srv_ticks":%d,"ticks":{%s},"be_ticks":%d,"machine0":[%s],"machine1":[%s],"rc":%d,"cmd":"%s"%s,"res":%s}\n' \
    "$kind" "$sys" "$test" "$round" "$HZ" "$first" "$first_d" \
    "$srv_json" $((b1 - b0)) "${m0// /,}" "${m1// /,}" "$rc" "$RD/tlsload $* --threads $CLI_N --json" "$extra" "$out" >> "$OUT"
}

KINDS="id12 ticket12 stateful13 stateless13"

# ---------------------------------------------------------------------------------------------- metadata
write_meta() {   # meta.tsv: the machine, versions, command lines and parameters of this run
  {
    printf 'mode\t%s\n' "$MODE"
    printf 'invocation\t%s\n' "$INVOCATION"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'rounds\t%s\n' "$ROUNDS"
    printf 'sessions\t%s\n' "$SESSIONS"
    machine_meta
    versions_meta "$R/x1.log" "$JAVA_BIN"
    printf 'actortls_cmdline\t%s\n' "$X_CMDLINE"
    printf 'actortls_m_cmdline\t%s\n' "${M_CMDLINE:-}"
    printf 'haproxy_cmdline\t%s\n' "$H_CMDLINE"
    printf 'java_opts\t%s\n' "$JAVA_OPTS"
    printf 'pinning\t%s\n' "$PINNING"
    printf 'haproxy_nbthread\t%s\n' "$HA_NBTHREAD"
    printf 'commit\t%s\n' "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml pekko.hocon actortls || echo ' (with uncommitted changes)')"
    printf 'params\ttest 1: %s s per kind and system after %s s of warm-up per kind, %s connections' "$XDUR" "$XWARM" "$CONNS"
    [ -n "$ONLY" ] || printf '; test 2: %s s per measurement, %s round(s), %s s warm-up per test, %s connections; test 3: %s samples, %s s each at most; test 4: %s sessions, %s connections' \
      "$CDUR" "$ROUNDS" "$CWARM" "$CONNS" "$REPL_SAMPLES" "$REPL_TIMEOUT" "$SESSIONS" "$FILL_CONNS"
    echo
    printf 'x_closes\t%s\n' "$XCLOSES"
    printf 'x_errors\t%s\n' "$XERRS"
    printf 'm_errors\t%s\n' "${MERRS:-}"
    printf 'ports\tcluster 1: TLS %s-%s, cluster %s-%s; HAProxy %s-%s; cluster 2: TLS %s-%s, cluster %s-%s; backend %s\n' \
      "${TLSP[x1]}" "${TLSP[x3]}" "${CLP[x1]}" "${CLP[x3]}" "${HAP[hs1]}" "${HAPS[hd2]}" "${TLSP[m1]}" "${TLSP[m3]}" "${CLP[m1]}" "${CLP[m3]}" "$BE_PORT"
  } > "$R/meta.tsv"
}

end_cluster1() {   # the facts of cluster 1 for the report, then cluster 1 and HAProxy stopped
  X_CMDLINE=$(tr '\0' ' ' < "/proc/${SPID[x1]}/cmdline")
  H_CMDLINE=$(tr '\0' ' ' < "/proc/${SPID[hs1]}/cmdline")
  XCLOSES=$(cat "$R"/x[123].log | grep -o 'reason=[a-z_-]*' | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $2, $1}' | sed 's/reason=//g')
  XERRS=$(cat "$R"/x[123].log | grep -c -E ' (ERROR|WARN) ' || true)
  log "stopping cluster 1 and HAProxy"
  stop_started "${SPID[x1]}" "${SPID[x2]}" "${SPID[x3]}" "${SPID[hs1]}" "${SPID[hs2]}" "${SPID[hd1]}" "${SPID[hd2]}"
}

# ================================================================================ tests 1 and 2: cluster of three
log "starting HAProxy: hs1, hs2 (shared tls-ticket-keys), hd1, hd2 (default keys)"
for h in hs1 hs2 hd1 hd2; do start_haproxy $h; done
log "starting ActorTls cluster x1 (seed), x2, x3 (TLS ${TLSP[x1]}-${TLSP[x3]}, cluster ${CLP[x1]}-${CLP[x3]}); ACTORTLS_JAVA_OPTS=\"$JAVA_OPTS\""
start_cluster 1 x1 x2 x3

log "sanity checks (chain and name verified against the test CA, GET through every instance, both vhosts)"
for inst in x1 x2 x3 hs1 hs2 hd1 hd2; do
  for chk in stateless13 stateful13 id12; do
    set -- $chk
    # shellcheck disable=SC2046
    res=$("$TL" full --targets "$(target $inst "$1")" $(kind_args "$1" x) --verify "$R/pki/ca.crt" \
          --get /1024 --conns 2 --requests 6 --duration 10 --json 2>>"$R/tlsload.err" || true)
    echo "$res" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r.get("handshakes")==6 and r.get("transfers")==6 and sum(r["errors"].values())==0 else 1)' \
      || die "sanity check failed for $inst ($1: $(kind_args "$1" x)): $res"
  done
done

# ---- test 1: cross-node resumed fraction
declare -A XTARGETS=([actortls]="x1 x2 x3" [haproxy-shared]="hs1 hs2" [haproxy-default]="hd1 hd2")
declare -A XSERVERS=([actortls]="x1 x2 x3" [haproxy-shared]="hs1 hs2" [haproxy-default]="hd1 hd2")
log "warm-up: ${XWARM}s of each kind, round robin over the three ActorTls nodes"
for k in $KINDS; do
  # shellcheck disable=SC2046
  run_load warmup actortls "$k" 0 "x1 x2 x3" "" -- resume --targets "$(targets $k x1 x2 x3)" $(kind_args $k x) \
    --conns $CONNS --duration "$XWARM"
done
log "test 1: cross-node resumption, ${XDUR}s per kind and system"
for k in $KINDS; do
  for sys in actortls haproxy-shared haproxy-default; do
    # shellcheck disable=SC2086
    before=$(for n in ${XSERVERS[$sys]}; do case $n in x*) printf '"%s":%s,' "$n" "$(counters $n)";; esac; done)
    # shellcheck disable=SC2046,SC2086
    run_load xnode "$sys" "$k" 1 "${XSERVERS[$sys]}" ",\"before\":{${before%,}}" -- resume \
      --targets "$(targets $k ${XTARGETS[$sys]})" $(kind_args $k x) --conns $CONNS --duration "$XDUR"
    log "  $sys $k: resumed $(echo "$LAST_OUT" | sed -n 's/.*"resumed_frac":\([0-9.]*\).*/\1/p')"
  done
done
sleep 2.5   # one more stats line from every node, with the counters of the last runs
for n in x1 x2 x3; do printf '{"kind":"counters","sys":"actortls","test":"after-test-1","node":"%s","counters":%s}\n' "$n" "$(counters $n)" >> "$OUT"; done
if [ -n "$ONLY" ]; then
  end_cluster1
  write_meta
  log "done (--only $ONLY): raw data in $RD/results.jsonl and $RD/meta.tsv; no section of docs/benchmarks.md written"
  exit 0
fi

# ---- test 2: server CPU per resumed handshake, one instance each (ActorTls: node x1 of the running cluster)
log "test 2: server CPU per resumption on one instance (ActorTls x1, HAProxy hs1); ${CWARM}s warm-up per kind"
CTESTS="$KINDS full13 full12"
for t in $CTESTS; do
  for s in actortls haproxy; do
    if [ $s = actortls ]; then inst=x1; servers="x1 x2 x3"; else inst=hs1; servers=hs1; fi
    case $t in full*) mode=full ;; *) mode=resume ;; esac
    # shellcheck disable=SC2046
    run_load warmup "$s" "$t" 0 "$servers" "" -- $mode --targets "$(target $inst $t)" $(kind_args $t x) --conns $CONNS --duration "$CWARM"
  done
done
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="actortls haproxy"; else order="haproxy actortls"; fi
  log "  round $round/$ROUNDS (order: $order)"
  for t in $CTESTS; do
    for s in $order; do
      if [ $s = actortls ]; then inst=x1; servers="x1 x2 x3"; else inst=hs1; servers=hs1; fi
      case $t in full*) mode=full ;; *) mode=resume ;; esac
      # shellcheck disable=SC2046
      run_load cpu "$s" "$t" "$round" "$servers" "" -- $mode --targets "$(target $inst $t)" $(kind_args $t x) \
        --conns $CONNS --duration "$CDUR"
    done
  done
done

end_cluster1

# ================================================================================ tests 3 and 4: cluster m1, m2 (+ m3)
log "starting ActorTls cluster m1 (seed), m2 (TLS ${TLSP[m1]}-${TLSP[m2]}, cluster ${CLP[m1]}-${CLP[m2]}; not pinned)"
start_cluster 0 m1 m2

# ---- test 3: replication latency m1 -> m2's mirror
log "test 3: replication latency, $REPL_SAMPLES samples (at most ${REPL_TIMEOUT}s each, ${REPL_MAX}s in all)"
timeout $((REPL_MAX + 30)) python3 bench/cluster_probe.py replication --create-port "${TLSP[m1]}" --sni $SNI_BOTH --ciphers $C12 \
  --observe-log "$R/m2.log" --samples "$REPL_SAMPLES" --timeout "$REPL_TIMEOUT" --max-total "$REPL_MAX" \
  > "$R/replication.jsonl" 2>"$R/replication.err" &
pp=$!; PIDS+=($pp)
wait $pp || true
forget $pp
cat "$R/replication.jsonl" >> "$OUT"
python3 - "$R/replication.jsonl" <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = sorted(x["hi_ms"] for x in r if "hi_ms" in x)
print("[replication] samples %d, seen on m2 %d, timed out %d%s" % (len(r), len(ok), sum(1 for x in r if x.get("timeout")),
      (", upper bound p50 %.0f ms" % ok[len(ok) // 2]) if ok else ""))
EOF
for n in m1 m2; do printf '{"kind":"counters","sys":"actortls","test":"after-test-3","node":"%s","counters":%s}\n' "$n" "$(counters $n)" >> "$OUT"; done
log "test 3, control: $POLL_SAMPLES sessions made on m1 and offered to m2 at once (m2: sessions.fetch-timeout = 1ms)"
timeout 120 python3 bench/cluster_probe.py pollcheck --create-port "${TLSP[m1]}" --poll-port "${TLSP[m2]}" --sni $SNI_BOTH \
  --ciphers $C12 --observe-log "$R/m2.log" --samples "$POLL_SAMPLES" > "$R/pollcheck.json" 2>"$R/pollcheck.err" &
pp=$!; PIDS+=($pp)
wait $pp || true
forget $pp
cat "$R/pollcheck.json" >> "$OUT"
log "  $(cat "$R/pollcheck.json")"

# ---- test 4: memory per cached session, then a joining node
mem_snapshot() {   # mem_snapshot LABEL NODE...
  local label=$1 n h; shift
  for n in "$@"; do
    h=$(heap_kb "${SPID[$n]}")
    [ -n "$JCMD" ] && "$JCMD" "${SPID[$n]}" GC.class_histogram > "$R/histo-$label-$n.txt" 2>/dev/null || true
    printf '{"kind":"mem","sys":"actortls","test":"%s","node":"%s","heap_kb":%s,"rss_kb":%s,"counters":%s}\n' \
      "$label" "$n" "${h:-null}" "$(rss_kb "${SPID[$n]}")" "$(counters $n)" >> "$OUT"
  done
}
sleep 2
log "test 4: heap of m1 and m2 after a full GC, before the sessions"
mem_snapshot before m1 m2
log "filling the cluster: $SESSIONS full TLS 1.2 handshakes without tickets over m1 and m2 (at most ${FILL_MAX}s)"
# shellcheck disable=SC2046
run_load fill actortls fill 0 "m1 m2" "" -- full --targets "$(targets id12 m1 m2)" $(kind_args full12 x) \
  --conns $FILL_CONNS --requests "$SESSIONS" --duration "$FILL_MAX"
FILLED=$(echo "$LAST_OUT" | sed -n 's/.*"handshakes":\([0-9]*\).*/\1/p')
log "  $FILLED sessions made; waiting 10 s for replication to settle"
sleep 10
mem_snapshot after m1 m2
JOIN_TARGET=${FILLED:-0}
[ "$JOIN_TARGET" -gt 0 ] || die "the fill made no sessions"
log "starting m3; waiting until its mirror holds $JOIN_TARGET sessions (at most ${JOIN_MAX}s, or ${JOIN_STALL}s without growth)"
launch_node m3 0
python3 bench/cluster_probe.py join --log "$R/m3.log" --self-address "pekko://actortls@127.0.0.1:${CLP[m3]}" \
  --target "$JOIN_TARGET" --start "${START_EPOCH[m3]}" --max "$JOIN_MAX" --stall "$JOIN_STALL" > "$R/join.json" 2>"$R/join.err" &
pp=$!; PIDS+=($pp)
wait $pp || true
forget $pp
alive m3
cat "$R/join.json" >> "$OUT"
log "  $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("end: %s, cached %d of %d, up after %s s, reached after %s s" % (j["end"], j["last_cached"], j["target"], j["up_s"], j["reached_s"]))' "$R/join.json")"
mem_snapshot joined m1 m2 m3
M_CMDLINE=$(tr '\0' ' ' < "/proc/${SPID[m1]}/cmdline")
MERRS=$(cat "$R"/m[123].log | grep -c -E ' (ERROR|WARN) ' || true)
stop_started "${SPID[m1]}" "${SPID[m2]}" "${SPID[m3]}"

write_meta

log "writing the Cluster section of docs/benchmarks.md"
python3 bench/cluster_report.py "$R" > "$R/section.md"
mkdir -p docs
python3 bench/docsection.py docs/benchmarks.md cluster "$R/section.md"
log "done: docs/benchmarks.md (raw data: $RD/results.jsonl)"
