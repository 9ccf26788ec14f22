#!/usr/bin/env bash
# Copy the front-end files the web UI needs from node_modules into the package's static folder.
# Called by scripts/build-static.sh with the destination (src/ciimap/web/static/vendor).
# Everything is served by ciimap itself: no CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-src/ciimap/web/static/vendor}
nm=node_modules
mkdir -p "$dest/swagger-ui"
cp "$nm/htmx.org/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$nm/cytoscape/dist/cytoscape.min.js" "$dest/cytoscape.min.js"
cp "$nm/echarts/dist/echarts.min.js" "$dest/echarts.min.js"
cp "$nm/swagger-ui-dist/swagger-ui-bundle.js" "$nm/swagger-ui-dist/swagger-ui.css" "$dest/swagger-ui/"
for pkg in htmx.org cytoscape echarts swagger-ui-dist; do
  lic=$(ls "$nm/$pkg"/LICENSE* 2>/dev/null | head -1 || true)
  [ -n "$lic" ] && cp "$lic" "$dest/LICENSE.$pkg"
done
echo "static vendor files copied to $dest"
