#include "vcpu.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "host_result.h"
#include "ioctls.h"
#include "machine.h"
#include "mailbox.h"
#include "tsc.h"

namespace tsvisor {

namespace {
constexpr uint32_t kMsrStar = 0xC0000081;
constexpr uint32_t kMsrLstar = 0xC0000082;
constexpr uint32_t kMsrSfmask = 0xC0000084;
constexpr uint32_t kMsrFsBase = 0xC0000100;
constexpr uint32_t kMsrKernelGsBase = 0xC0000102;
// Flags cleared on syscall entry: TF, IF, DF, NT, AC (as Linux).
constexpr uint64_t kSyscallFlagMask = 0x47700;
constexpr uint32_t kStateRequest = 1;
constexpr uint32_t kStateAnswered = 2;
constexpr uint32_t kStateWaiting = 3;  // the Sentry will answer later; the stub parks at once
constexpr int kKickSignal = SIGUSR2;

uint64_t U64(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Uint64Value(&lossless); }
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  throw Napi::TypeError::New(o.Env(), std::string("vCPU config needs a number for ") + key);
}

kvm_segment Segment(uint16_t selector, uint8_t type, uint8_t dpl, bool code64) {
  kvm_segment s = {};
  s.limit = 0xffffffff;
  s.selector = selector;
  s.present = 1;
  s.type = type;
  s.dpl = dpl;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.db = code64 ? 0 : 1;
  s.g = 1;
  return s;
}

long Futex(uint32_t* word, int op, uint32_t value) {
  return syscall(SYS_futex, word, op, value, nullptr, nullptr, 0);
}

void IgnoreKick(int) {}
}  // namespace

Napi::Function Vcpu::Init(Napi::Env env) {
  // KVM_RUN returns EINTR when the vCPU thread gets this signal: the preemption and stop kick. It is
  // blocked in this (the JS) thread and in the vCPU threads, which inherit the mask, and unblocked only
  // inside KVM_RUN (KVM_SET_SIGNAL_MASK): a kick that comes between two runs stays pending and ends the
  // next one at once, instead of interrupting some other syscall of Node's with EINTR or being lost.
  struct sigaction sa = {};
  sa.sa_handler = IgnoreKick;
  sigaction(kKickSignal, &sa, nullptr);
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, kKickSignal);
  pthread_sigmask(SIG_BLOCK, &kick, nullptr);
  Napi::Function ctor = DefineClass(env, "Vcpu",
                                    {
                                        InstanceMethod<&Vcpu::Run>("run"),
                                        InstanceMethod<&Vcpu::SetTimeSlice>("setTimeSlice"),
                                        InstanceMethod<&Vcpu::RunBare>("runBare"),
                                        InstanceMethod<&Vcpu::RunBareExitless>("runBareExitless"),
                                        InstanceMethod<&Vcpu::Start>("start"),
                                        InstanceMethod<&Vcpu::Wake>("wake"),
                                        InstanceMethod<&Vcpu::Stop>("stop"),
                                        InstanceMethod<&Vcpu::Close>("close"),
                                        InstanceMethod<&Vcpu::DebugState>("debugState"),
                                        InstanceMethod<&Vcpu::TscInfo>("tscInfo"),
                                        InstanceMethod<&Vcpu::SetTscOffsetTo>("setTscOffset"),
                                        InstanceMethod<&Vcpu::ExtendedState>("extendedState"),
                                        InstanceMethod<&Vcpu::Kick>("kick"),
                                    });
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(ctor)));
  return ctor;
}

Napi::Value Vcpu::Create(Napi::Env env, Napi::Value machine, Napi::Value config) {
  return env.GetInstanceData<Napi::FunctionReference>()->New({machine, config});
}

