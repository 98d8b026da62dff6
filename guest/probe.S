# The probe `tsvisor check` runs in the sandbox: 20000 getpid calls in glibc's form (`mov $nr, %eax;
# syscall`, so the exitless platform rewrites its site as it would a program's), then exit_group(0).
# No libc: nothing else runs, and the Sentry times the calls between the first and the last.
.globl _start
_start:
  mov $20000, %ebx
1:
  mov $39, %eax
  syscall
  dec %ebx
  jnz 1b
  xor %edi, %edi
  mov $231, %eax
  syscall
