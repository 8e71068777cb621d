#!/usr/bin/env bash
# Prepares this machine to run Hearth: system packages (if missing), Node dependencies, the build.
# Safe to run again. Certificates are made (and renewed) by Hearth itself when it starts.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<'EOF'
Usage: ./install.sh [--service | --uninstall-service [--purge]]
  (nothing)            system packages, Node dependencies and the build; then start with: npm start
  --service            the same, then Hearth as a systemd service that starts at boot: a 'hearth'
                       system user, data in /var/lib/hearth, settings in /etc/hearth.env
  --uninstall-service  stop and remove the service; keeps /var/lib/hearth, /etc/hearth.env and
                       the 'hearth' user (with --purge: removes them too, all accounts and data)
EOF
}

mode=build purge=no
for arg in "$@"; do
  case "$arg" in
    --service) [ "$mode" = build ] || { usage >&2; exit 2; }; mode=service ;;
    --uninstall-service) [ "$mode" = build ] || { usage >&2; exit 2; }; mode=uninstall ;;
    --purge) purge=yes ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'install.sh: unknown option %s\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$purge" = no ] || [ "$mode" = uninstall ] || { printf 'install.sh: --purge goes with --uninstall-service\n' >&2; exit 2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

apt_install() {
  command -v apt-get >/dev/null || die "missing $*; this script installs packages with apt-get (Debian/Ubuntu). Install them by hand."
  say "Installing system packages: $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ "$mode" = uninstall ]; then
  . scripts/install-service.sh
  uninstall_service "$purge"
  exit 0
fi

command -v node >/dev/null || die "Node.js 20 or newer is needed: https://nodejs.org or your distribution's nodejs package."
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node -v) is too old: Hearth needs Node 20 or newer."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)
# Where avahi-daemon runs, Hearth announces its .local name through it (avahi-publish); else its own responder does.
[ -x /usr/sbin/avahi-daemon ] && ! command -v avahi-publish >/dev/null && missing+=(avahi-utils)
# coturn: the TURN relay Hearth runs as its child (TURN=managed), for guest Wi-Fi and VLANs.
command -v turnserver >/dev/null || missing+=(coturn)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
command -v turnserver >/dev/null || die "coturn's turnserver is still missing after installing coturn."
# Hearth starts its own turnserver: Debian's coturn service must not hold the TURN port.
if command -v systemctl >/dev/null && systemctl list-unit-files coturn.service >/dev/null 2>&1; then
  as_root systemctl disable coturn.service >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then as_root systemctl stop coturn.service >/dev/null 2>&1 || true; fi
fi

say "Installing Node dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

say "Building Hearth"
npm run -s build -- --quiet

if [ "$mode" = service ]; then
  . scripts/install-service.sh
  install_service
else
  say "Ready. Start Hearth with: npm start"
fi