// new Vcpu(machine, config): config holds the boot state computed by src/platform (addresses as numbers).
Vcpu::Vcpu(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vcpu>(info) {
  Napi::Env env = info.Env();
  machine_ = Machine::Unwrap(info[0].As<Napi::Object>());
  machine_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
  memory_ = machine_->memory();
  memory_size_ = machine_->memory_size();
  Napi::Object config = info[1].As<Napi::Object>();
  uint64_t id = U64(config, "id");
  fd_ = id == 0 ? machine_->TakeFirstVcpuFd() : -1;
  if (fd_ < 0) fd_ = Ioctl(machine_->vm_fd(), KVM_CREATE_VCPU, id);
  if (fd_ < 0) ThrowErrno(env, "KVM_CREATE_VCPU", errno);
  run_size_ = machine_->vcpu_mmap_size();
  void* run = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (run == MAP_FAILED) { int err = errno; Release(); ThrowErrno(env, "mmap kvm_run", err); }
  run_ = static_cast<kvm_run*>(run);
  UnblockKickDuringRun(env);
  Configure(env, config);
}

void Vcpu::UnblockKickDuringRun(Napi::Env env) {
  sigset_t during_run;
  pthread_sigmask(SIG_BLOCK, nullptr, &during_run);
  sigdelset(&during_run, kKickSignal);
  struct {
    uint32_t len;
    uint8_t sigset[8];  // the kernel's sigset_t: 64 signals
  } mask = {8, {}};
  memcpy(mask.sigset, &during_run, sizeof mask.sigset);
  if (Ioctl(fd_, kKvmSetSignalMask, &mask) != 0) { int err = errno; Release(); ThrowErrno(env, "KVM_SET_SIGNAL_MASK", err); }
}

Vcpu::~Vcpu() { Release(); }

void Vcpu::Configure(Napi::Env env, Napi::Object config) {
  uint64_t mailbox_gpa = U64(config, "mailboxGpa");
  if (mailbox_gpa + 4096 > memory_size_) throw Napi::RangeError::New(env, "mailbox outside guest memory");
  mailbox_ = memory_ + mailbox_gpa;
  stub_va_ = U64(config, "stubVa");
  phys_base_ = U64(config, "physBase");

  std::vector<uint8_t> cpuid_buf(sizeof(kvm_cpuid2) + 256 * sizeof(kvm_cpuid_entry2));
  auto* cpuid = reinterpret_cast<kvm_cpuid2*>(cpuid_buf.data());
  cpuid->nent = 256;
  // SAFETY: cpuid_buf holds nent entries after the header.
  if (Ioctl(machine_->kvm_fd(), kKvmGetSupportedCpuid, cpuid) != 0) ThrowErrno(env, "KVM_GET_SUPPORTED_CPUID", errno);
  if (Ioctl(fd_, kKvmSetCpuid2, cpuid) != 0) ThrowErrno(env, "KVM_SET_CPUID2", errno);
  EnableExtendedState(cpuid);

  kvm_sregs sregs;
  if (Ioctl(fd_, KVM_GET_SREGS, &sregs) != 0) ThrowErrno(env, "KVM_GET_SREGS", errno);
  sregs.cr3 = U64(config, "cr3");
  sregs.cr4 = (1u << 5) | (1u << 9) | (1u << 10) | (1u << 16) | (1u << 18);  // PAE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE
  sregs.cr0 = 0x80050033;                                                   // PG AM WP NE ET MP PE
  sregs.efer = 0xd01;                                                       // NXE LMA LME SCE
  sregs.cs = Segment(0x33, 11, 3, true);
  sregs.ss = sregs.ds = sregs.es = sregs.fs = sregs.gs = Segment(0x2b, 3, 3, false);
  sregs.gs.base = U64(config, "gsBase");  // the mailbox: patched syscall sites `call *%gs:` into the stub
  sregs.gdt.base = U64(config, "gdtBase");
  sregs.gdt.limit = static_cast<uint16_t>(U64(config, "gdtLimit"));
  sregs.idt.base = U64(config, "idtBase");
  sregs.idt.limit = static_cast<uint16_t>(U64(config, "idtLimit"));
  sregs.tr = {};
  sregs.tr.base = U64(config, "tssBase");
  sregs.tr.limit = static_cast<uint32_t>(U64(config, "tssLimit"));
  sregs.tr.selector = static_cast<uint16_t>(U64(config, "tssSelector"));
  sregs.tr.present = 1;
  sregs.tr.type = 11;  // busy 64-bit TSS
  if (Ioctl(fd_, KVM_SET_SREGS, &sregs) != 0) ThrowErrno(env, "KVM_SET_SREGS", errno);

  MsrList<5> msrs;
  msrs.entry(0) = {kMsrStar, 0, (0x23ULL << 48) | (0x10ULL << 32)};
  msrs.entry(1) = {kMsrLstar, 0, stub_va_};
  msrs.entry(2) = {kMsrSfmask, 0, kSyscallFlagMask};
  msrs.entry(3) = {kMsrFsBase, 0, U64(config, "fsBase")};
  msrs.entry(4) = {kMsrKernelGsBase, 0, 0};
  if (Ioctl(fd_, kKvmSetMsrs, msrs.get()) != 5) ThrowErrno(env, "KVM_SET_MSRS", errno ? errno : EINVAL);
  ConfigureTsc(config, cpuid);

  kvm_regs regs = {};
  regs.rip = U64(config, "rip");
  regs.rsp = U64(config, "rsp");
  regs.rflags = 0x202;
  if (Ioctl(fd_, KVM_SET_REGS, &regs) != 0) ThrowErrno(env, "KVM_SET_REGS", errno);
  run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
}

// The guest TSC as it is before the first run: its frequency and offset from the host's, and, where the
// platform asks for it (config.tscAux), TSC_AUX = the vCPU id, so that rdtscp in the guest tells which
// vCPU it runs on (node 0), as Linux sets it for getcpu.
void Vcpu::ConfigureTsc(Napi::Object config, const kvm_cpuid2* cpuid) {
  constexpr uint32_t kRdtscpBit = 1u << 27;  // CPUID 0x80000001 EDX
  const auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(reinterpret_cast<const uint8_t*>(cpuid) + 8);
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    if (entries[i].function == 0x80000001) has_rdtscp_ = (entries[i].edx & kRdtscpBit) != 0;
  }
  Napi::Value want_aux = config.Get("tscAux");
  if (has_rdtscp_ && want_aux.IsBoolean() && want_aux.As<Napi::Boolean>().Value()) {
    tsc_aux_set_ = SetTscAux(fd_, U64(config, "id"));
  }
  tsc_khz_ = TscKhz(fd_);
  TscOffset offset = ReadTscOffset(fd_);
  tsc_offset_ = offset.offset;
  tsc_offset_error_ = offset.ok ? offset.error : -1;
}

