#!/bin/sh
# npm run test:svm: runs the foundation's guest programs through the sandbox on an emulated AMD SVM
# host (real CPL 0 in the stub, nested paging), the other host flavour next to our PVM machines.
# One VM boot (~9 s) runs every case: the emulated CPU is slow, so everything that can be prepared
# on this host (TypeScript build, gcc) is done before boot.
set -eu
cd "$(dirname "$0")/.."
kit=../shared/platform/svm-vm/run-in-svm.sh
if [ ! -f "$kit" ]; then
  echo "the SVM test needs the platform kit beside the project ($kit)"
  echo "svm: skipped"
  exit 0
fi
# The kit installs what it lacks with apt-get but without refreshing the package lists, which a fresh
# machine does not have yet.
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing QEMU and a Debian kernel for the emulated SVM host (first use only)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 linux-image-amd64 busybox-static cpio >/dev/null
fi
[ -f dist/test/helpers/build-all.js ] || node_modules/.bin/tsc -p tsconfig.json
node dist/test/helpers/build-all.js >/dev/null
# The kit shares the project's parent directory read-write at the same path and runs in $PWD.
exec bash "$kit" -t 1500 -- "$(command -v node)" test/svm/run-foundation.mjs
