"""The browser UI: server-rendered Jinja2 pages with htmx, graphs drawn by cytoscape.js and ECharts.

All scripts, styles and icons are served from ``/static`` (vendor files are copied from npm packages
at set-up time by ``scripts/copy-static.sh``); nothing is fetched from the network at run time.
"""
