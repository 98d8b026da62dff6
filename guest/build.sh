#!/bin/sh
# Assembles the guest stub into build/guest/stub.bin and writes its symbol offsets to stub.syms.json,
# which src/platform reads, so code offsets are never duplicated by hand.
set -e
cd "$(dirname "$0")/.."
mkdir -p build/guest
as --64 -o build/guest/stub.o guest/stub.S
objcopy -O binary build/guest/stub.o build/guest/stub.bin
nm build/guest/stub.o | while read -r addr type name; do case $type in t|T) printf '%s"%s": %d' "${sep:-}" "$name" "$((0x$addr))"; sep=", ";; esac; done | { printf "{"; cat; printf "}\n"; } > build/guest/stub.syms.json
