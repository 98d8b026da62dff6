// KVM ioctl numbers whose argument ends in a flexible array. In C++, <linux/kvm.h>'s
// __DECLARE_FLEX_ARRAY adds a member that changes sizeof(), so the _IOWR numbers computed there
// differ from the kernel's and the ioctls fail with EINVAL. These use the C sizes of the headers.
#pragma once
#include <linux/kvm.h>

namespace tsvisor {
constexpr unsigned long kKvmGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);          // struct kvm_msrs
constexpr unsigned long kKvmSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);                      // struct kvm_msrs
constexpr unsigned long kKvmGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);  // struct kvm_cpuid2
constexpr unsigned long kKvmSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);                    // struct kvm_cpuid2
constexpr unsigned long kKvmSetSignalMask = _IOC(_IOC_WRITE, KVMIO, 0x8b, 4);                // struct kvm_signal_mask
}  // namespace tsvisor
