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
[ -f dist/test/helpers/build-all.js ] || node_modules/.bin/tsc -p tsconfig.json
node dist/test/helpers/build-all.js >/dev/null
# The kit shares the project's parent directory read-write at the same path and runs in $PWD.
exec bash "$kit" -t 900 -- "$(command -v node)" test/svm/run-foundation.mjs
