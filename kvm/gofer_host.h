// Host calls for the Gofer and its client (see gofer_host.cc): socketpairs, SCM_RIGHTS messages and
// *at calls on one path component relative to a directory fd.
#pragma once
#include <napi.h>

namespace tsvisor {
Napi::Object InitGoferHost(Napi::Env env);
}  // namespace tsvisor
