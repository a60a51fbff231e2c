#!/bin/sh
# Starts Caddy with the last configuration prodlike loaded into it (routes come back
# after a restart of the engine), or with an empty one on the router's first start.
set -eu
config=/data/prodlike.json
[ -f "$config" ] || printf '{"admin":{"listen":"localhost:2019"}}\n' > "$config"
exec caddy run --config "$config"
