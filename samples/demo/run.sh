#!/usr/bin/env bash
# Runs attache in front of a sample service: Python's http.server serving samples/demo/site
# on 127.0.0.1:$TARGET_PORT (8087), attache on 127.0.0.1:$PORT (8080) with rules/default.yaml,
# its admin port and dashboard on 127.0.0.1:$ADMIN_PORT (9901).
# Installs what it needs when missing (libyaml-dev, python3). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${PORT:-8080}"
TARGET_PORT="${TARGET_PORT:-8087}"
ADMIN_PORT="${ADMIN_PORT:-9901}"

need_packages=()
pkg-config --exists yaml-0.1 2>/dev/null || need_packages+=(libyaml-dev pkg-config)
command -v python3 >/dev/null || need_packages+=(python3)
if [ "${#need_packages[@]}" -gt 0 ]; then
    echo "installing: ${need_packages[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

echo "building attache (the first build takes a minute or two)…"
swift build --product attache >/dev/null
binary="$(swift build --product attache --show-bin-path)/attache"

python3 -m http.server "$TARGET_PORT" --bind 127.0.0.1 --directory samples/demo/site >/dev/null 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    python3 - "$TARGET_PORT" <<'PY' && break
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
except OSError:
    sys.exit(1)
PY
    sleep 0.1
done

cat <<MSG

  sample service  http://127.0.0.1:$TARGET_PORT/   (python3 -m http.server)
  attache         http://127.0.0.1:$PORT/          (rules/default.yaml)
  dashboard       http://127.0.0.1:$ADMIN_PORT/          (attache's admin port)

  try:  curl -i http://127.0.0.1:$PORT/             the service's page, passed through
        curl -i http://127.0.0.1:$PORT/about.html
        curl -i http://127.0.0.1:$PORT/missing      attache's friendly 404 page
        curl http://127.0.0.1:$ADMIN_PORT/stats            timing per endpoint (JSON)
  each request prints one access-log line below; Ctrl-C stops both.

MSG
"$binary" run --rules rules --listen "127.0.0.1:$PORT" --upstream "127.0.0.1:$TARGET_PORT" \
    --admin "127.0.0.1:$ADMIN_PORT" --drain-delay 0 &
relay=$!
# Ctrl-C or a TERM to this script drains attache (it finishes requests in flight) and stops.
trap 'kill -TERM $relay 2>/dev/null || true' INT TERM
wait $relay || true
wait $relay 2>/dev/null || true
