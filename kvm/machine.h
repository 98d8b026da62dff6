// A KVM virtual machine: the VM fd, its guest-physical memory (one memfd, one memory slot) and the
// host flavour. Owns every VM-level ioctl.
#pragma once
#include <linux/kvm.h>
#include <napi.h>
#include <cstdint>
#include <string>

namespace tsvisor {

class Machine : public Napi::ObjectWrap<Machine> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Machine(const Napi::CallbackInfo& info);
  ~Machine() override;

  int kvm_fd() const { return kvm_fd_; }
  int vm_fd() const { return vm_fd_; }
  uint8_t* memory() const { return memory_; }
  uint64_t memory_size() const { return memory_size_; }
  int TakeFirstVcpuFd() { int fd = first_vcpu_fd_; first_vcpu_fd_ = -1; return fd; }
  int vcpu_mmap_size() const { return vcpu_mmap_size_; }

 private:
  Napi::Value GetMemory(const Napi::CallbackInfo& info);
  Napi::Value GetFlavour(const Napi::CallbackInfo& info);
  Napi::Value GetMemfd(const Napi::CallbackInfo& info);
  Napi::Value GetMaxVcpus(const Napi::CallbackInfo& info);
  Napi::Value PunchHole(const Napi::CallbackInfo& info);
  Napi::Value CreateVcpu(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  int kvm_fd_ = -1;
  int vm_fd_ = -1;
  int memfd_ = -1;
  int first_vcpu_fd_ = -1;
  int vcpu_mmap_size_ = 0;
  uint8_t* memory_ = nullptr;
  uint64_t memory_size_ = 0;
  std::string flavour_;
  Napi::Reference<Napi::ArrayBuffer> memory_ref_;
};

// A struct kvm_msrs with room for N entries. Same layout as the kernel type, whose flexible array
// member C++ compilers do not let us index safely.
template <unsigned N>
struct MsrList {
  uint32_t nmsrs = N;
  uint32_t pad = 0;
  kvm_msr_entry entries[N] = {};
  kvm_msrs* get() { return reinterpret_cast<kvm_msrs*>(this); }
  kvm_msr_entry& entry(unsigned i) { return entries[i]; }
};

// Throws a JS Error whose message ends with what the user can do about it; `code` is the errno name.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, int err);

}  // namespace tsvisor
