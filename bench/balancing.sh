#!/usr/bin/env bash
# bench/balancing.sh - what cluster-wide balancing costs: pick latency and full-handshake cost of pools whose
# picks go through their Cluster Sharding entity (scope = "cluster") against pools decided on the node
# (scope = "node"), on a cluster of three ActorTls node processes on 127.0.0.1 with three backends, measured with
# the neutral tools of ../shared/bench; writes the "balancing" section of docs/benchmarks.md.
#
#   bench/balancing.sh              full run (about 10-13 minutes on 2 vCPUs)
#   bench/balancing.sh --quick      smoke run: short durations, one round (about 3-4 minutes)
#   bench/balancing.sh --rounds N   A/B rounds of test 2 (default 4, --quick 1)
#
# One cluster (x1 seed, x2, x3), three backends, one listener per node and three vhosts chosen by SNI, each with a
# pool of its own over the same three servers:
#   lc      algorithm leastconn,  scope cluster (every pick asks the pool's entity, on whichever node it lives)
#   rr      algorithm roundrobin, scope cluster
#   lcnode  algorithm leastconn,  scope node (each node decides from its own connections: a static terminator)
# Every connection is a full TLS 1.3 ECDSA handshake plus a GET of 1 KiB through the picked server.
#   1. pick latency: the gateways' "pool picks" lines (log.stats-interval = 1s) of every node while tlsload
#      spreads connections over the three nodes at a steady rate of about half the measured peak (tlsload has no
#      rate option: a fixed number of connections, chosen so that the rate is about half the peak); for each node
#      whether the pool's entity is local or remote
#   2. full-handshake rate and server CPU per handshake on ONE node at full load (32 connections), lc (scope
#      cluster) against lcnode (scope node) alternated A/B/B/A, first on a node whose lc entity is remote (the
#      worst case), then on the node hosting it
# Everything it makes lives under bench/run/balancing-bench/ (git-ignored; wiped at the start of each run); every
# process it starts is stopped by PID on exit. Only 127.0.0.1 is used. Environment knobs (all optional):
#   BENCH_BALANCE_PORT_BASE   first port (default 21443): nodes base+0..2 (TLS) and base+10..12 (cluster),
#                             backends base+20..22
#   BENCH_BALANCE_JAVA_OPTS   extra JVM options for every node, passed as ACTORTLS_JAVA_OPTS (default "-Xms256m -Xmx2g")
# No CPU pinning: three JVMs on one of two CPUs starve (see bench/cluster.sh).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

