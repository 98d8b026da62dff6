#!/bin/sh
# Builds what runs inside the guest besides the program, into build/guest/:
#   stub.bin, stub.syms.json   the guest stub (GNU as) and its symbol offsets, which src/platform reads,
#                              so code offsets are never duplicated by hand
#   vdso.so                    the vDSO image (C, gcc and vdso.lds), mapped into every process by src/loader
#   vvar.json                  the offsets of struct vvar (vvar.h), which the Sentry's writer reads
#   probe                      a static program of getpid calls that `tsvisor check` times (probe.S)
set -e
cd "$(dirname "$0")/.."
mkdir -p build/guest
as --64 -o build/guest/stub.o guest/stub.S
objcopy -O binary build/guest/stub.o build/guest/stub.bin
nm build/guest/stub.o | while read -r addr type name; do case $type in t|T) printf '%s"%s": %d' "${sep:-}" "$name" "$((0x$addr))"; sep=", ";; esac; done | { printf "{"; cat; printf "}\n"; } > build/guest/stub.syms.json

# The vDSO: position-independent code with no relocations at all (the image is copied in as it is),
# no libc, no stack protector or CET notes (nothing in the guest sets them up).
gcc -O2 -fPIC -nostdlib -shared -ffreestanding -fno-builtin -fno-stack-protector -fcf-protection=none \
  -Wall -Wextra -Werror \
  -Wl,-T,guest/vdso.lds -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,-Bsymbolic -Wl,--no-undefined \
  -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--eh-frame-hdr -Wl,--build-id=none \
  -o build/guest/vdso.dbg.so guest/vdso.c
objcopy -S build/guest/vdso.dbg.so build/guest/vdso.so
if readelf -r build/guest/vdso.so | grep -q 'R_X86_64'; then
  echo "guest/build.sh: the vDSO has dynamic relocations; it must be position-independent without them" >&2
  exit 1
fi
for sym in __vdso_clock_gettime __vdso_gettimeofday __vdso_time __vdso_clock_getres __vdso_getcpu; do
  readelf -W --dyn-syms build/guest/vdso.so | grep -q " $sym@@LINUX_2.6$" || { echo "guest/build.sh: the vDSO lacks $sym@@LINUX_2.6" >&2; exit 1; }
done
gcc -O2 -o build/guest/vvar-layout guest/vvar-layout.c
build/guest/vvar-layout > build/guest/vvar.json
as --64 -o build/guest/probe.o guest/probe.S
ld -static -o build/guest/probe build/guest/probe.o
