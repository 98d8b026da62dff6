#!/bin/sh
# npm preinstall: make sure the Debian packages the build and the tests need are present.
# Cheap checks first (shell builtins and one stat), so a machine that has everything pays nothing.
# gcc/as build the addon, the guest stub and the test programs, so without them we stop;
# the rest only matters to some tests, so we warn and carry on.
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need gcc gcc
need g++ g++
need make make
need python3 python3
need as binutils
[ -x /bin/busybox ] || missing="$missing busybox-static"
# The dynamic-program tests run Debian's own programs by their paths.
[ -x /usr/bin/python3 ] || missing="$missing python3"
[ -x /usr/bin/sqlite3 ] || missing="$missing sqlite3"
[ -x /usr/bin/perl ] || missing="$missing perl"
[ -x /usr/bin/gawk ] || missing="$missing gawk"
# Python's own test suite (npm run test:python, and a few modules in npm test), for Debian's python3.X.
for lib in /usr/lib/python3.[0-9]*; do
  [ -f "$lib/os.py" ] && [ ! -d "$lib/test/test_json" ] && missing="$missing lib${lib#/usr/lib/}-testsuite"
done
# The --strace test compares the sandbox's trace with Debian's strace on the same program.
[ -x /usr/bin/strace ] || missing="$missing strace"
# The terminal test drives `tsvisor run -t` through tmux.
[ -x /usr/bin/tmux ] || missing="$missing tmux"
# The network test runs redis-server and redis-cli on the sandbox's own loopback.
[ -x /usr/bin/redis-server ] || missing="$missing redis-server"
[ -z "$missing" ] && exit 0

fatal_missing() { ! command -v gcc >/dev/null 2>&1 || ! command -v as >/dev/null 2>&1; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086  # $missing is a list of package names
  if apt-get update -qq >"$log" 2>&1 &&
     apt-get install -y -qq --no-install-recommends $missing >>"$log" 2>&1; then
    rm -f "$log"
    exit 0
  fi
  cat "$log" >&2
  rm -f "$log"
  echo "tsvisor: apt-get could not install:$missing" >&2
else
  echo "tsvisor: missing Debian packages:$missing; install them with: sudo apt-get install -y --no-install-recommends$missing" >&2
fi
if fatal_missing; then
  echo "tsvisor: gcc and as (binutils) are required to build; install them and retry" >&2
  exit 1
fi
exit 0
