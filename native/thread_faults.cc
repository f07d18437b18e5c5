// threadMinorFaults(): the calling thread's minor page faults so far
// (getrusage RUSAGE_THREAD). The auto reset policy reads it around a tenancy
// to count the faults a tenant took after a reset, of every kind (copy-on-
// write, zero-fill, write-protect, and read faults on pages a reset dropped),
// without scanning any page table. A count, not a time: it does not change
// when the machine is busy.
#include <napi.h>

#include <sys/resource.h>

namespace cowpool {
namespace {

Napi::Value ThreadMinorFaults(const Napi::CallbackInfo& info) {
  struct rusage usage {};
  // safe: `usage` lives on this frame; the kernel fills it. RUSAGE_THREAD
  // (Linux ≥ 2.6.26) reads only the calling thread's counters.
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return info.Env().Null();
  return Napi::Number::New(info.Env(), static_cast<double>(usage.ru_minflt));
}

}  // namespace

void InitThreadFaults(Napi::Env env, Napi::Object exports) {
  exports.Set("threadMinorFaults", Napi::Function::New<ThreadMinorFaults>(env, "threadMinorFaults"));
}

}  // namespace cowpool
