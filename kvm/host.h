// Host-only calls (not KVM): see host.cc.
#pragma once
#include <napi.h>

namespace tsvisor {
Napi::Object InitHost(Napi::Env env);
}  // namespace tsvisor