// tscInfo(): { khz, offset (bigint: guest TSC - host TSC), offsetError (cycles; -1 unknown), rdtscp, tscAux }.
Napi::Value Vcpu::TscInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("khz", Napi::Number::New(env, tsc_khz_));
  out.Set("offset", Napi::BigInt::New(env, tsc_offset_));
  out.Set("offsetError", Napi::Number::New(env, static_cast<double>(tsc_offset_error_)));
  out.Set("rdtscp", Napi::Boolean::New(env, has_rdtscp_));
  out.Set("tscAux", Napi::Boolean::New(env, tsc_aux_set_));
  return out;
}

// setTscOffset(offset: bigint): before the first run, give this vCPU another's offset; false if KVM cannot.
Napi::Value Vcpu::SetTscOffsetTo(const Napi::CallbackInfo& info) {
  bool lossless = false;
  int64_t offset = info[0].As<Napi::BigInt>().Int64Value(&lossless);
  bool ok = lossless && SetTscOffset(fd_, offset);
  if (ok) {
    TscOffset now = ReadTscOffset(fd_);
    tsc_offset_ = now.offset;
    tsc_offset_error_ = now.ok ? now.error : -1;
    ok = now.ok && now.offset == offset;
  }
  return Napi::Boolean::New(info.Env(), ok);
}

