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
[ -f dist/bundle/cli/tsvisor.cjs ] || node dist/scripts/bundle.js
node dist/test/helpers/build-all.js >/dev/null
# The kit shares the project's parent directory read-write at the same path and runs in $PWD. Its
# emulated host has a devtmpfs /dev but no devpts: mounted first, so that the foundation runs once
# more with stdout on a pseudo-terminal (script -qec). Its 9p root can show /proc and /sys as one
# directory (the host's two mount points have the same inode number), so that the sysfs mounted
# last hides proc there: native programs then find no /proc/self. Unmounting that sysfs uncovers proc.
prepare='[ -e /dev/pts/ptmx ] || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }; [ -e /proc/self ] || umount /proc'
exec bash "$kit" -t 1500 -- sh -c "$prepare"'; exec "$0" test/svm/run-foundation.mjs' "$(command -v node)"
