# tsvisor guest stub: the only code in the guest besides the program itself.
#
# One copy per vCPU, two pages, mapped at the vCPU's stub address:
#   page 0 (user, read+execute): this code, and at CONSTANTS the addresses the Sentry fills in
#   page 1 (user, read+write, NX): the mailbox shared with the Sentry (layout: src/platform/mailbox.ts)
# Everything is RIP-relative, so each copy finds its own mailbox. LSTAR and the IDT point at the copy.
#
# Where the code runs:
#   PVM host: `syscall` enters syscall_entry at CPL 3 (natively); IDT handlers run at CPL 0 (emulated,
#             about 1 us per instruction, so they stay short). CPL 0 is reached from the stub by int3.
#   VMX/SVM:  `syscall` enters at real CPL 0 on the user's stack; MB_DIRECT_CPL0 is set at boot, and the
#             stub applies the page-table queue itself on the kernel stack instead of taking int3.
# The mailbox page is writable by the program, so nothing privileged is read from it: the page-table
# queue lives in a supervisor-only page whose address is in the read-only CONSTANTS.

.set MB, mailbox                    # mailbox page, right after this code page (a label, so %rip operands are relative)
.set MB_STATE,        MB + 0x000   # u32: 0 running, 1 request posted, 2 answer ready (exitless mode)
.set MB_KIND,         MB + 0x008   # u32: event kind (1 = syscall); faults are recorded by the vCPU thread
.set MB_EXITLESS,     MB + 0x00c   # u32: 1 = spin on MB_STATE, 0 = exit to the VMM with out PORT_SYSCALL
.set MB_FS_PENDING,   MB + 0x030   # u32: load MB_FS_BASE into FS base before returning
.set MB_PT_PENDING,   MB + 0x034   # u32: page-table queue is not empty
.set MB_FS_BASE,      MB + 0x038
.set MB_SPIN_LIMIT,   MB + 0x040   # u64: pause iterations before parking
.set MB_DIRECT_CPL0,  MB + 0x048   # u32: 1 on VMX/SVM hosts (syscall entry runs at CPL 0)
.set MB_TRAPPED,      MB + 0x04c   # u32: 1 = this request came through `syscall`, 0 = through user_entry
.set MB_SLOW_RETURN,  MB + 0x050   # u32: user_entry must not return through its trampoline (it is gone)
.set MB_USER_ENTRY,   MB + 0x058   # u64: this copy's user_entry; GS base is MB, so trampolines `call *%gs:0x58`
.set MB_REGS,         MB + 0x080   # struct kvm_regs order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags
.set MB_ORIG_RAX,     MB + 0x110
.set MB_FRAME,        MB + 0x140   # iretq frame: rip cs rflags rsp ss
# Signal hops (sig_enter, sig_restore*, below), set by the Sentry; faults never write these.
.set MB_SIG_RIP,       MB + 0x180  # u64: where sig_leave jumps (the handler, or the interrupted code)
.set MB_SIG_RAX,       MB + 0x188  # u64: rax, rcx, rdx for sig_leave to load (the hops use them)
.set MB_SIG_RCX,       MB + 0x190
.set MB_SIG_RDX,       MB + 0x198
.set MB_SIG_SAVE,      MB + 0x1a0  # u64: the XSAVE area in the signal frame (sig_enter)
.set MB_SIG_LOAD,      MB + 0x1a8  # u64: the XSAVE or FXSAVE area to restore (sig_restore*)
.set MB_SIG_LOAD_MASK, MB + 0x1b0  # u64: components to load from it
.set MB_SIG_INIT_MASK, MB + 0x1b8  # u64: components to put in their initial state first
.set MB_SIG_NEXT,      MB + 0x1c0  # u64: after a restore, sig_leave (or sig_enter: a signal delivered at once)
.set MB_SIG_SAVE_MASK, MB + 0x1c8  # u64: components sig_enter saves and resets (never more than the Sentry knows:
                                   # a PVM host may run the guest with a wider XCR0 than KVM reports)

.set PORT_SYSCALL, 0x10
.set PORT_FAULT,   0x11
.set PORT_PARK,    0x12
.set USER_CS, 0x33
.set USER_RESUME, 0x7ffffffe       # rax of user_entry's own `syscall`: finish the posted request
.set USER_START,  0x7ffffffd       # rax of start_context's `syscall`: a context asks for its task
.set USER_SS, 0x2b