// XCR0 starts as x87 only, so AVX instructions would fault in the guest where they run natively.
// Enable the user state components the host supports (CPUID leaf 0xD), as Linux does for its programs;
// AMX needs an opt-in (arch_prctl) that we do not offer, so it stays off.
void Vcpu::EnableExtendedState(const kvm_cpuid2* cpuid) {
  constexpr uint64_t kX87 = 1, kSse = 2, kAvx = 4, kAvx512 = 0xe0;
  const auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(reinterpret_cast<const uint8_t*>(cpuid) + 8);
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    if (entries[i].function != 0xd || entries[i].index != 0) continue;
    uint64_t supported = entries[i].eax | (static_cast<uint64_t>(entries[i].edx) << 32);
    kvm_xcrs xcrs = {};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = supported & (kX87 | kSse | kAvx | kAvx512);
    // Best effort: without it the guest keeps x87+SSE, which every x86-64 program can use.
    Ioctl(fd_, KVM_SET_XCRS, &xcrs);
    kvm_xcrs now = {};
    if (Ioctl(fd_, KVM_GET_XCRS, &now) == 0 && now.nr_xcrs > 0) xcr0_ = now.xcrs[0].value;
    break;
  }
  // The XSAVE area of the enabled components (standard form): each component i >= 2 sits at the
  // offset CPUID 0xD.i gives (EBX) and is EAX bytes long; the legacy region and header take 576.
  xsave_size_ = 576;
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    const kvm_cpuid_entry2& e = entries[i];
    if (e.function != 0xd || e.index < 2 || e.index > 62 || ((xcr0_ >> e.index) & 1) == 0) continue;
    if (e.ebx + e.eax > xsave_size_) xsave_size_ = e.ebx + e.eax;
  }
}

// extendedState(): what signal frames need of the guest's FPU state: the XCR0 components, the size of
// their XSAVE area, and the MXCSR bits the CPU accepts (FXSAVE's MXCSR_MASK; 0 there means 0xffbf).
Napi::Value Vcpu::ExtendedState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  alignas(16) uint8_t area[512] = {};
  __builtin_ia32_fxsave64(area);
  uint32_t mxcsr_mask;
  memcpy(&mxcsr_mask, area + 28, sizeof mxcsr_mask);
  if (mxcsr_mask == 0) mxcsr_mask = 0xffbf;
  Napi::Object out = Napi::Object::New(env);
  out.Set("features", Napi::Number::New(env, static_cast<double>(xcr0_)));
  out.Set("size", Napi::Number::New(env, xsave_size_));
  out.Set("mxcsrMask", Napi::Number::New(env, mxcsr_mask));
  return out;
}

void Vcpu::Release() {
  if (thread_.joinable()) {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), kKickSignal);
    Futex(MailboxU32(mailbox::kState), FUTEX_WAKE, INT32_MAX);
    thread_.join();
  }
  if (slice_timer_created_) timer_delete(slice_timer_);
  slice_timer_created_ = false;
  if (run_ != nullptr) munmap(run_, run_size_);
  if (fd_ >= 0) close(fd_);
  run_ = nullptr;
  fd_ = -1;
}

// Before re-entering the guest after a fault: the Sentry may have changed the register file (to
// deliver a signal, say). General registers go back through the sync-regs area; rip, rsp and rflags
// through the exception frame that the stub's iretq pops. RIP itself is never set from the VMM side.
void Vcpu::PrepareResume() {
  if (!resume_fault_) return;
  resume_fault_ = false;
  const uint64_t* r = MailboxU64(mailbox::kRegs);
  kvm_regs& k = run_->s.regs.regs;
  k.rax = r[0]; k.rbx = r[1]; k.rcx = r[2]; k.rdx = r[3]; k.rsi = r[4]; k.rdi = r[5];
  k.rbp = r[7]; k.r8 = r[8]; k.r9 = r[9]; k.r10 = r[10]; k.r11 = r[11];
  k.r12 = r[12]; k.r13 = r[13]; k.r14 = r[14]; k.r15 = r[15];
  run_->kvm_dirty_regs = KVM_SYNC_X86_REGS;
  // Frame after the stub's vector and error code: rip cs rflags rsp ss.
  auto* frame = reinterpret_cast<uint64_t*>(memory_ + fault_frame_gpa_ + 16);
  frame[0] = r[16];
  frame[2] = r[17];
  frame[3] = r[6];
}

