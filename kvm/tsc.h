// The guest's time stamp counter as the VMM sees it: its offset from the host's TSC, its frequency, and
// TSC_AUX (what rdtscp returns in ecx). Read while the vCPU does not run (at creation), as KVM documents
// for KVM_VCPU_TSC_OFFSET.
#pragma once
#include <cstdint>

namespace tsvisor {

// guest TSC = host TSC + offset, known to within +-error cycles (0 when KVM reported it exactly).
struct TscOffset {
  int64_t offset;
  int64_t error;
  bool ok;
};

// rdtsc that runs after every earlier load and store is globally visible (MFENCE; LFENCE; RDTSC).
inline uint64_t RdtscOrdered() {
  uint32_t lo, hi;
  __asm__ volatile("mfence; lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// The KVM_VCPU_TSC_OFFSET attribute where KVM has it (Linux 5.16+), else KVM_GET_MSRS of IA32_TSC
// against host rdtsc before and after, the narrowest of several tries.
TscOffset ReadTscOffset(int vcpu_fd);
// Sets the offset through KVM_VCPU_TSC_OFFSET; false where KVM lacks the attribute.
bool SetTscOffset(int vcpu_fd, int64_t offset);
// KVM_GET_TSC_KHZ: the guest TSC's frequency; 0 if KVM does not say.
uint32_t TscKhz(int vcpu_fd);
// MSR_TSC_AUX, which rdtscp and rdpid read in the guest.
bool SetTscAux(int vcpu_fd, uint64_t value);

}  // namespace tsvisor