QUICK=0
ROUNDS=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) [ $# -ge 2 ] || { echo "balancing.sh: --rounds needs a number" >&2; exit 2; }; ROUNDS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "balancing.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
BENCH_NAME=balancing.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
SHARED=../shared/bench            # the neutral tools, by relative path from the repository root
R=$TOP/bench/run/balancing-bench  # everything this run writes (git-ignored)
INVOCATION="bench/balancing.sh"
if [ $QUICK = 1 ]; then INVOCATION+=" --quick"; fi
if [ -n "$ROUNDS" ]; then INVOCATION+=" --rounds $ROUNDS"; fi

# ---------------------------------------------------------------------------------------------- parameters
if [ $QUICK = 1 ]; then
  MODE=quick; ROUNDS=${ROUNDS:-1}
  WARM=3                 # warm-up: seconds per pool, over all three nodes
  SETTLE_QUIET=22; SETTLE_MAX=60   # wait until no pool entity has started (moved) and no shard rebalance has
                                   # begun for SETTLE_QUIET s (Pekko's rebalance-interval: 10 s)
  PEAK_DUR=3; CAL_DUR=2  # peak rate; each calibration step
  T1_DUR=4; T1_ROUNDS=1  # test 1: seconds per pool and round
  T2_WARM=3; T2_DUR=4    # test 2: warm-up per pool on the node; seconds per measurement
else
  MODE=full; ROUNDS=${ROUNDS:-4}
  WARM=15
  SETTLE_QUIET=25; SETTLE_MAX=120
  PEAK_DUR=10; CAL_DUR=4
  T1_DUR=15; T1_ROUNDS=2
  T2_WARM=10; T2_DUR=15
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "--rounds must be 1-99"
FULL_CONNS=32                       # peak and test 2: as bench/run.sh's full handshakes
CAL_STEPS="1 2 3 4 6 8 12 16"       # connection counts tried for the steady rate
C13=TLS_AES_128_GCM_SHA256
GET=/1024
POOLS="lc rr lcnode"
declare -A POOL_ALG=([lc]=leastconn [rr]=roundrobin [lcnode]=leastconn)
declare -A POOL_SCOPE=([lc]=cluster [rr]=cluster [lcnode]=node)
BASE=${BENCH_BALANCE_PORT_BASE:-21443}
[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65000 ] || die "bad BENCH_BALANCE_PORT_BASE"
JAVA_OPTS=${BENCH_BALANCE_JAVA_OPTS:--Xms256m -Xmx2g}
NODES="x1 x2 x3"
declare -A TLSP CLP BEP
for i in 1 2 3; do
  TLSP[x$i]=$((BASE + i - 1)); CLP[x$i]=$((BASE + 10 + i - 1)); BEP[be$i]=$((BASE + 20 + i - 1))
done

# ---------------------------------------------------------------------------------------------- prerequisites
bench_prereqs "$SHARED"
NCPU=$(nproc)
ports_free BENCH_BALANCE_PORT_BASE "${TLSP[@]}" "${CLP[@]}" "${BEP[@]}"
bench_traps
LOAD_START=$(loadavg)

# ---------------------------------------------------------------------------------------------- run directory, tools
rm -rf "$R"
mkdir -p "$R/pki"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "mode $MODE: $ROUNDS round(s) of test 2; load average at start: $LOAD_START"
log "building tlsload and backend from $SHARED into bench/run/balancing-bench/"
bench_build_tools "$SHARED" "$R"
log "building ActorTls (./actortls build; log: bench/run/balancing-bench/build.log)"
./actortls build >"$R/build.log" 2>&1 || { tail -30 "$R/build.log" >&2; die "./actortls build failed"; }
TL="$R/tlsload"

# ---------------------------------------------------------------------------------------------- PKI, configurations
log "making the test PKI and the cluster stores in bench/run/balancing-bench/pki"
(
  cd "$R/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=ActorTls balancing bench CA" -out ca.crt 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
  openssl req -new -key ec.key -subj "/CN=lc.localhost" -out ec.csr 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:lc.localhost,DNS:rr.localhost,DNS:lcnode.localhost,DNS:localhost,IP:127.0.0.1" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" > ec.ext
  openssl x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile ec.ext -out ec.crt 2>/dev/null
  rm -f ec.csr ec.ext
  chmod 600 ec.key
)
./actortls cluster-certs --dir "$R/pki" --nodes 3 >"$R/cluster-certs.log" 2>&1 || die "cluster certificates: $(cat "$R/cluster-certs.log")"
CLUSTER_PASSWORD=$(cat "$R/pki/cluster/password")

SERVERS=""
for b in be1 be2 be3; do SERVERS+="${SERVERS:+, }{ name = \"$b\", address = \"127.0.0.1:${BEP[$b]}\" }"; done
actortls_conf() {   # actortls_conf NAME INDEX
  local name=$1 idx=$2 p vhosts="" pools=""
  for p in $POOLS; do
    vhosts+="    $p { server-names = [\"$p.localhost\"], certificate = \"$R/pki/ec.crt\", key = \"$R/pki/ec.key\", pool = \"$p\" }
"
    pools+="    $p { servers = [$SERVERS], algorithm = \"${POOL_ALG[$p]}\", scope = \"${POOL_SCOPE[$p]}\" }
"
  done
  cat > "$R/$name.conf" <<EOF
# ActorTls node $name for bench/balancing.sh (cluster seed: x1). Three vhosts chosen by SNI, each with its own pool
# over the same three servers; every other key keeps its documented default, except the stats interval (1 s).
actortls {
  listeners = [ { name = "tls", port = ${TLSP[$name]} } ]
  listener-defaults { host = "127.0.0.1" }
  vhosts {
${vhosts}  }
  default-vhost = "lc"
  pools {
${pools}  }
  log.stats-interval = 1s
  management.port = $(( ${CLP[$name]} + 100 ))   # not the default 7626: three nodes per host
  cluster {
    port = ${CLP[$name]}
    seed-nodes = ["127.0.0.1:${CLP[x1]}"]
    tls {
      key-store = "$R/pki/cluster/node-$idx.p12", trust-store = "$R/pki/cluster/truststore.p12"
      key-store-password = "$CLUSTER_PASSWORD", trust-store-password = "$CLUSTER_PASSWORD"
    }
  }
}
EOF
}
actortls_conf x1 1; actortls_conf x2 2; actortls_conf x3 3

# ---------------------------------------------------------------------------------------------- servers
declare -A SPID
JAVA_BIN=""

launch_node() {   # launch_node NAME: starts the JVM (the launcher execs it: same PID)
  (
    for v in ACTORTLS_PORT ACTORTLS_HOST ACTORTLS_BACKENDS ACTORTLS_DEFAULT_VHOST ACTORTLS_LOG_FORMAT ACTORTLS_LOG_LEVEL \
             ACTORTLS_CLUSTER_HOST ACTORTLS_CLUSTER_PORT ACTORTLS_SEED_NODES ACTORTLS_CLUSTER_KEY_STORE \
             ACTORTLS_CLUSTER_KEY_STORE_PASSWORD ACTORTLS_CLUSTER_TRUST_STORE ACTORTLS_CLUSTER_TRUST_STORE_PASSWORD; do
      unset $v
    done
    export ACTORTLS_JAVA_OPTS="$JAVA_OPTS" TZ=UTC
    exec ./actortls node --config "$R/$1.conf"
  ) >"$R/$1.log" 2>&1 &
  SPID[$1]=$!; PIDS+=($!)
}

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
  [ -n "$JAVA_BIN" ] || JAVA_BIN=$(readlink "/proc/$pid/exe")
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

alive() { kill -0 "${SPID[$1]}" 2>/dev/null || die "$1 (PID ${SPID[$1]}) has exited; see bench/run/balancing-bench/$1.log"; }

BE_PIDS=""
for b in be1 be2 be3; do
  "$R/backend" -p "${BEP[$b]}" -t 1 >"$R/$b.log" 2>&1 &
  SPID[$b]=$!; PIDS+=($!); BE_PIDS+=" $!"
done
for b in be1 be2 be3; do wait_port "${BEP[$b]}" 10 || die "backend $b did not start (bench/run/balancing-bench/$b.log)"; done
log "backends be1-be3 on 127.0.0.1:${BEP[be1]}-${BEP[be3]}"

log "starting ActorTls cluster x1 (seed), x2, x3 (TLS ${TLSP[x1]}-${TLSP[x3]}, cluster ${CLP[x1]}-${CLP[x3]}); ACTORTLS_JAVA_OPTS=\"$JAVA_OPTS\""
launch_node x1; wait_ready x1 180
launch_node x2; launch_node x3
wait_ready x2 180; wait_ready x3 180
for n in $NODES; do wait_members $n 3 120; done

log "sanity checks (chain and name verified against the test CA, GET $GET through every node and pool)"
for n in $NODES; do
  for p in $POOLS; do
    res=$("$TL" full --targets "127.0.0.1:${TLSP[$n]}" --sni "$p.localhost" --tls 1.3 --ciphers $C13 --verify "$R/pki/ca.crt" \
          --get $GET --conns 2 --requests 6 --duration 10 --json 2>>"$R/tlsload.err" || true)
    echo "$res" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r.get("handshakes")==6 and r.get("transfers")==6 and sum(r["errors"].values())==0 else 1)' \
      || die "sanity check failed for node $n, pool $p: $res"
  done