uint32_t Vcpu::RecordFault() {
  const kvm_regs& k = run_->s.regs.regs;
  uint64_t frame_gpa = k.rsp - phys_base_;
  if (k.rsp < phys_base_ || frame_gpa > memory_size_ - 7 * 8) {
    *MailboxU64(mailbox::kExitReason) = run_->exit_reason;
    return kStubFault;
  }
  const auto* frame = reinterpret_cast<const uint64_t*>(memory_ + frame_gpa);
  // frame: vector, error code, rip, cs, rflags, rsp, ss
  uint64_t* r = MailboxU64(mailbox::kRegs);
  r[0] = k.rax; r[1] = k.rbx; r[2] = k.rcx; r[3] = k.rdx; r[4] = k.rsi; r[5] = k.rdi;
  r[6] = frame[5]; r[7] = k.rbp; r[8] = k.r8; r[9] = k.r9; r[10] = k.r10; r[11] = k.r11;
  r[12] = k.r12; r[13] = k.r13; r[14] = k.r14; r[15] = k.r15; r[16] = frame[2]; r[17] = frame[4];
  *MailboxU64(mailbox::kVector) = frame[0];
  *MailboxU64(mailbox::kErrorCode) = frame[1];
  uint64_t cr2 = 0;
  if (frame[0] == 14 || frame[0] == 8) {
    // CR2 only on page faults (and a double fault's report): syncing sregs on every exit costs ~6 us
    kvm_sregs sregs;
    if (Ioctl(fd_, KVM_GET_SREGS, &sregs) == 0) cr2 = sregs.cr2;
  }
  *MailboxU64(mailbox::kFaultAddr) = cr2;
  fault_frame_gpa_ = frame_gpa;
  resume_fault_ = true;
  // A fault whose saved CS is not the user's happened inside the stub: never the program's doing.
  return (frame[3] & 3) == 3 ? kFault : kStubFault;
}

uint32_t Vcpu::Step() {
  PrepareResume();
  if (ioctl(fd_, KVM_RUN, 0) != 0) {
    if (errno == EINTR) {
      // The kick stays pending once KVM_RUN restores the mask, and would end every later run at once.
      DrainKick();
      return kInterrupted;
    }
    if (errno == EAGAIN) return kInterrupted;
    *MailboxU64(mailbox::kExitReason) = 0x10000 | static_cast<uint64_t>(errno);
    return kHalted;
  }
  run_->kvm_dirty_regs = 0;
  if (run_->exit_reason == KVM_EXIT_IO) {
    uint64_t rip = run_->s.regs.regs.rip;
    bool from_stub = rip - stub_va_ < 4096;
    uint16_t port = run_->io.port;
    if (from_stub && port == kPortSyscall) return kSyscall;
    if (from_stub && port == kPortPark) return 0;
    if (from_stub && port == kPortFault) return RecordFault();
  }
  *MailboxU64(mailbox::kExitReason) = run_->exit_reason;
  return kHalted;
}

// Before the guest runs again: the Sentry asked for the program to be interrupted (a signal waits for
// a task that computes without syscalls). An NMI goes through the guest IDT like a fault, and the
// Sentry takes the event as a point to deliver signals. Only user code may take it: inside the stub
// the guest is in a syscall or a fault, whose return delivers the signal anyway, so the request waits.
void Vcpu::InjectInterrupt() {
  uint32_t* want = MailboxU32(mailbox::kInterrupt);
  if (__atomic_load_n(want, __ATOMIC_ACQUIRE) == 0) return;
  if (run_->s.regs.regs.rip - stub_va_ < 2 * 4096) return;
  // SAFETY: KVM_NMI takes no argument; without an in-kernel irqchip it queues an NMI for the next entry.
  if (ioctl(fd_, KVM_NMI, 0) == 0) __atomic_store_n(want, 0, __ATOMIC_RELEASE);
}

// kick(): exitless mode: make the vCPU thread leave KVM_RUN, so that it sees an interrupt request.
Napi::Value Vcpu::Kick(const Napi::CallbackInfo& info) {
  if (thread_.joinable()) pthread_kill(thread_.native_handle(), kKickSignal);
  return info.Env().Undefined();
}

// run(): exit mode. Runs the guest until its next event and records the kind and details in the
// mailbox, where the Sentry reads them in place: no N-API value is made per exit.
Napi::Value Vcpu::Run(const Napi::CallbackInfo& info) {
  uint32_t kind;
  InjectInterrupt();
  do {
    kind = Step();
  } while (kind == 0);
  *MailboxU32(mailbox::kKind) = kind;
  return info.Env().Undefined();
}

