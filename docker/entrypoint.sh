#!/usr/bin/env bash
# ActorTls container entrypoint: maps the container's environment to the node's documented settings (pekko.hocon)
# and execs java with the flags the `actortls` launcher uses. Tests run this same script as plain processes.
#
#   entrypoint.sh [node]          run a node (the default)
#   entrypoint.sh demo-backend    run the demo HTTP backend
#   entrypoint.sh certs DIR       one-time: cluster CA + node key store, a site certificate, a management token
#   entrypoint.sh healthcheck     exit 0 if the node's management API says /ready (the image's HEALTHCHECK)
#   entrypoint.sh ARGS...         any other actortls command, e.g. `cluster show`
#
# Environment (besides the ACTORTLS_* variables pekko.hocon reads itself, e.g. ACTORTLS_SEED_NODES,
# ACTORTLS_BACKENDS, ACTORTLS_PORT, ACTORTLS_CLUSTER_PORT, ACTORTLS_MANAGEMENT_TOKEN_FILE):
#   ACTORTLS_CLUSTER_HOST          address other nodes reach this one at (default: the container's first IP)
#   ACTORTLS_HOST                  interface the TLS listener binds (default 0.0.0.0)
#   ACTORTLS_MANAGEMENT_HOST       interface the management API binds (default 0.0.0.0: the container's network)
#   ACTORTLS_CLUSTER_PASSWORD_FILE file holding the password of the cluster key and trust stores (a secret)
#   ACTORTLS_TLS_CERTIFICATE, ACTORTLS_TLS_KEY   PEM files of the site's certificate chain and key (secrets);
#   ACTORTLS_SERVER_NAMES          its SNI names, comma-separated: together they make the vhost "site"
#   ACTORTLS_CONFIG                a node configuration file of your own, read before the settings above
#   ACTORTLS_BACKEND_NAME, ACTORTLS_BACKEND_PORT (8080)   for demo-backend
#   ACTORTLS_CLASSPATH             where the jars are (default /opt/actortls/lib/*); ACTORTLS_JAVA_OPTS: more JVM flags
set -euo pipefail

java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
classpath=${ACTORTLS_CLASSPATH:-/opt/actortls/lib/*}

run_java() {
  # The launcher's flags: OpenSSL through FFM, and Pekko's use of sun.misc.Unsafe on JDK 23+.
  # shellcheck disable=SC2086
  exec "$java_bin" --enable-native-access=ALL-UNNAMED -XX:+UseG1GC --sun-misc-unsafe-memory-access=allow \
    ${ACTORTLS_JAVA_OPTS:-} -cp "$classpath" io.actortls.node.Main "$@"
}

die() { echo "entrypoint: $*" >&2; exit 2; }

# A HOCON string literal.
quote() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

node() {
  export ACTORTLS_CLUSTER_HOST=${ACTORTLS_CLUSTER_HOST:-$(hostname -i | awk '{print $1}')}
  export ACTORTLS_HOST=${ACTORTLS_HOST:-0.0.0.0}
  export ACTORTLS_MANAGEMENT_HOST=${ACTORTLS_MANAGEMENT_HOST:-0.0.0.0}
  if [ -n "${ACTORTLS_CLUSTER_PASSWORD_FILE:-}" ]; then
    [ -r "$ACTORTLS_CLUSTER_PASSWORD_FILE" ] || die "ACTORTLS_CLUSTER_PASSWORD_FILE: cannot read $ACTORTLS_CLUSTER_PASSWORD_FILE"
    password=$(tr -d '\r\n' < "$ACTORTLS_CLUSTER_PASSWORD_FILE")
    export ACTORTLS_CLUSTER_KEY_STORE_PASSWORD=$password ACTORTLS_CLUSTER_TRUST_STORE_PASSWORD=$password
  fi
  config=$(mktemp "${TMPDIR:-/tmp}/actortls-node.XXXXXX.hocon")
  {
    [ -n "${ACTORTLS_CONFIG:-}" ] && echo "include file($(quote "$ACTORTLS_CONFIG"))"
    if [ -n "${ACTORTLS_TLS_CERTIFICATE:-}" ]; then
      [ -n "${ACTORTLS_TLS_KEY:-}" ] || die "ACTORTLS_TLS_CERTIFICATE is set but ACTORTLS_TLS_KEY is not"
      names=()
      IFS=',' read -r -a list <<< "${ACTORTLS_SERVER_NAMES:-localhost}"
      for n in "${list[@]}"; do n=${n// /}; [ -n "$n" ] && names+=("$(quote "$n")"); done
      echo "actortls.vhosts.site {"
      echo "  server-names = [$(IFS=,; echo "${names[*]}")]"
      echo "  certificate = $(quote "$ACTORTLS_TLS_CERTIFICATE")"
      echo "  key = $(quote "$ACTORTLS_TLS_KEY")"
      echo "}"
    fi
  } > "$config"
  run_java node --config "$config"
}

certs() {
  local dir=${1:-/certs}
  mkdir -p "$dir"
  "$java_bin" -cp "$classpath" io.actortls.node.Main cluster-certs --dir "$dir" --nodes 1
  if [ ! -f "$dir/site.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,DNS:actortls.local" -keyout "$dir/site.key" -out "$dir/site.crt" 2>/dev/null
    echo "site certificate: $dir/site.crt (localhost, actortls.local), key $dir/site.key"
  fi
  if [ ! -f "$dir/management.token" ]; then
    (umask 077; openssl rand -hex 24 > "$dir/management.token")
    echo "management token: $dir/management.token"
  fi
}

healthcheck() {
  exec curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:${ACTORTLS_MANAGEMENT_PORT:-7626}/ready"
}

case "${1:-node}" in
  node) [ $# -gt 0 ] && shift; [ $# -eq 0 ] || die "node takes no arguments: configure it through the environment"; node ;;
  -*) die "unknown option $1 (configure the node through the environment)" ;;
  demo-backend)
    shift
    run_java demo-backend --host "${ACTORTLS_BACKEND_HOST:-0.0.0.0}" --port "${ACTORTLS_BACKEND_PORT:-8080}" \
      --name "${ACTORTLS_BACKEND_NAME:-$(hostname)}" "$@" ;;
  certs) shift; certs "$@" ;;
  healthcheck) healthcheck ;;
  *) run_java "$@" ;;
esac
