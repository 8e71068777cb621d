#!/usr/bin/env bash
# Makes Hearth's local CA (once) and a server certificate it signs for the given names and addresses.
# Usage: scripts/gen-certs.sh CERTS_DIR SAN [SAN…]   e.g. DNS:localhost IP:127.0.0.1 IP:192.168.1.20
# Hearth runs this itself at start-up whenever the machine's names or addresses change.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 CERTS_DIR SAN [SAN...]" >&2
  exit 64
fi
command -v openssl >/dev/null || { echo "openssl is not installed: run ./install.sh (or apt-get install openssl)" >&2; exit 69; }

dir=$1; shift
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 \
    -subj "/O=Hearth/CN=Hearth local CA ($(hostname))" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out ca.crt 2>/dev/null
  chmod 644 ca.crt
fi

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
