#!/usr/bin/env bash
# Install the system tools ciimap needs, each on its own and only when it is missing.
# usage: scripts/sysdeps.sh run|test
#   run:  nmap (live discovery), node + npm (front-end packages at build time), CJK fonts (PDF reports)
#   test: the above, plus PostgreSQL server binaries and Chromium (browser tests)
# A working node/npm is never touched: many machines ship Node.js from outside Debian, and Debian's
# npm package conflicts with it. When apt cannot install a tool, one line says which and why.
set -uo pipefail
mode=${1:-run}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
updated=0
failed=0

say() { echo "sysdeps: $*" >&2; }

apt_install() {  # apt_install TOOL PACKAGE...
  local tool=$1; shift
  if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $tool: apt-get not found; install $* by hand"; failed=1; return 1
  fi
  if [ $updated = 0 ]; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; trying the package lists already on this machine"
    updated=1
  fi
  local out
  if ! out=$(DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" 2>&1); then
    local why
    why=$(printf '%s\n' "$out" | grep -E '^(E:|  )' | head -n 3 | tr -s ' \n' ' ')
    say "cannot install $tool (apt-get install $*): ${why:-apt-get failed}"
    failed=1; return 1
  fi
  say "installed $tool ($*)"
}

have() { command -v "$1" >/dev/null 2>&1; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

if ! have nmap; then
  # the server runs without nmap (only live discovery needs it); the test suite does need it
  if ! apt_install nmap nmap && [ "$mode" = run ]; then
    say "continuing without nmap: 'ciimap discover' and scheduled rescans will not work until it is installed"
    failed=0
  fi
fi
if ! have node; then
  apt_install "node and npm" nodejs npm    # no Node.js at all: Debian's, with its npm
elif ! have npm; then
  # A Node.js is there (often from outside Debian, npm included); Debian's npm would conflict with it.
  say "cannot install npm: node ($(command -v node), $(node --version 2>/dev/null)) is there without npm; install npm for that Node.js"
  failed=1
fi

# CJK fonts: the PDF reports embed one (ciimap.compliance.reports), the browser tests render with them
if ! installed fonts-noto-cjk; then
  apt_install "CJK fonts" fonts-noto-cjk fontconfig
fi
if [ "$mode" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install "PostgreSQL server" postgresql
  have chromium || apt_install chromium chromium
fi
exit $failed