.set R_RAX, MB_REGS + 0x00
.set R_RBX, MB_REGS + 0x08
.set R_RCX, MB_REGS + 0x10
.set R_RDX, MB_REGS + 0x18
.set R_RSI, MB_REGS + 0x20
.set R_RDI, MB_REGS + 0x28
.set R_RSP, MB_REGS + 0x30
.set R_RBP, MB_REGS + 0x38
.set R_R8,  MB_REGS + 0x40
.set R_R9,  MB_REGS + 0x48
.set R_R10, MB_REGS + 0x50
.set R_R11, MB_REGS + 0x58
.set R_R12, MB_REGS + 0x60
.set R_R13, MB_REGS + 0x68
.set R_R14, MB_REGS + 0x70
.set R_R15, MB_REGS + 0x78
.set R_RIP, MB_REGS + 0x80
.set R_RFLAGS, MB_REGS + 0x88

# The register file in the mailbox, all but rax and rsp (which each entry saves its own way). rcx holds
# the return address and r11 the user's rflags, as `syscall` leaves them.
.macro save_registers
  mov %rbx, R_RBX(%rip)
  mov %rcx, R_RCX(%rip)
  mov %rcx, R_RIP(%rip)
  mov %rdx, R_RDX(%rip)
  mov %rsi, R_RSI(%rip)
  mov %rdi, R_RDI(%rip)
  mov %rbp, R_RBP(%rip)
  mov %r8,  R_R8(%rip)
  mov %r9,  R_R9(%rip)
  mov %r10, R_R10(%rip)
  mov %r11, R_R11(%rip)
  mov %r11, R_RFLAGS(%rip)
  mov %r12, R_R12(%rip)
  mov %r13, R_R13(%rip)
  mov %r14, R_R14(%rip)
  mov %r15, R_R15(%rip)
.endm

# Every general register but rsp back from the (possibly edited) register file.
.macro load_registers
  mov R_RAX(%rip), %rax
  mov R_RBX(%rip), %rbx
  mov R_RCX(%rip), %rcx
  mov R_RDX(%rip), %rdx
  mov R_RSI(%rip), %rsi
  mov R_RDI(%rip), %rdi
  mov R_RBP(%rip), %rbp
  mov R_R8(%rip),  %r8
  mov R_R9(%rip),  %r9
  mov R_R10(%rip), %r10
  mov R_R11(%rip), %r11
  mov R_R12(%rip), %r12
  mov R_R13(%rip), %r13
  mov R_R14(%rip), %r14
  mov R_R15(%rip), %r15
.endm

.code64
.text
.org 0
# ---- syscall: save the whole user register file, post the request, wait, restore, iretq ----
syscall_entry:
  cmp $USER_RESUME, %rax
  je resume_posted
trapped_entry:
  movl $1, MB_TRAPPED(%rip)
  mov %rsp, R_RSP(%rip)
  mov %rax, R_RAX(%rip)
  mov %rax, MB_ORIG_RAX(%rip)
  save_registers
  movl $1, MB_KIND(%rip)
  cmpl $0, MB_EXITLESS(%rip)
  jne post_request
  outb %al, $PORT_SYSCALL          # exit mode: the VMM answers in the mailbox, then resumes here
  jmp answered

post_request:                      # exitless mode: publish, then spin on the doorbell
  movl $1, MB_STATE(%rip)
wait_answer:
  mov MB_SPIN_LIMIT(%rip), %rcx
2:
  cmpl $2, MB_STATE(%rip)
  je 3f
  cmpl $3, MB_STATE(%rip)          # the Sentry answers later: park now, leave the CPU to others
  je 7f
  pause
  dec %rcx
  jnz 2b
7:
  outb %al, $PORT_PARK             # long wait: the vCPU thread sleeps until the answer is there
  jmp wait_answer
3:
  movl $0, MB_STATE(%rip)

answered:
  movl $0, MB_SLOW_RETURN(%rip)
  cmpl $0, MB_FS_PENDING(%rip)
  je 4f
  mov MB_FS_BASE(%rip), %rax
  wrfsbase %rax
  movl $0, MB_FS_PENDING(%rip)
4:
  cmpl $0, MB_PT_PENDING(%rip)
  je 6f
  cmpl $0, MB_DIRECT_CPL0(%rip)
  jne 5f
  int3                             # PVM: enter CPL 0 through the DPL-3 gate to apply the queue
int3_return:
  jmp 6f
5:
  mov kstack_top(%rip), %rsp       # VMX/SVM: already at CPL 0; never push onto the user's stack
  call apply_queue
6:
  mov R_RIP(%rip), %rax            # iretq frame from the (possibly edited) register file
  mov %rax, MB_FRAME(%rip)
  movq $USER_CS, MB_FRAME+8(%rip)
  mov R_RFLAGS(%rip), %rax
  mov %rax, MB_FRAME+16(%rip)
  mov R_RSP(%rip), %rax
  mov %rax, MB_FRAME+24(%rip)
  movq $USER_SS, MB_FRAME+32(%rip)
  load_registers
  lea MB_FRAME(%rip), %rsp
  iretq