done

# ---------------------------------------------------------------------------------------------- load
OUT=$R/results.jsonl
: > "$OUT"
targets() { local out="" n; for n in "$@"; do out+="${out:+,}127.0.0.1:${TLSP[$n]}"; done; echo "$out"; }
lines() { wc -l < "$R/$1.log"; }
pool_args() { echo "--sni $1.localhost --tls 1.3 --ciphers $C13 --get $GET"; }

# run_load KIND TEST POOL "NODES" ROUND EXTRA_JSON -- TLSLOAD_ARGS...: one tlsload run against NODES; CPU ticks of
# every ActorTls node and of the backends, the machine's CPU counters, the load average, and the line numbers of
# every node's log before the run and 1.5 s after it (the stats lines of the run lie in between). One JSON line.
run_load() {
  local kind=$1 test=$2 pool=$3 nodes=$4 round=$5 extra=$6; shift 7
  local n b0=0 b1=0 m0 m1 out rc=0 tp t0 t1 la srv="" logs="" pid
  local -A c0 l0
  for n in $NODES; do alive $n; c0[$n]=$(ticks "${SPID[$n]}"); l0[$n]=$(lines $n); done
  for pid in $BE_PIDS; do b0=$((b0 + $(ticks "$pid"))); done
  m0=$(stat_cpu); la=$(loadavg); t0=$(date +%s.%N)
  "$TL" "$@" --threads "$NCPU" --json >"$R/last.json" 2>>"$R/tlsload.err" &
  tp=$!; PIDS+=($tp)
  wait $tp || rc=$?
  forget $tp
  t1=$(date +%s.%N); m1=$(stat_cpu)
  for pid in $BE_PIDS; do b1=$((b1 + $(ticks "$pid"))); done
  for n in $NODES; do alive $n; srv+="${srv:+,}\"$n\":$(( $(ticks "${SPID[$n]}") - ${c0[$n]} ))"; done
  out=$(cat "$R/last.json")
  [ -n "$out" ] || out='{"error":"no output"}'
  LAST_OUT=$out
  sleep 1.5   # the gateways' stats line of the run's last second
  for n in $NODES; do logs+="${logs:+,}\"$n\":[${l0[$n]},$(lines $n)]"; done
  printf '{"kind":"%s","test":"%s","pool":"%s","nodes":"%s","round":%d,"hz":%d,"ticks":{%s},"be_ticks":%d,"machine0":[%s],"machine1":[%s],"load":"%s","t0":%s,"t1":%s,"logs":{%s},"rc":%d,"cmd":"%s"%s,"res":%s}\n' \
    "$kind" "$test" "$pool" "$nodes" "$round" "$HZ" "$srv" $((b1 - b0)) "${m0// /,}" "${m1// /,}" "$la" "$t0" "$t1" \
    "$logs" "$rc" "bench/run/balancing-bench/tlsload $* --threads $NCPU --json" "$extra" "$out" >> "$OUT"
}
rate() { echo "$LAST_OUT" | sed -n 's/.*"hs_per_s":\([0-9.]*\).*/\1/p'; }