// setTimeSlice(ms): exit mode's preemption tick. A periodic timer on this (the JS) thread interrupts
// the guest every `ms` (EventKind::kInterrupted), so the event loop gets a turn while a program
// computes. Armed once, not per run, so an exit costs no timer syscalls; a tick that falls between
// runs ends the next run at once, which is as good. 0 disarms it.
Napi::Value Vcpu::SetTimeSlice(const Napi::CallbackInfo& info) {
  ArmSliceTimer(info[0].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

void Vcpu::ArmSliceTimer(double ms) {
  if (!slice_timer_created_) {
    struct sigevent sev = {};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = kKickSignal;
    sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (timer_create(CLOCK_MONOTONIC, &sev, &slice_timer_) != 0) return;
    slice_timer_created_ = true;
  }
  struct itimerspec spec = {};
  uint64_t ns = static_cast<uint64_t>(ms * 1e6);
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
  spec.it_interval = spec.it_value;
  timer_settime(slice_timer_, 0, &spec, nullptr);
}

// Consumes a kick pending on this thread (it is blocked outside KVM_RUN, so no handler takes it).
void Vcpu::DrainKick() {
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, kKickSignal);
  struct timespec now = {0, 0};
  for (;;) {
    int r = sigtimedwait(&kick, nullptr, &now);
    if (r == kKickSignal || (r < 0 && errno == EINTR)) continue;
    return;
  }
}

// debugState(): registers and control state, for reports when the guest stops unexpectedly.
Napi::Value Vcpu::DebugState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  kvm_regs regs;
  kvm_sregs sregs;
  auto hex = [&](uint64_t v) { char b[24]; snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v)); return Napi::String::New(env, b); };
  if (Ioctl(fd_, KVM_GET_REGS, &regs) == 0) {
    out.Set("rip", hex(regs.rip)); out.Set("rsp", hex(regs.rsp)); out.Set("rflags", hex(regs.rflags));
    out.Set("rax", hex(regs.rax)); out.Set("rcx", hex(regs.rcx)); out.Set("rdx", hex(regs.rdx));
    out.Set("rsi", hex(regs.rsi)); out.Set("rdi", hex(regs.rdi));
  }
  if (Ioctl(fd_, KVM_GET_SREGS, &sregs) == 0) {
    out.Set("cs", hex(sregs.cs.selector)); out.Set("cr2", hex(sregs.cr2)); out.Set("cr3", hex(sregs.cr3));
    out.Set("fsBase", hex(sregs.fs.base));
  }
  return out;
}

// runBare(limit): the platform floor for benchmarks. Answers every syscall in C++ with rax = 0 and no
// TypeScript at all, until `limit` syscalls or another event; returns the number answered.
Napi::Value Vcpu::RunBare(const Napi::CallbackInfo& info) {
  int64_t limit = info[0].As<Napi::Number>().Int64Value();
  int64_t answered = 0;
  while (answered < limit) {
    uint32_t kind = Step();
    if (kind == 0 || kind == kInterrupted) continue;
    if (kind != kSyscall) { *MailboxU32(mailbox::kKind) = kind; break; }
    *MailboxU64(mailbox::kRegs) = 0;
    answered++;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(answered));
}

