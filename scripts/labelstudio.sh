#!/usr/bin/env bash
# Install Label Studio in its own venv (if missing) and run it on 127.0.0.1 with a
# known admin user and API token, ready for liqa's ML backend
# (python -m liqa.annotations serve; see annotations/README.md).
#
#   scripts/labelstudio.sh install   # only install (.venv-labelstudio)
#   scripts/labelstudio.sh [start]   # install if missing, then run the server in the foreground
#
# Label Studio pins Django and ~150 other packages, so it never goes into liqa's .venv.
# Settings (environment variables, with their defaults):
#   LABEL_STUDIO_VENV       .venv-labelstudio        where Label Studio is installed
#   LABEL_STUDIO_PORT       8080
#   LABEL_STUDIO_DATA_DIR   runs/labelstudio/data    SQLite database and uploads (kept between runs)
#   LABEL_STUDIO_USERNAME   liqa@example.com         the admin, created on the first start
#   LABEL_STUDIO_PASSWORD   liqa-labelstudio
#   LABEL_STUDIO_USER_TOKEN liqa-local-labelstudio-token   API token: 'Authorization: Token ...'
#   PYTHON                  python3                  3.10 to 3.13, to create the venv
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=1.23.2
VENV=${LABEL_STUDIO_VENV:-$ROOT/.venv-labelstudio}
PORT=${LABEL_STUDIO_PORT:-8080}
DATA=${LABEL_STUDIO_DATA_DIR:-$ROOT/runs/labelstudio/data}

install() {
    if [ -x "$VENV/bin/label-studio" ] && "$VENV/bin/python" -m pip show label-studio 2>/dev/null \
            | grep -qx "Version: $VERSION"; then
        return
    fi
    echo "installing label-studio==$VERSION into $VENV (a few minutes)" >&2
    "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet "label-studio==$VERSION"
}

start() {
    install
    mkdir -p "$DATA"
    export LABEL_STUDIO_USERNAME=${LABEL_STUDIO_USERNAME:-liqa@example.com}
    export LABEL_STUDIO_PASSWORD=${LABEL_STUDIO_PASSWORD:-liqa-labelstudio}
    export LABEL_STUDIO_USER_TOKEN=${LABEL_STUDIO_USER_TOKEN:-liqa-local-labelstudio-token}
    # 1.23 turns legacy tokens off for new organizations; the fixed token above is one
    export LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
    # The ML backend runs on this machine, which Label Studio's SSRF guard refuses twice: for
    # the backend's URL (ML_BLOCK_LOCAL_IP) and for the /webhook it registers on the backend
    # (SSRF_PROTECTION_ENABLED; connecting then fails with 403 "URL resolves to a reserved
    # network address"). Open the loopback only: 1.23.2's banned subnets minus 127.0.0.0/8, ::1.
    export ML_BLOCK_LOCAL_IP=false USE_DEFAULT_BANNED_SUBNETS=false
    export USER_ADDITIONAL_BANNED_SUBNETS=0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,169.254.0.0/16,172.16.0.0/12,\
192.0.0.0/24,192.0.2.0/24,192.88.99.0/24,192.168.0.0/16,198.18.0.0/15,198.51.100.0/24,203.0.113.0/24,\
224.0.0.0/4,233.252.0.0/24,240.0.0.0/4,255.255.255.255/32,::/128,::ffff:0:0/96,::ffff:0:0:0/96,\
64:ff9b::/96,64:ff9b:1::/48,100::/64,2001:0000::/32,2001:20::/28,2001:db8::/32,2002::/16,fc00::/7,\
fe80::/10,ff00::/8
    # everything Label Studio writes stays in the data directory (not ~/.local/share)
    export LABEL_STUDIO_BASE_DATA_DIR=$DATA
    # nothing leaves the machine: no telemetry, error reports or version check
    export COLLECT_ANALYTICS=false SENTRY_DSN= FRONTEND_SENTRY_DSN= LATEST_VERSION_CHECK=false
    echo "Label Studio $VERSION on http://127.0.0.1:$PORT (user $LABEL_STUDIO_USERNAME, data $DATA)" >&2
    exec "$VENV/bin/label-studio" start --no-browser --host "http://127.0.0.1:$PORT" \
        --internal-host 127.0.0.1 --port "$PORT" --data-dir "$DATA"
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac
