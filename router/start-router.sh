#!/bin/sh
# Starts Caddy with the last configuration prodlike loaded into it (routes come back
# after a restart of the engine), or with an empty one on the router's first start.
#
# The CA is prodlike's own, made here with openssl, not Caddy's default one: its root
# carries X.509 name constraints (DNS names under `localhost` only, no IP address at all),
# so a browser or system that trusts it (`prodlike trust`) can never be given a
# certificate for any other name by it, whoever gets hold of the router. A root without
# them (Caddy's, from before) is replaced.
set -eu
umask 077
config=/data/prodlike.json
ca=/data/prodlike-ca
mkdir -p "$ca"

constrained() {
  openssl x509 -in "$ca/root.crt" -noout -ext nameConstraints 2>/dev/null | grep -q 'DNS:.localhost'
}

if ! constrained; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$ca/root.key.next" -out "$ca/root.crt.next" -days 3650 \
    -subj "/O=prodlike/CN=prodlike local CA (.localhost names only)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=critical,permitted;DNS:localhost,permitted;DNS:.localhost,excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::" \
    2>/dev/null
  mv "$ca/root.key.next" "$ca/root.key"
  mv "$ca/root.crt.next" "$ca/root.crt"
  rm -f "$ca/intermediate.crt"
fi

# The intermediate Caddy signs with: made again within 30 days of its end.
if ! openssl x509 -in "$ca/intermediate.crt" -noout -checkend 2592000 >/dev/null 2>&1; then
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nnameConstraints=critical,permitted;DNS:localhost,permitted;DNS:.localhost,excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::\n' \
    > "$ca/intermediate.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$ca/intermediate.key" -subj "/O=prodlike/CN=prodlike local CA intermediate" \
    -out "$ca/intermediate.csr" 2>/dev/null
  openssl x509 -req -in "$ca/intermediate.csr" -CA "$ca/root.crt" -CAkey "$ca/root.key" \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 365 \
    -extfile "$ca/intermediate.ext" -out "$ca/intermediate.crt" 2>/dev/null
  rm -f "$ca/intermediate.csr" "$ca/intermediate.ext"
  # Certificates signed by an intermediate that is gone are made again.
  rm -rf /data/certificates-localhost-ca/certificates
fi

[ -f "$config" ] || printf '{"admin":{"listen":"localhost:2019"}}\n' > "$config"
exec caddy run --config "$config"