// Exitless mode. The thread runs the guest; syscalls arrive in the mailbox without any exit. Faults and
// halts are posted by this thread in the same format, then it sleeps until the Sentry answers. When the
// stub gives up spinning it parks here. Each post or park calls on_event_ so that a sleeping Sentry wakes.
void Vcpu::ThreadMain() {
  pthread_setname_np(pthread_self(), "tsvisor-vcpu");  // so that ps and /proc tell it from Node.js's own
  uint32_t* state = MailboxU32(mailbox::kState);
  uint32_t* parked = MailboxU32(mailbox::kParked);
  auto wait_for_answer = [&]() {
    __atomic_store_n(parked, 1, __ATOMIC_SEQ_CST);
    if (notify_) on_event_.NonBlockingCall();
    for (uint32_t s; !stopping_ && ((s = __atomic_load_n(state, __ATOMIC_SEQ_CST)) == kStateRequest || s == kStateWaiting);) {
      Futex(state, FUTEX_WAIT, s);
    }
    __atomic_store_n(parked, 0, __ATOMIC_SEQ_CST);
  };
  // Started by a platform that ran this vCPU with exits until now: a context that waits there (a
  // blocked call, an idle context) is left at its exit, which must not run before the answer is in
  // (it may be in already: then the doorbell says answered, and only needs clearing).
  uint32_t at_start = __atomic_load_n(state, __ATOMIC_SEQ_CST);
  if (at_start == kStateWaiting) wait_for_answer();
  if (at_start == kStateWaiting || at_start == kStateAnswered) __atomic_store_n(state, 0, __ATOMIC_SEQ_CST);
  while (!stopping_) {
    uint32_t kind = Step();
    if (kind == kInterrupted) {
      InjectInterrupt();
      continue;
    }
    if (kind == 0) {  // parked by the stub, which re-checks the doorbell when it runs again
      uint32_t s = __atomic_load_n(state, __ATOMIC_SEQ_CST);
      if (s == kStateRequest || s == kStateWaiting) wait_for_answer();
      continue;
    }
    *MailboxU32(mailbox::kKind) = kind;
    __atomic_store_n(state, kStateRequest, __ATOMIC_SEQ_CST);
    wait_for_answer();
    if (stopping_) break;
    __atomic_store_n(state, 0, __ATOMIC_SEQ_CST);
    if (kind == kHalted || kind == kStubFault) break;
  }
  if (notify_) on_event_.Release();
}

// start(onEvent): switch to exitless mode; onEvent() runs on the JS thread when the vCPU posts or parks.
Napi::Value Vcpu::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (thread_.joinable()) throw Napi::Error::New(env, "vCPU already started");
  on_event_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "tsvisor-vcpu", 0, 1);
  notify_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { ThreadMain(); });
  return env.Undefined();
}

// runBareExitless(limit): the exitless floor for benchmarks. The vCPU runs on its thread as in start(),
// and this thread answers up to `limit` syscalls from the mailbox with rax = 0, in C++ only; then the
// vCPU is stopped. Returns the number answered.
Napi::Value Vcpu::RunBareExitless(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (thread_.joinable()) throw Napi::Error::New(env, "vCPU already started");
  int64_t limit = info[0].As<Napi::Number>().Int64Value();
  uint32_t* state = MailboxU32(mailbox::kState);
  notify_ = false;
  stopping_ = false;
  thread_ = std::thread([this] { ThreadMain(); });
  int64_t answered = 0;
  while (answered < limit) {
    if (__atomic_load_n(state, __ATOMIC_SEQ_CST) != kStateRequest) { __builtin_ia32_pause(); continue; }
    if (*MailboxU32(mailbox::kKind) != kSyscall) break;
    *MailboxU64(mailbox::kRegs) = 0;
    __atomic_store_n(state, kStateAnswered, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(MailboxU32(mailbox::kParked), __ATOMIC_SEQ_CST) != 0) Futex(state, FUTEX_WAKE, 1);
    answered++;
    while (__atomic_load_n(state, __ATOMIC_SEQ_CST) == kStateAnswered) __builtin_ia32_pause();
  }
  stopping_ = true;
  pthread_kill(thread_.native_handle(), kKickSignal);
  Futex(state, FUTEX_WAKE, INT32_MAX);
  thread_.join();
  return Napi::Number::New(env, static_cast<double>(answered));
}

// wake(): the Sentry answered a vCPU that sleeps in the kernel; wake its thread.
Napi::Value Vcpu::Wake(const Napi::CallbackInfo& info) {
  Futex(MailboxU32(mailbox::kState), FUTEX_WAKE, 1);
  return info.Env().Undefined();
}

Napi::Value Vcpu::Stop(const Napi::CallbackInfo& info) {
  if (thread_.joinable()) {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), kKickSignal);
    Futex(MailboxU32(mailbox::kState), FUTEX_WAKE, INT32_MAX);
    thread_.join();
  }
  return info.Env().Undefined();
}

Napi::Value Vcpu::Close(const Napi::CallbackInfo& info) {
  Release();
  machine_ref_.Reset();
  return info.Env().Undefined();
}

}  // namespace tsvisor
