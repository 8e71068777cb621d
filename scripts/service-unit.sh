#!/usr/bin/env bash
# Prints Hearth's systemd unit (scripts/hearth.service.in with this checkout's path and node filled in); used by install.sh --service and the tests.
# Usage: scripts/service-unit.sh [--repo DIR] [--node PATH]   (defaults: this checkout, the node on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd -P)"

die() { printf 'service-unit.sh: %s\n' "$*" >&2; exit 1; }

repo="$(dirname "$here")"
node="$(command -v node || true)"
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo="${2:?--repo needs a directory}"; shift 2 ;;
    --node) node="${2:?--node needs a path}"; shift 2 ;;
    *) die "unknown argument: $1 (use --repo DIR, --node PATH)" ;;
  esac
done
[ -n "$node" ] || die "node is not on PATH; give it with --node PATH"
# The unit names real paths: a symlink (nvm's "current", /usr/bin/node → alternatives) may change under it.
repo="$(realpath -m -- "$repo")"
node="$(realpath -m -- "$node")"
for p in "$repo" "$node"; do
  # A unit file reads spaces, quotes, % and $ specially; such a path would need escaping everywhere.
  [[ $p =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "cannot put '$p' in a unit file: use a path of letters, digits and . _ - + / only"
done

# Home directories (/home, /root, /run/user) are hidden from Hearth (ProtectHome=yes), unless the
# checkout or node lives in one (a clone in ~/hearth, node from nvm): then every home becomes an
# empty tmpfs with just those directories bound into it, read-only. Hearth still sees no one's
# files, and it works even when that home directory is closed to others (mode 0700), because the
# directories above the bind mount are systemd's own.
under_home() { [[ $1 == /home/* || $1 == /root/* || $1 == /run/user/* ]]; }
binds=()
under_home "$repo" && binds+=("$repo")
# node's install prefix (…/bin/node → …): its lib/ must be readable too.
node_prefix="$(dirname "$(dirname "$node")")"
under_home "$node" && binds+=("$node_prefix")
if [ ${#binds[@]} -eq 0 ]; then
  protect_home='ProtectHome=yes'
else
  protect_home="ProtectHome=tmpfs
BindReadOnlyPaths=${binds[*]}"
fi

template="$here/hearth.service.in"
[ -r "$template" ] || die "missing $template"
while IFS= read -r line || [ -n "$line" ]; do
  if [ "$line" = '@PROTECT_HOME@' ]; then printf '%s\n' "$protect_home"; continue; fi
  line="${line//@REPO@/$repo}"
  line="${line//@NODE@/$node}"
  printf '%s\n' "$line"
done < "$template"
