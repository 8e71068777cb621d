#!/usr/bin/env bash
# Run by `npm test` (pretest): installs what the tests need, then builds. Fails loudly if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "test-setup: need root to install: $* " >&2; exit 1; fi
}

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)
# The managed TURN tests run the real coturn (turnserver, turnutils_uclient, turnutils_peer).
command -v turnserver >/dev/null || missing+=(coturn)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# One person of the cross-browser call test uses Firefox (puppeteer drives it over WebDriver BiDi).
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
# A small CJK font, so the screenshots of pages with hostile and non-Latin names can be read.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
# systemd-analyze verifies the unit install.sh --service writes (installing the package starts nothing in a container).
command -v systemd-analyze >/dev/null || missing+=(systemd)
# The mDNS tests run a private avahi-daemon (with its own dbus) in a network namespace.
{ [ -x /usr/sbin/avahi-daemon ] && command -v avahi-publish >/dev/null; } || missing+=(avahi-daemon avahi-utils)
command -v dbus-daemon >/dev/null || missing+=(dbus)
# The mDNS and TURN tests build network namespaces (ip, unshare).
command -v ip >/dev/null || missing+=(iproute2)
# The shared-video test makes its clip with ffmpeg (H.264 in MP4).
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "test-setup: missing ${missing[*]} and no apt-get to install them" >&2; exit 1; }
  echo "test-setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v turnserver >/dev/null || { echo "test-setup: coturn's turnserver is missing after apt-get install coturn" >&2; exit 1; }
# Hearth runs its own turnserver; Debian's coturn service must not hold port 3478.
if command -v systemctl >/dev/null && systemctl list-unit-files coturn.service >/dev/null 2>&1; then
  as_root systemctl disable coturn.service >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then as_root systemctl stop coturn.service >/dev/null 2>&1 || true; fi
fi

# Node dependencies: install when absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test-setup: installing Node dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run -s build -- --quiet
