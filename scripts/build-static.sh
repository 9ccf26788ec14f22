#!/usr/bin/env bash
# Front-end assets come from the npm registry at build time and are served by ciimap itself.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f package.json ] || exit 0
dest=src/ciimap/web/static/vendor
if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; else npm install --no-audit --no-fund --silent; fi
  touch node_modules
fi
[ -x scripts/copy-static.sh ] && scripts/copy-static.sh "$dest"
exit 0
