// Host clock calls. None throws for a host error: each returns -errno, like the other host calls.
#include "clock.h"

#include <errno.h>
#include <time.h>

#include <cstdint>

#include "host_result.h"
#include "tsc.h"

namespace tsvisor {

namespace {
// The clocks sample() reads, in this order (CLOCK_TAI is 11).
constexpr clockid_t kSampled[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_BOOTTIME, 11};
constexpr int kSampleTries = 8;

int64_t Nanoseconds(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

// readTsc(out?: BigInt64Array): the host TSC after every earlier store is visible, as a number (exact
// below 2^53) and, when out is given, exactly in out[0].
Napi::Value ReadTsc(const Napi::CallbackInfo& info) {
  uint64_t tsc = RdtscOrdered();
  if (info.Length() > 0 && info[0].IsTypedArray()) {
    Napi::BigInt64Array out = info[0].As<Napi::BigInt64Array>();
    if (out.ElementLength() >= 1) out[0] = static_cast<int64_t>(tsc);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(tsc));
}

// sample(out: BigInt64Array of 10): for MONOTONIC, MONOTONIC_RAW, REALTIME, BOOTTIME, TAI in turn, the
// host TSC and the clock's nanoseconds read together: the middle of the narrowest of several
// rdtsc/clock_gettime/rdtsc windows. Returns the widest of the chosen windows in cycles, or -errno.
Napi::Value Sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::BigInt64Array out = info[0].As<Napi::BigInt64Array>();
  constexpr size_t kClocks = sizeof kSampled / sizeof kSampled[0];
  if (out.ElementLength() < 2 * kClocks) return Num(env, -EINVAL);
  uint64_t widest = 0;
  for (size_t c = 0; c < kClocks; c++) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < kSampleTries; i++) {
      timespec t;
      uint64_t before = RdtscOrdered();
      if (clock_gettime(kSampled[c], &t) != 0) return Num(env, -errno);
      uint64_t after = RdtscOrdered();
      if (after - before < best) {
        best = after - before;
        out[2 * c] = static_cast<int64_t>(before + best / 2);
        out[2 * c + 1] = Nanoseconds(t);
      }
    }
    if (best > widest) widest = best;
  }
  return Num(env, static_cast<int64_t>(widest));
}

// now(clock, out: Float64Array): clock_gettime into out[0] (seconds) and out[1] (nanoseconds).
Napi::Value Now(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int clock = info[0].As<Napi::Number>().Int32Value();
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  if (out.ElementLength() < 2) return Num(env, -EINVAL);
  timespec t;
  if (clock_gettime(clock, &t) != 0) return Num(env, -errno);
  out[0] = static_cast<double>(t.tv_sec);
  out[1] = static_cast<double>(t.tv_nsec);
  return Num(env, 0);
}

// resolution(clock): clock_getres in nanoseconds.
Napi::Value Resolution(const Napi::CallbackInfo& info) {
  timespec t;
  if (clock_getres(info[0].As<Napi::Number>().Int32Value(), &t) != 0) return Num(info.Env(), -errno);
  return Num(info.Env(), Nanoseconds(t));
}
}  // namespace

Napi::Object InitClock(Napi::Env env) {
  Napi::Object clock = Napi::Object::New(env);
  clock.Set("readTsc", Napi::Function::New(env, ReadTsc));
  clock.Set("sample", Napi::Function::New(env, Sample));
  clock.Set("now", Napi::Function::New(env, Now));
  clock.Set("resolution", Napi::Function::New(env, Resolution));
  return clock;
}

}  // namespace tsvisor
