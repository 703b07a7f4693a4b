# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run): bench/run.sh, bench/cluster.sh and
# bench/balancing.sh.
#
# Before sourcing, set BENCH_NAME (used in messages). The caller owns PIDS: every process it starts goes into
# PIDS, and bench_traps makes sure each of them is stopped, by PID, when the script exits.

log() { echo "[$(date +%T)] $*"; }
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- prerequisites
bench_prereqs() {   # bench_prereqs SHARED_DIR
  local tool
  for tool in cc openssl python3 awk sed ps; do
    command -v $tool >/dev/null || die "$tool is missing (Debian: apt-get install -y build-essential openssl python3 procps)"
  done
  [ -f /usr/include/openssl/ssl.h ] || die "OpenSSL headers are missing (Debian: apt-get install -y libssl-dev)"
  [ -f "$1/tlsload.c" ] && [ -f "$1/backend.c" ] || die "$1 (tlsload.c, backend.c) not found next to the repository"
}

bench_haproxy() {   # sets HAPROXY to Debian's haproxy, installing the package first when root may
  if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
    if [ "$(id -u)" = 0 ]; then
      log "haproxy is missing: apt-get install -y haproxy"
      DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >/dev/null || die "apt-get install -y haproxy failed"
    else
      die "haproxy is not installed and this is not root; install it (apt-get install -y haproxy) and run again"
    fi
  fi
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
}

bench_build_tools() {   # bench_build_tools SHARED_DIR OUT_DIR: tlsload and backend, from source
  cc -std=c11 -O2 -Wall -Wextra -o "$2/tlsload" "$1/tlsload.c" -lssl -lcrypto -lpthread
  cc -std=c11 -O2 -Wall -Wextra -o "$2/backend" "$1/backend.c" -lpthread
}

# ---------------------------------------------------------------------------------------------- ports
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {   # wait_port PORT SECONDS
  local k
  for k in $(seq 1 $(($2 * 10))); do port_busy "$1" && return 0; sleep 0.1; done
  return 1
}
ports_free() {   # ports_free KNOB PORT...: dies naming the environment knob that moves them
  local p
  for p in "${@:2}"; do
    if port_busy "$p"; then die "port $p on 127.0.0.1 is in use; pick other ports with $1"; fi
  done
}

