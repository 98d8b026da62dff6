// The tsvisor KVM addon: the only code that issues KVM ioctls, and the host calls and fd readiness
// Node.js lacks. src/platform is its only user.
#include <napi.h>

#include "clock.h"
#include "fd_watch.h"
#include "gofer_host.h"
#include "host.h"
#include "machine.h"
#include "vcpu.h"

namespace {
Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("Machine", tsvisor::Machine::Init(env));
  exports.Set("Vcpu", tsvisor::Vcpu::Init(env));
  exports.Set("host", tsvisor::InitHost(env));
  exports.Set("goferHost", tsvisor::InitGoferHost(env));
  exports.Set("clock", tsvisor::InitClock(env));
  exports.Set("FdWatch", tsvisor::InitFdWatch(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(tsvisor_kvm, InitAddon)
