// One virtual CPU: its fd, its kvm_run page, and the loop that turns VM exits into mailbox events.
#pragma once
#include <linux/kvm.h>
#include <napi.h>

#include <atomic>
#include <time.h>

#include <cstdint>
#include <thread>

namespace tsvisor {

class Machine;

class Vcpu : public Napi::ObjectWrap<Vcpu> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Value Create(Napi::Env env, Napi::Value machine, Napi::Value config);
  explicit Vcpu(const Napi::CallbackInfo& info);
  ~Vcpu() override;

 private:
  void Configure(Napi::Env env, Napi::Object config);
  void EnableExtendedState(const kvm_cpuid2* cpuid);
  void ConfigureTsc(Napi::Object config, const kvm_cpuid2* cpuid);
  Napi::Value TscInfo(const Napi::CallbackInfo& info);
  Napi::Value SetTscOffsetTo(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value SetTimeSlice(const Napi::CallbackInfo& info);
  Napi::Value RunBare(const Napi::CallbackInfo& info);
  Napi::Value RunBareExitless(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Wake(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value DebugState(const Napi::CallbackInfo& info);
  Napi::Value ExtendedState(const Napi::CallbackInfo& info);
  Napi::Value Kick(const Napi::CallbackInfo& info);
  void InjectInterrupt();
  void ArmSliceTimer(double ms);
  void DrainKick();
  void UnblockKickDuringRun(Napi::Env env);

  // One KVM_RUN; returns the event kind it recorded in the mailbox, or 0 when the guest only parked.
  uint32_t Step();
  uint32_t RecordFault();
  void PrepareResume();
  void ThreadMain();
  void Release();

  uint64_t* MailboxU64(uint32_t offset) const { return reinterpret_cast<uint64_t*>(mailbox_ + offset); }
  uint32_t* MailboxU32(uint32_t offset) const { return reinterpret_cast<uint32_t*>(mailbox_ + offset); }

  Machine* machine_ = nullptr;
  Napi::ObjectReference machine_ref_;
  int fd_ = -1;
  struct kvm_run* run_ = nullptr;
  int run_size_ = 0;
  uint8_t* memory_ = nullptr;
  uint64_t memory_size_ = 0;
  uint8_t* mailbox_ = nullptr;
  uint64_t stub_va_ = 0;         // the vCPU's stub code page, to tell the stub's exits from the program's
  uint64_t phys_base_ = 0;       // guest virtual address of guest-physical 0 (the supervisor physmap)
  uint64_t fault_frame_gpa_ = 0; // where the exception frame of the last fault sits, for the resume
  bool resume_fault_ = false;
  uint64_t xcr0_ = 3;           // XCR0 as set for the guest (x87 and SSE at least)
  uint32_t xsave_size_ = 576;   // bytes of the XSAVE area of those components
  timer_t slice_timer_{};
  bool slice_timer_created_ = false;
  // The guest TSC (tsc.h), as read before the first run.
  uint32_t tsc_khz_ = 0;
  int64_t tsc_offset_ = 0;
  int64_t tsc_offset_error_ = -1;
  bool has_rdtscp_ = false;
  bool tsc_aux_set_ = false;

  // Exitless mode: KVM_RUN on a native thread, events posted to the mailbox, the Sentry told by tsfn.
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  Napi::ThreadSafeFunction on_event_;
  bool notify_ = false;  // false for the benchmark floor, which polls and needs no JS callback
};

}  // namespace tsvisor