resume_posted:                     # user_entry posted the request and needs this path to finish it
  cmpl $0, MB_STATE(%rip)
  je trapped_entry                 # nothing posted: the program's own call with that number
  jmp wait_answer

# ---- int3 (vector 3, DPL 3): the stub's way into CPL 0 on PVM; any other int3 is the program's ----
.org 0x200
int3_entry:
  push %rax
  lea int3_return(%rip), %rax
  cmp %rax, 8(%rsp)
  pop %rax
  jne 7f
  call apply_queue
  iretq
7:
  pushq $0
  pushq $3
  jmp exc_common

# ---- apply the page-table queue: rewrite each entry at CPL 0 so that shadow paging sees it ----
# Queue page (supervisor-only): u64 count, u64 reload_cr3, then {u64 pte_va, u64 value, u64 invlpg_va}.
# An entry is rewritten only while it still holds the queued value (lock cmpxchg): another vCPU's
# Sentry may have changed it since, and a late replay must not undo that. Bit 0 of invlpg_va asks
# for a plain store instead (the scrub of a retired table, which nothing else writes).
.org 0x280
apply_queue:
  push %rax
  push %rcx
  push %rdx
  push %rsi
  push %rdi
  mov queue_va(%rip), %rsi
  mov (%rsi), %rcx
  lea 16(%rsi), %rsi
8:
  test %rcx, %rcx
  jz 9f
  mov (%rsi), %rdi
  mov 8(%rsi), %rax
  mov 16(%rsi), %rdx
  btr $0, %rdx
  jc 12f
  lock cmpxchg %rax, (%rdi)
  jmp 13f
12:
  mov %rax, (%rdi)
13:
  invlpg (%rdx)
  add $24, %rsi
  dec %rcx
  jmp 8b
9:
  mov queue_va(%rip), %rsi         # header word 1: 0 nothing, 1 flush the TLB, else the CR3 to load
  movq $0, (%rsi)
  mov 8(%rsi), %rax
  test %rax, %rax
  je 10f
  movq $0, 8(%rsi)
  cmp $1, %rax
  jne 15f
  mov %cr3, %rax
15:
  mov %rax, %cr3
10:
  movl $0, MB_PT_PENDING(%rip)
  pop %rdi
  pop %rsi
  pop %rdx
  pop %rcx
  pop %rax
  ret

# ---- every other exception: exit to the VMM with the frame on the kernel stack ----
# Stack: vector, error code, rip, cs, rflags, rsp, ss. The VMM records the event in the mailbox and,
# before resuming, writes back the general registers and this frame from the mailbox register file.
.org 0x300
exc_common:
  outb %al, $PORT_FAULT
  cmpl $0, MB_PT_PENDING(%rip)
  je 11f
  call apply_queue
11:
  # A context can be handed a new task while it sits here (a signal's interrupt reached it as its
  # task ended): that task's FS base must be loaded on this way out too.
  cmpl $0, MB_FS_PENDING(%rip)
  je 16f
  push %rax
  mov MB_FS_BASE(%rip), %rax
  wrfsbase %rax
  pop %rax
  movl $0, MB_FS_PENDING(%rip)
16:
  add $16, %rsp
  iretq

