// Offsets in the per-vCPU mailbox page. Mirrors guest/stub.S (the .set lines) and src/platform/mailbox.ts.
#pragma once
#include <cstdint>

namespace tsvisor {
namespace mailbox {
constexpr uint32_t kState = 0x000;       // u32 doorbell for exitless mode
constexpr uint32_t kParked = 0x004;      // u32 set while the vCPU thread sleeps on kState
constexpr uint32_t kKind = 0x008;        // u32 event kind (EventKind)
constexpr uint32_t kExitless = 0x00c;    // u32 stub mode
constexpr uint32_t kVector = 0x010;      // u64 exception vector
constexpr uint32_t kErrorCode = 0x018;   // u64 exception error code
constexpr uint32_t kFaultAddr = 0x020;   // u64 CR2 for page faults
constexpr uint32_t kExitReason = 0x028;  // u64 KVM exit reason for EventKind::kHalted
constexpr uint32_t kInterrupt = 0x054;   // u32 set by the Sentry: interrupt the program (a signal waits for it)
constexpr uint32_t kRegs = 0x080;        // struct kvm_regs layout (18 u64)
constexpr uint32_t kOrigRax = 0x110;
}  // namespace mailbox

enum EventKind : uint32_t {
  kSyscall = 1,      // registers saved by the stub, request in kRegs
  kFault = 2,        // exception from user mode: vector, error code, CR2, registers
  kInterrupted = 3,  // KVM_RUN returned EINTR (preemption tick or host signal)
  kHalted = 4,       // the guest stopped in a way the stub never does (exit reason recorded)
  kStubFault = 5,    // an exception inside the stub itself: a sandbox bug, never the program's fault
};

// Guest I/O ports used by the stub; the TSS I/O bitmap opens exactly these.
constexpr uint16_t kPortSyscall = 0x10;
constexpr uint16_t kPortFault = 0x11;
constexpr uint16_t kPortPark = 0x12;
}  // namespace tsvisor
