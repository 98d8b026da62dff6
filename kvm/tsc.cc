#include "tsc.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "ioctls.h"
#include "machine.h"

namespace tsvisor {

namespace {
constexpr uint32_t kMsrIa32Tsc = 0x10;
constexpr uint32_t kMsrTscAux = 0xc0000103;
constexpr int kOffsetTries = 16;
}  // namespace

TscOffset ReadTscOffset(int vcpu_fd) {
  int64_t offset = 0;
  kvm_device_attr attr = {};
  attr.group = KVM_VCPU_TSC_CTRL;
  attr.attr = KVM_VCPU_TSC_OFFSET;
  attr.addr = reinterpret_cast<uint64_t>(&offset);
  // SAFETY: attr.addr points at an int64_t, the size KVM_VCPU_TSC_OFFSET reads and writes.
  if (ioctl(vcpu_fd, KVM_HAS_DEVICE_ATTR, &attr) == 0 && ioctl(vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
    return {offset, 0, true};
  }
  // KVM computes the MSR's value somewhere inside the ioctl: the offset is within half the window.
  TscOffset best = {0, INT64_MAX, false};
  for (int i = 0; i < kOffsetTries; i++) {
    MsrList<1> msrs;
    msrs.entry(0).index = kMsrIa32Tsc;
    uint64_t before = RdtscOrdered();
    int n = ioctl(vcpu_fd, kKvmGetMsrs, msrs.get());
    uint64_t after = RdtscOrdered();
    if (n != 1) return best;
    int64_t half = static_cast<int64_t>((after - before) / 2);
    if (half < best.error) best = {static_cast<int64_t>(msrs.entry(0).data - (before + (after - before) / 2)), half, true};
  }
  return best;
}

bool SetTscOffset(int vcpu_fd, int64_t offset) {
  kvm_device_attr attr = {};
  attr.group = KVM_VCPU_TSC_CTRL;
  attr.attr = KVM_VCPU_TSC_OFFSET;
  attr.addr = reinterpret_cast<uint64_t>(&offset);
  // SAFETY: as in ReadTscOffset.
  return ioctl(vcpu_fd, KVM_HAS_DEVICE_ATTR, &attr) == 0 && ioctl(vcpu_fd, KVM_SET_DEVICE_ATTR, &attr) == 0;
}

uint32_t TscKhz(int vcpu_fd) {
  int khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
  return khz > 0 ? static_cast<uint32_t>(khz) : 0;
}

bool SetTscAux(int vcpu_fd, uint64_t value) {
  MsrList<1> msrs;
  msrs.entry(0).index = kMsrTscAux;
  msrs.entry(0).data = value;
  return ioctl(vcpu_fd, kKvmSetMsrs, msrs.get()) == 1;
}

}  // namespace tsvisor