# ---------------------------------------------------------------------------------------------- process control
PIDS=()
stop_pids() {   # SIGTERM PIDs we started (all at once: a cluster node waits for the others while leaving),
  local pid k left   # wait up to 30 s, then SIGKILL
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for k in $(seq 1 300); do
    left=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
forget() {   # forget PIDs: they have been waited for; never signal them again (their numbers may be reused)
  local i p
  for p in "$@"; do
    for i in "${!PIDS[@]}"; do [ "${PIDS[$i]}" != "$p" ] || unset 'PIDS[i]'; done
  done
  PIDS=("${PIDS[@]}")
}
stop_started() { stop_pids "$@"; forget "$@"; }
run_tracked() {   # run_tracked CMD...: CMD in the background, in PIDS while it runs, waited for (so that a signal to
  local p rc=0    # the script is handled at once, and the script's exit stops it); returns CMD's exit status
  "$@" &
  p=$!; PIDS+=("$p")
  wait "$p" || rc=$?
  forget "$p"
  return "$rc"
}
bench_cleanup() {
  trap - EXIT INT TERM
  [ ${#PIDS[@]} = 0 ] || stop_pids "${PIDS[@]}"
}
bench_traps() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# ---------------------------------------------------------------------------------------------- measurement
HZ=$(getconf CLK_TCK)
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }        # utime+stime, clock ticks
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
stat_cpu() { awk '/^cpu /{print $2 + $3 + $4, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }  # busy steal total
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# machine_meta: key<TAB>value lines describing the machine and the software (for a meta.tsv)
machine_meta() {
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu_model\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'os\t%s\n' "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  printf 'mem\t%s\n' "$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  printf 'openssl_cli\t%s\n' "$(openssl version)"
}

# versions_meta ACTORTLS_LOG JAVA_BIN: key<TAB>value lines of the OpenSSL an ActorTls node loaded (from its log),
# HAProxy ($HAPROXY, see bench_haproxy) and Java
versions_meta() {
  printf 'actortls_openssl\t%s\n' "$(sed -n 's/.* - \(OpenSSL [^;]*\); [0-9]* virtual host.*/\1/p; s/.* - \(OpenSSL .*\) loaded [0-9]* virtual host.*/\1/p' "$1" | head -1)"
  printf 'haproxy\t%s\n' "$("$HAPROXY" -v | head -1)"
  printf 'haproxy_openssl\t%s\n' "$("$HAPROXY" -vv | sed -n 's/^Running on OpenSSL version : //p')"
  printf 'java\t%s\n' "$("$2" -version 2>&1 | sed -n 2p)"
  printf 'java_bin\t%s\n' "$2"
}

# ---------------------------------------------------------------------------------------------- ActorTls and its PKI
# The callers (run.sh, soak.sh) set R, SNI_EC, SNI_RSA, BE_PORT, ATLS_LOG_LEVEL, CLUSTER_PASSWORD, JAVA_OPTS and
# PIN_SRV before calling these.

# bench_pki DIR: one CA (EC P-256); leaves: EC P-256 and RSA-2048. The same files serve every system (HAProxy
# wants certificate+key in one PEM: the same bytes, concatenated).
bench_pki() {
  (
    cd "$1"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=ActorTls bench CA" -out ca.crt 2>/dev/null
    for kt in ec rsa; do
      if [ $kt = ec ]; then alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256); else alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048); fi
      openssl genpkey "${alg[@]}" -out $kt.key 2>/dev/null
      openssl req -new -key $kt.key -subj "/CN=$kt.localhost" -out $kt.csr 2>/dev/null
      printf '%s\n' "subjectAltName=DNS:$kt.localhost,DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
        "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > $kt.ext
      openssl x509 -req -in $kt.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile $kt.ext \
        -out $kt.crt 2>/dev/null
      cat $kt.crt $kt.key > $kt.pem
      rm -f $kt.csr $kt.ext
    done
  )
}

# actortls_conf FILE EC_PORT RSA_PORT CLUSTER_PORT: two listeners (EC port, RSA port); the vhost follows SNI; every
# other key (resumption = "both": session IDs and tickets) keeps its documented default.
actortls_conf() {
  local cluster_port=$4
  cat > "$1" <<EOF
# ActorTls node for bench/run.sh: two listeners (EC port, RSA port); the vhost follows SNI.
actortls {
  listeners = [
    { name = "ec", port = $2 }
    { name = "rsa", port = $3 }
  ]
  listener-defaults { host = "127.0.0.1" }
  vhosts {
    ec  { server-names = ["$SNI_EC"],  certificate = "$R/pki/ec.crt",  key = "$R/pki/ec.key",  backends = ["127.0.0.1:$BE_PORT"] }
    rsa { server-names = ["$SNI_RSA"], certificate = "$R/pki/rsa.crt", key = "$R/pki/rsa.key", backends = ["127.0.0.1:$BE_PORT"] }
  }
  default-vhost = "ec"
  log.level = "$ATLS_LOG_LEVEL"
  management.port = $((cluster_port + 10))   # not the default 7626: two instances run at once
  cluster {
    port = $cluster_port
    tls {
      key-store = "$R/cluster/node-1.p12", trust-store = "$R/cluster/truststore.p12"
      key-store-password = "$CLUSTER_PASSWORD", trust-store-password = "$CLUSTER_PASSWORD"
    }
  }
}
EOF
}

# start_actortls CONF LOG EC_PORT RSA_PORT -> sets STARTED to its PID (the launcher execs the JVM: same PID)
start_actortls() {
  local k
  (
    for v in ACTORTLS_PORT ACTORTLS_HOST ACTORTLS_BACKENDS ACTORTLS_DEFAULT_VHOST ACTORTLS_LOG_FORMAT ACTORTLS_LOG_LEVEL; do
      unset $v
    done
    export ACTORTLS_JAVA_OPTS="$JAVA_OPTS"
    exec "${PIN_SRV[@]}" ./actortls node --config "$1"
  ) >"$2" 2>&1 &
  STARTED=$!; PIDS+=($STARTED)
  for k in $(seq 1 1200); do
    grep -q "ActorTls node ready" "$2" && break
    if [ "$ATLS_LOG_LEVEL" != INFO ] && [ "$ATLS_LOG_LEVEL" != DEBUG ] && [ "$ATLS_LOG_LEVEL" != TRACE ] \
       && port_busy "$3" && port_busy "$4"; then break; fi
    kill -0 $STARTED 2>/dev/null || { tail -20 "$2" >&2; die "ActorTls exited during startup"; }
    sleep 0.1
  done
  port_busy "$3" && port_busy "$4" || { tail -20 "$2" >&2; die "ActorTls did not start within 120 s"; }
  case $(readlink "/proc/$STARTED/exe") in
    */java) ;;
    *) die "PID $STARTED is $(readlink "/proc/$STARTED/exe"), not the JVM; the launcher did not exec java" ;;
  esac
}