# entity_nodes: "POOL NODE" per pool, from the newest "pool entity started" line of the three logs
entity_nodes() { python3 bench/balancing_report.py placement "$R"; }
entity_of() { entity_nodes | awk -v p="$1" '$1 == p {print $2}'; }
started_count() { cat "$R"/x[123].log | grep -c 'pool entity started' || true; }

# ---- warm-up, then wait until the shard coordinator has stopped moving the pool entities
log "warm-up: ${WARM}s per pool over the three nodes, $FULL_CONNS connections"
for p in $POOLS; do
  # shellcheck disable=SC2046
  run_load warmup warmup "$p" "$NODES" 0 "" -- full --targets "$(targets $NODES)" $(pool_args $p) --conns $FULL_CONNS --duration "$WARM"
done
log "waiting until no pool entity has started (moved) and no shard rebalance has begun for ${SETTLE_QUIET}s (at most ${SETTLE_MAX}s more)"
# An entity starts on its new node only when a message reaches it: one connection per pool and second meanwhile.
poke() {
  local p tp
  for p in $POOLS; do
    # shellcheck disable=SC2046
    "$TL" full --targets "$(targets $NODES)" $(pool_args "$p") --conns 1 --requests 1 --duration 5 >/dev/null 2>>"$R/tlsload.err" &
    tp=$!; PIDS+=($tp)
    wait $tp || true
    forget $tp
  done
}
settle_from=$SECONDS
while :; do
  read -r age pending < <(python3 bench/balancing_report.py lastmove "$R")
  waited=$((SECONDS - settle_from))
  { [ "$age" -lt "$SETTLE_QUIET" ] || [ "$pending" -gt 0 ]; } && [ $waited -lt "$SETTLE_MAX" ] || break
  poke; sleep 1
done
SETTLED=$([ "$age" -ge "$SETTLE_QUIET" ] && [ "$pending" -le 0 ] && echo yes || echo no)
log "  entities ($(started_count) start(s) so far; settled: $SETTLED): $(entity_nodes | tr '\n' ' ')"
printf '{"kind":"placement","test":"after-warmup","settled":"%s","waited_s":%d,"entities":"%s"}\n' "$SETTLED" "$waited" "$(entity_nodes | tr '\n' ';')" >> "$OUT"

