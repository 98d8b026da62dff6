// Host clocks for the Sentry's timekeeper (src/platform/clock.ts): the host TSC, and the host's clocks
// sampled against it. Node.js has neither rdtsc nor clock_gettime of every clock.
#pragma once
#include <napi.h>

namespace tsvisor {
Napi::Object InitClock(Napi::Env env);
}  // namespace tsvisor
