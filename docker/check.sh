#!/usr/bin/env bash
# Static checks of the container files (no container engine needed): the entrypoint's shell syntax, the compose file
# (docker-compose config), the HAProxy configuration (haproxy -c) and the Dockerfile (dockerfile-utils lint, from npm).
# DOCKERFILE_LINT: the dockerfile-utils binary (default: on PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

bash -n entrypoint.sh
if command -v shellcheck >/dev/null; then shellcheck entrypoint.sh check.sh; fi
docker-compose -f compose.yml config -q
haproxy -c -q -f haproxy.cfg
"${DOCKERFILE_LINT:-dockerfile-utils}" lint Dockerfile
echo "docker/: entrypoint.sh, compose.yml, haproxy.cfg and Dockerfile check out"
