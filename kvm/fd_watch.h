// Readiness of a host fd, from Node.js's event loop: see fd_watch.cc.
#pragma once
#include <napi.h>

namespace tsvisor {
Napi::Function InitFdWatch(Napi::Env env);
}  // namespace tsvisor