# ---- peak and the steady rate
log "peak: ${PEAK_DUR}s of pool lc over the three nodes, $FULL_CONNS connections"
# shellcheck disable=SC2046
run_load peak peak lc "$NODES" 0 "" -- full --targets "$(targets $NODES)" $(pool_args lc) --conns $FULL_CONNS --duration "$PEAK_DUR"
PEAK=$(rate)
log "  $PEAK handshakes/s; finding the connection count for about half of it (${CAL_DUR}s per step)"
HALF=$(awk -v p="$PEAK" 'BEGIN{print p / 2}')
STEADY_CONNS=""; prev_c=""; prev_r=""
for c in $CAL_STEPS; do
  # shellcheck disable=SC2046
  run_load calibrate calibrate lc "$NODES" 0 ",\"conns\":$c" -- full --targets "$(targets $NODES)" $(pool_args lc) --conns "$c" --duration "$CAL_DUR"
  r=$(rate)
  log "  $c connection(s): $r/s"
  if awk -v r="$r" -v h="$HALF" 'BEGIN{exit !(r >= h)}'; then
    # this step or the previous one, whichever is nearer half the peak
    if [ -n "$prev_c" ] && awk -v r="$r" -v q="$prev_r" -v h="$HALF" 'BEGIN{d1=r-h; d2=h-q; exit !(d2 < d1)}'; then
      STEADY_CONNS=$prev_c
    else
      STEADY_CONNS=$c
    fi
    break
  fi
  prev_c=$c; prev_r=$r
done
[ -n "$STEADY_CONNS" ] || STEADY_CONNS=$prev_c
log "  steady load: $STEADY_CONNS connection(s)"

