#include "machine.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include <v8.h>

#include "host_result.h"
#include "ioctls.h"
#include "vcpu.h"

namespace tsvisor {

namespace {
// MSR that the PVM hypervisor answers from the VMM; VMX/SVM hosts refuse it (platform/NOTES.md).
constexpr uint32_t kPvmInfoMsr = 0x4b564d11;
constexpr uint64_t kPvmSignature = 0x4d5650;  // "PVM"

std::string DetectFlavour(int vcpu_fd) {
  MsrList<1> msrs;
  msrs.entry(0).index = kPvmInfoMsr;
  if (Ioctl(vcpu_fd, kKvmGetMsrs, msrs.get()) == 1 && msrs.entry(0).data == kPvmSignature) return "pvm";
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 5))) return "vmx";
  if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2))) return "svm";
  return "unknown";
}
}  // namespace

void ThrowErrno(Napi::Env env, const std::string& what, int err) {
  std::string message = what + ": " + strerror(err);
  if (what.find("/dev/kvm") != std::string::npos) {
    if (err == ENOENT) message += " (no KVM on this host: load kvm_intel/kvm_amd or enable nested virtualization)";
    if (err == EACCES || err == EPERM) message += " (add your user to the kvm group, or run as root)";
  }
  Napi::Error error = Napi::Error::New(env, message);
  const char* name = strerrorname_np(err);
  error.Set("code", Napi::String::New(env, name ? name : "EIO"));
  error.Set("errno", Napi::Number::New(env, err));
  throw error;
}

Napi::Function Machine::Init(Napi::Env env) {
  return DefineClass(env, "Machine",
                     {
                         InstanceAccessor<&Machine::GetMemory>("memory"),
                         InstanceAccessor<&Machine::GetFlavour>("flavour"),
                         InstanceAccessor<&Machine::GetMemfd>("memfd"),
                         InstanceAccessor<&Machine::GetMaxVcpus>("maxVcpus"),
                         InstanceMethod<&Machine::PunchHole>("punchHole"),
                         InstanceMethod<&Machine::CreateVcpu>("createVcpu"),
                         InstanceMethod<&Machine::Close>("close"),
                     });
}

