#!/usr/bin/env bash
# Makes Hearth's local CA (once, constrained to local names and private addresses) and a server certificate it signs.
# Usage: scripts/gen-certs.sh CERTS_DIR [SAN…]   e.g. DNS:localhost DNS:hearth.local IP:127.0.0.1 IP:192.168.1.20
# Without SANs it only makes sure the CA exists. Hearth runs this itself at start-up whenever the
# machine's names or addresses change, or MDNS_NAME does (leaving out any the CA does not cover:
# it covers every .local name, so <MDNS_NAME>.local always).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 CERTS_DIR [SAN...]" >&2
  exit 64
fi
command -v openssl >/dev/null || { echo "openssl is not installed: run ./install.sh (or apt-get install openssl)" >&2; exit 69; }

dir=$1
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  # Name constraints: every device that trusts this CA trusts it only for local names and private
  # addresses, so a stolen CA key cannot impersonate any other site to them. DNS constraints are
  # written without a leading dot: by RFC 5280 "local" covers local and every name under it, and
  # every verifier reads it so (the dotted form is an extension not all of them know).
  host=$(hostname | tr '[:upper:]' '[:lower:]')
  host=${host%.local}
  permitted="permitted;DNS:localhost,permitted;DNS:local,permitted;DNS:lan,permitted;DNS:home.arpa,permitted;DNS:internal"
  if [[ $host =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] && [ "$host" != localhost ]; then
    permitted+=",permitted;DNS:$host"
  fi
  # Loopback, RFC 1918, link-local, CGNAT (100.64/10), IPv6 loopback, unique-local and link-local.
  for net in 127.0.0.0/255.0.0.0 10.0.0.0/255.0.0.0 172.16.0.0/255.240.0.0 192.168.0.0/255.255.0.0 \
    169.254.0.0/255.255.0.0 100.64.0.0/255.192.0.0 \
    ::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff fc00::/fe00:: fe80::/ffc0::; do
    permitted+=",permitted;IP:$net"
  done
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 \
    -subj "/O=Hearth/CN=Hearth local CA ($(hostname))" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -addext "nameConstraints=critical,$permitted" \
    -out ca.crt 2>/dev/null
  chmod 644 ca.crt
fi
[ $# -ge 2 ] || exit 0
shift

sans=$(IFS=,; echo "$*")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/server.key"
openssl req -new -key "$tmp/server.key" -subj "/O=Hearth/CN=$(hostname)" -out "$tmp/server.csr" 2>/dev/null
cat > "$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans
authorityKeyIdentifier=keyid
CNF
# 397 days: within what browsers and Apple devices accept for a server certificate.
openssl x509 -req -in "$tmp/server.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 397 -sha256 \
  -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>/dev/null
mv "$tmp/server.key" server.key
mv "$tmp/server.crt" server.crt
chmod 600 server.key
chmod 644 server.crt