.org 0x400
exc_entries:                       # 32 entries of 16 bytes; the CPU pushes an error code for some
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  .balign 16
  .if \v == 2
    jmp nmi_entry
  .elseif (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
    pushq $\v
  .else
    pushq $0
    pushq $\v
  .endif
  jmp exc_common
.endr

# ---- user_entry: the same request without the `syscall` trap, called from a patched call site ----
# Reached in user mode from a trampoline the Sentry wrote (src/kernel/syscall-sites.ts), with rax = the
# syscall number and rcx = the return address, as `syscall` would leave them; the trampoline stepped
# below the red zone before its call, so the program's rsp is rsp + 8 + 128. The answer comes back by
# `ret` when it needs nothing at CPL 0; otherwise (FS base, page-table queue, the trampoline unmapped
# by this very call) or after a long spin, a `syscall` with USER_RESUME finishes the request on the
# ordinary path, which returns straight to rcx.
.org 0x600
user_entry:
  # pushfq is the only access here that can fault (a stack page not yet touched): it comes first,
  # since a fault stores every register in the mailbox and would overwrite R_RAX saved before it.
  pushfq
  pop %r11
  mov %rax, R_RAX(%rip)
  mov %rax, MB_ORIG_RAX(%rip)
  lea 136(%rsp), %rax
  mov %rax, R_RSP(%rip)
  save_registers
  movl $1, MB_KIND(%rip)
  movl $0, MB_TRAPPED(%rip)
  movl $1, MB_STATE(%rip)
  mov MB_SPIN_LIMIT(%rip), %rcx
12:
  cmpl $2, MB_STATE(%rip)
  je 13f
  cmpl $3, MB_STATE(%rip)
  je 14f
  pause
  dec %rcx
  jnz 12b
14:
  mov $USER_RESUME, %eax
  syscall                          # never returns here: the ordinary path returns to R_RIP
13:
  mov MB_FS_PENDING(%rip), %rax    # FS_PENDING and PT_PENDING, both u32, in one load
  test %rax, %rax
  jnz 14b
  cmpl $0, MB_SLOW_RETURN(%rip)
  jne 14b
  movl $0, MB_STATE(%rip)
  load_registers
  ret

# ---- signal frames: the FPU/AVX state saved to and restored from the program's stack ----
# The Sentry cannot reach the vCPU's extended state while the vCPU runs, so these hops do it: the
# Sentry points the return at one of them with the final registers loaded (rax, rcx, rdx and the
# destination in the mailbox), on XSAVE areas it has checked. They run in user mode on every host,
# so a fault here is the program's fault, never the stub's; none of their instructions changes rflags.
.org 0x780
sig_enter:                         # the handler's registers are loaded, rsp is its frame
  mov MB_SIG_SAVE(%rip), %rcx
  mov MB_SIG_SAVE_MASK(%rip), %eax
  mov MB_SIG_SAVE_MASK+4(%rip), %edx
  xsave64 (%rcx)                   # the interrupted code's state into the frame (the Sentry zeroed the header)
  pushfq                           # (the handler's stack, in the frame's own page)
  orb $3, 512(%rcx)                # XSTATE_BV always has x87 and SSE, as Linux: edits of them take effect
  popfq
  lea fpu_init(%rip), %rcx
  xrstor64 (%rcx)                  # the same components: the handler starts from the initial state, as on Linux
sig_leave:
  mov MB_SIG_RCX(%rip), %rcx
  mov MB_SIG_RDX(%rip), %rdx
  mov MB_SIG_RAX(%rip), %rax
  jmp *MB_SIG_RIP(%rip)

sig_restore:                       # rt_sigreturn: registers restored, the extended state still to load
  lea fpu_init(%rip), %rcx
  mov MB_SIG_INIT_MASK(%rip), %eax
  mov MB_SIG_INIT_MASK+4(%rip), %edx
  xrstor64 (%rcx)
  mov MB_SIG_LOAD(%rip), %rcx
  mov MB_SIG_LOAD_MASK(%rip), %eax
  mov MB_SIG_LOAD_MASK+4(%rip), %edx
  xrstor64 (%rcx)
  jmp *MB_SIG_NEXT(%rip)

sig_restore_fx:                    # the same from a frame with only the legacy FXSAVE region
  lea fpu_init(%rip), %rcx
  mov MB_SIG_INIT_MASK(%rip), %eax
  mov MB_SIG_INIT_MASK+4(%rip), %edx
  xrstor64 (%rcx)
  mov MB_SIG_LOAD(%rip), %rcx
  fxrstor64 (%rcx)
  jmp *MB_SIG_NEXT(%rip)

.org 0x900
fpu_init:                          # XSAVE area of the initial state: FCW 0x37f, MXCSR 0x1f80, XSTATE_BV 0
  .word 0x037f
  .org fpu_init + 24
  .long 0x1f80
  .org fpu_init + 576

# ---- NMI: the Sentry's request to interrupt the program (a signal for a task that computes) ----
# Only the program's own code takes it. The vCPU thread injects it when the guest is outside this page,
# but KVM may deliver it later (still masked after the last one's iretq), by which time the guest may
# be here: in user_entry's spin with a request posted, whose doorbell an interrupt event would
# overwrite. Here it is dropped: the guest is in a syscall or a signal hop, whose return delivers the
# signal, and the Sentry asks again while the task still computes (signal-machine.ts RETRY_MS).
.org 0xb80
nmi_entry:                         # frame: rip, cs, rflags, rsp, ss (no error code)
  push %rax
  lea syscall_entry(%rip), %rax    # this page's first byte
  neg %rax
  add 8(%rsp), %rax                # interrupted rip - page start (flags are the frame's, not these)
  cmp $0x1000, %rax
  pop %rax
  jae 1f
  iretq
1:
  pushq $0
  pushq $2
  jmp exc_common

# ---- start_context: where a new vCPU starts, and where a context without a task waits ----
# In user mode with no registers of anyone's; the `syscall` hands the context to the Sentry, which
# answers with the whole register file of the task it gives the context (and its CR3 in the queue).
.org 0xe00
start_context:
  mov $USER_START, %eax
  syscall
  ud2

.org 0xf00
constants:                         # filled in by the Sentry before the vCPU first runs
queue_va:   .quad 0                # supervisor virtual address of this vCPU's page-table queue
kstack_top: .quad 0                # top of this vCPU's kernel stack (also TSS RSP0)
.org 0x1000
mailbox:                           # the next page; nothing of it is in the binary
