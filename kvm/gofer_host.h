// Host calls for the Sentry's end of the Gofer's socket (see gofer_host.cc): socketpairs and
// SCM_RIGHTS messages.
#pragma once
#include <napi.h>

namespace tsvisor {
Napi::Object InitGoferHost(Napi::Env env);
}  // namespace tsvisor
