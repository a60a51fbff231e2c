#!/bin/sh
# Runs the app with the live code: prodlike-node-watch restarts it when a source file
# changes, however it was saved (the code is a bind mount, so the edit is seen at once).
# The entry point is package.json's "main", else server.js, else index.js; APP_MAIN
# overrides.
set -eu
main="${APP_MAIN:-}"
if [ -z "$main" ] && [ -f package.json ]; then
  main=$(node -e 'try { process.stdout.write(require("./package.json").main || "") } catch {}')
fi
if [ -z "$main" ]; then
  for candidate in server.js index.js; do
    [ -f "$candidate" ] && { main=$candidate; break; }
  done
fi
[ -n "$main" ] || { echo "prodlike: no entry point (package.json main, server.js, index.js or APP_MAIN)" >&2; exit 1; }
exec node /usr/local/lib/prodlike-node-watch.js "$main"