# ---- test 1: pick latency at the steady rate, spread over the three nodes
log "test 1: pick latency, ${T1_DUR}s per pool and round, $T1_ROUNDS round(s), $STEADY_CONNS connection(s) over x1-x3"
for round in $(seq 1 "$T1_ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="$POOLS"; else order=$(echo "$POOLS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
  for p in $order; do
    # shellcheck disable=SC2046
    run_load picks picks "$p" "$NODES" "$round" ",\"conns\":$STEADY_CONNS,\"entities\":\"$(entity_nodes | tr '\n' ';')\"" -- \
      full --targets "$(targets $NODES)" $(pool_args "$p") --conns "$STEADY_CONNS" --duration "$T1_DUR"
    log "  round $round, pool $p: $(rate)/s"
  done
done

# ---- test 2: one node at full load, lc (scope cluster) against lcnode (scope node)
LC_HOST=$(entity_of lc)
LCNODE_HOST=$(entity_of lcnode)
[ -n "$LC_HOST" ] || die "no node logged \"pool entity started pool=lc\""
# The remote node: one not hosting lc's entity, preferably the one hosting lcnode's. A node-scope pool decides on
# the node, but its gateway still sends each ended lease to the pool's entity (PoolGateway.giveBack); on lcnode's
# host that message stays local, so the baseline has no cross-node traffic at all.
REMOTE=""
for n in $LCNODE_HOST x2 x3 x1; do [ "$n" = "$LC_HOST" ] || { REMOTE=$n; break; }; done
for n in $REMOTE $LC_HOST; do
  if [ "$n" = "$LC_HOST" ]; then where=local; else where=remote; fi
  log "test 2 on $n (lc's entity: $LC_HOST, $where): ${T2_WARM}s warm-up per pool, $ROUNDS round(s) of ${T2_DUR}s per pool"
  for p in lc lcnode; do
    # shellcheck disable=SC2046
    run_load warmup "cost-$where" "$p" "$n" 0 "" -- full --targets "$(targets $n)" $(pool_args $p) --conns $FULL_CONNS --duration "$T2_WARM"
  done
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="lc lcnode"; else order="lcnode lc"; fi
    for p in $order; do
      # shellcheck disable=SC2046
      run_load cost "cost-$where" "$p" "$n" "$round" ",\"node\":\"$n\",\"entities\":\"$(entity_nodes | tr '\n' ';')\"" -- \
        full --targets "$(targets $n)" $(pool_args $p) --conns $FULL_CONNS --duration "$T2_DUR"
      log "  round $round, pool $p: $(rate)/s"
    done
  done
done
printf '{"kind":"placement","test":"end","entities":"%s"}\n' "$(entity_nodes | tr '\n' ';')" >> "$OUT"
LOAD_END=$(loadavg)

X_CMDLINE=$(tr '\0' ' ' < "/proc/${SPID[x1]}/cmdline")
X_OPENSSL=$(sed -n 's/.* - \(OpenSSL [^;]*\); [0-9]* virtual host.*/\1/p; s/.* - \(OpenSSL .*\) loaded [0-9]* virtual host.*/\1/p' "$R/x1.log" | head -1)
XCLOSES=$(cat "$R"/x[123].log | grep -o 'reason=[a-z_-]*' | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $2, $1}' | sed 's/reason=//g')
XERRS=$(cat "$R"/x[123].log | grep -c -E ' (ERROR|WARN) ' || true)
XTIMEOUTS=$(cat "$R"/x[123].log | grep -c 'pool entity did not answer' || true)
log "stopping the cluster and the backends"
stop_started "${SPID[x1]}" "${SPID[x2]}" "${SPID[x3]}"
# shellcheck disable=SC2086
stop_started $BE_PIDS

# ---------------------------------------------------------------------------------------------- metadata, report
{
  printf 'mode\t%s\n' "$MODE"
  printf 'invocation\t%s\n' "$INVOCATION"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'rounds\t%s\n' "$ROUNDS"
  machine_meta
  printf 'actortls_openssl\t%s\n' "$X_OPENSSL"
  printf 'java\t%s\n' "$("$JAVA_BIN" -version 2>&1 | sed -n 2p)"
  printf 'java_bin\t%s\n' "$JAVA_BIN"
  printf 'actortls_cmdline\t%s\n' "$X_CMDLINE"
  printf 'java_opts\t%s\n' "$JAVA_OPTS"
  printf 'commit\t%s\n' "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pom.xml pekko.hocon actortls || echo ' (with uncommitted changes)')"
  printf 'load_start\t%s\n' "$LOAD_START"
  printf 'load_end\t%s\n' "$LOAD_END"
  printf 'peak\t%s\n' "$PEAK"
  printf 'steady_conns\t%s\n' "$STEADY_CONNS"
  printf 'remote_node\t%s\n' "$REMOTE"
  printf 'lc_host\t%s\n' "$LC_HOST"
  printf 'lcnode_host\t%s\n' "$LCNODE_HOST"
  printf 'params\twarm-up %s s per pool over the three nodes (%s connections); peak %s s (%s connections); calibration %s s per step; test 1: %s s per pool and round, %s round(s); test 2: %s s warm-up per pool and node, %s s per measurement, %s round(s), %s connections; every connection: TLS 1.3 %s, ECDSA P-256, GET %s\n' \
    "$WARM" "$FULL_CONNS" "$PEAK_DUR" "$FULL_CONNS" "$CAL_DUR" "$T1_DUR" "$T1_ROUNDS" "$T2_WARM" "$T2_DUR" "$ROUNDS" "$FULL_CONNS" "$C13" "$GET"
  printf 'x_closes\t%s\n' "$XCLOSES"
  printf 'x_errors\t%s\n' "$XERRS"
  printf 'x_pick_timeouts\t%s\n' "$XTIMEOUTS"
  printf 'settle_quiet\t%s\n' "$SETTLE_QUIET"
  printf 'ports\tnodes: TLS %s-%s, cluster %s-%s; backends %s-%s\n' "${TLSP[x1]}" "${TLSP[x3]}" "${CLP[x1]}" "${CLP[x3]}" "${BEP[be1]}" "${BEP[be3]}"
  for n in $NODES; do printf 'cluster_port_%s\t%s\n' "$n" "${CLP[$n]}"; done
} > "$R/meta.tsv"

log "writing the balancing section of docs/benchmarks.md"
python3 bench/balancing_report.py report "$R" > "$R/section.md"
mkdir -p docs
python3 bench/docsection.py docs/benchmarks.md balancing "$R/section.md"
log "done: docs/benchmarks.md (raw data: bench/run/balancing-bench/results.jsonl)"