// new Machine(memoryBytes): a VM with that much guest-physical memory, committed only when touched.
Machine::Machine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Machine>(info) {
  Napi::Env env = info.Env();
  memory_size_ = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  if (memory_size_ == 0 || memory_size_ % (2 << 20) != 0) {
    throw Napi::RangeError::New(env, "guest memory size must be a non-zero multiple of 2 MiB");
  }
  kvm_fd_ = RetryOnEintr([] { return open("/dev/kvm", O_RDWR | O_CLOEXEC); });
  if (kvm_fd_ < 0) ThrowErrno(env, "cannot open /dev/kvm", errno);
  if (Ioctl(kvm_fd_, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
    int err = errno;
    Release();
    ThrowErrno(env, "unsupported KVM API version", err ? err : ENOTSUP);
  }
  vm_fd_ = Ioctl(kvm_fd_, KVM_CREATE_VM, 0);
  if (vm_fd_ < 0) { int err = errno; Release(); ThrowErrno(env, "KVM_CREATE_VM", err); }
  vcpu_mmap_size_ = Ioctl(kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
  memfd_ = RetryOnEintr([] { return memfd_create("tsvisor-guest-memory", MFD_CLOEXEC); });
  if (memfd_ < 0 || RetryOnEintr([&] { return ftruncate(memfd_, static_cast<off_t>(memory_size_)); }) != 0) {
    int err = errno; Release(); ThrowErrno(env, "guest memory memfd", err);
  }
  // MAP_NORESERVE: the memfd is sparse; host memory is committed page by page as the guest touches it.
  void* mem = mmap(nullptr, memory_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd_, 0);
  if (mem == MAP_FAILED) { int err = errno; Release(); ThrowErrno(env, "mmap guest memory", err); }
  memory_ = static_cast<uint8_t*>(mem);
  madvise(memory_, memory_size_, MADV_HUGEPAGE);
  struct kvm_userspace_memory_region region = {};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = memory_size_;
  region.userspace_addr = reinterpret_cast<uint64_t>(memory_);
  // SAFETY: memory_ stays mapped until Release(), which destroys the VM first.
  if (Ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
    int err = errno; Release(); ThrowErrno(env, "KVM_SET_USER_MEMORY_REGION", err);
  }
  first_vcpu_fd_ = Ioctl(vm_fd_, KVM_CREATE_VCPU, 0);
  if (first_vcpu_fd_ < 0) { int err = errno; Release(); ThrowErrno(env, "KVM_CREATE_VCPU", err); }
  flavour_ = DetectFlavour(first_vcpu_fd_);
}

Machine::~Machine() { Release(); }

void Machine::Release() {
  if (first_vcpu_fd_ >= 0) close(first_vcpu_fd_);
  if (vm_fd_ >= 0) close(vm_fd_);
  if (memory_ != nullptr) munmap(memory_, memory_size_);
  if (memfd_ >= 0) close(memfd_);
  if (kvm_fd_ >= 0) close(kvm_fd_);
  first_vcpu_fd_ = vm_fd_ = memfd_ = kvm_fd_ = -1;
  memory_ = nullptr;
}

Napi::Value Machine::GetMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (memory_ == nullptr) throw Napi::Error::New(env, "machine is closed");
  if (memory_ref_.IsEmpty()) {
    // The buffer views the mapping; the machine, not V8, unmaps it (close() detaches the buffer first).
    // Made through V8 itself, with BackingStore::EmptyDeleter: V8 then knows that collecting the
    // buffer frees no memory and leaves its length out of the external memory it tracks. Node-API's
    // external buffers have a deleter of their own, so a guest memory of gigabytes counts as that much
    // memory that a collection might free, and V8 collects all garbage at once to free it ("external
    // memory pressure", ~10 ms of every start, for nothing).
    v8::Isolate* isolate = v8::Isolate::GetCurrent();
    v8::EscapableHandleScope scope(isolate);
    std::shared_ptr<v8::BackingStore> store =
        v8::ArrayBuffer::NewBackingStore(memory_, memory_size_, v8::BackingStore::EmptyDeleter, nullptr);
    v8::Local<v8::ArrayBuffer> local = scope.Escape(v8::ArrayBuffer::New(isolate, store));
    // SAFETY: a napi_value is a pointer to a V8 handle of the current scope (Node.js's
    // v8impl::JsValueFromV8LocalValue); the handle escaped into this callback's own scope above.
    Napi::ArrayBuffer buffer(env, reinterpret_cast<napi_value>(*local));
    memory_ref_ = Napi::Persistent(buffer);
  }
  return memory_ref_.Value();
}

Napi::Value Machine::GetFlavour(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), flavour_); }
Napi::Value Machine::GetMemfd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), memfd_); }

// The most vCPUs KVM lets this VM have (KVM_CAP_MAX_VCPUS; KVM_CAP_NR_VCPUS, the recommended
// number, on kernels that do not say; 4 when neither answers, as api.rst documents).
Napi::Value Machine::GetMaxVcpus(const Napi::CallbackInfo& info) {
  int max = Ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
  if (max <= 0) max = Ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
  return Napi::Number::New(info.Env(), max > 0 ? max : 4);
}

// punchHole(gpa, length): give the host pages back now; the guest reads zeros there afterwards.
Napi::Value Machine::PunchHole(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t gpa = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  uint64_t length = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  if (gpa > memory_size_ || length > memory_size_ - gpa) throw Napi::RangeError::New(env, "punchHole outside guest memory");
  if (RetryOnEintr([&] { return fallocate(memfd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(gpa), static_cast<off_t>(length)); }) != 0) {
    ThrowErrno(env, "fallocate(PUNCH_HOLE)", errno);
  }
  return env.Undefined();
}

Napi::Value Machine::CreateVcpu(const Napi::CallbackInfo& info) {
  return Vcpu::Create(info.Env(), info.This(), info[0]);
}

Napi::Value Machine::Close(const Napi::CallbackInfo& info) {
  if (!memory_ref_.IsEmpty()) {
    memory_ref_.Value().Detach();
    memory_ref_.Reset();
  }
  Release();
  return info.Env().Undefined();
}

}  // namespace tsvisor
