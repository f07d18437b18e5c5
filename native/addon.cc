// Module entry: registers the primitives. Policy lives in TypeScript
// (src/); this addon only performs system calls on ranges it validates.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"
#include "image.h"
#include "page_scan.h"
#include "range_ops.h"
#include "raw_slot.h"
#include "reset_features.h"
#include "sys.h"

namespace cowpool {

void InitMemoryBinding(Napi::Env env, Napi::Object exports);
void InitResetCalibration(Napi::Env env, Napi::Object exports);
void InitThreadFaults(Napi::Env env, Napi::Object exports);

namespace {

// Probes memfd_create once so the TS layer can refuse to start with a clear
// error on a kernel without it (before 3.17, or blocked by seccomp).
Napi::Object Support(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  int fd = static_cast<int>(sys::MemfdCreate("cowpool-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd >= 0) {
    sys::Close(fd);
    out.Set("memfd", Napi::Boolean::New(env, true));
    out.Set("memfdError", env.Null());
  } else {
    out.Set("memfd", Napi::Boolean::New(env, false));
    out.Set("memfdError", Napi::String::New(env, sys::ErrnoName(errno)));
  }
  return out;
}

#ifdef COWPOOL_TEST_HOOKS
// injectFault(syscall, skip, count, errnoName): make the next `count` calls of
// `syscall` (after `skip` successful ones) fail. injectFault(null) disarms all.
// Test build only (cowpool_test.node).
Napi::Value InjectFault(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() == 0 || info[0].IsNull() || info[0].IsUndefined()) {
    sys::DisarmAllFaults();
    return env.Undefined();
  }
  if (!info[0].IsString()) ThrowInvalid(env, "injectFault: syscall must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  sys::Call call = sys::CallFromName(name.c_str());
  if (call == sys::Call::kCount) ThrowInvalid(env, "injectFault: unknown syscall '" + name + "'");
  uint32_t skip = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  uint32_t count = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 1;
  int err = ENOMEM;
  if (info[3].IsString()) {
    std::string errname = info[3].As<Napi::String>().Utf8Value();
    err = 0;
    for (int e = 1; e < 134; ++e) {
      if (errname == sys::ErrnoName(e)) {
        err = e;
        break;
      }
    }
    if (err == 0) ThrowInvalid(env, "injectFault: unknown errno name '" + errname + "'");
  }
  sys::ArmFault(call, skip, count, err);
  return env.Undefined();
}

Napi::Value InjectedFaults(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sys::InjectedFaultCount()));
}
#endif

Napi::Object FeatureObject(Napi::Env env, const FeatureStatus& status) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("available", Napi::Boolean::New(env, status.available));
  out.Set("reason", status.available ? env.Null() : Napi::String::New(env, status.reason).As<Napi::Value>());
  return out;
}

// resetSupport() -> which reset facilities this process can use, and why not.
Napi::Value ResetSupport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ResetFeatures& f = Features();
  Napi::Object out = Napi::Object::New(env);
  out.Set("pagemapRead", FeatureObject(env, f.pagemap_read));
  out.Set("pagemapScan", FeatureObject(env, f.pagemap_scan));
  out.Set("userfaultfd", FeatureObject(env, f.userfaultfd));
  out.Set("disabled", Napi::String::New(env, f.disabled));
  return out;
}

// classifyPagemapEntry(entry: bigint) -> PAGE_IS_* categories the pread
// source derives from one raw /proc/self/pagemap entry (tests feed it
// synthetic entries, e.g. swapped ones on a machine without swap).
Napi::Value ClassifyPagemapEntry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBigInt()) ThrowInvalid(env, "classifyPagemapEntry: entry must be a bigint");
  bool lossless = false;
  uint64_t entry = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowInvalid(env, "classifyPagemapEntry: entry must fit in 64 bits");
  uint64_t categories = CategoriesFromPagemapEntry(entry);
  Napi::Object out = Napi::Object::New(env);
  out.Set("categories", Napi::Number::New(env, static_cast<double>(categories)));
  out.Set("private", Napi::Boolean::New(env, IsPrivateCategories(categories)));
  return out;
}

// isPrivateCategories(categories) -> whether a run with these PAGE_IS_*
// categories is restored/counted as private (test hook for synthetic runs).
Napi::Value IsPrivate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) ThrowInvalid(env, "isPrivateCategories: categories must be a number");
  double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowInvalid(env, "isPrivateCategories: categories must be a 32-bit unsigned integer");
  }
  return Napi::Boolean::New(env, IsPrivateCategories(static_cast<uint64_t>(d)));
}

// resetModeIds: { [active mode name]: native id }, from kResetModes, so the
// TS mode table can be checked against the ids this build runs.
Napi::Object ResetModeIds(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  for (const ResetModeInfo& m : kResetModes) out.Set(m.name, static_cast<double>(static_cast<int>(m.mode)));
  return out;
}

Napi::Object ScanConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("PAGE_IS_WPALLOWED", PAGE_IS_WPALLOWED);
  out.Set("PAGE_IS_WRITTEN", PAGE_IS_WRITTEN);
  out.Set("PAGE_IS_FILE", PAGE_IS_FILE);
  out.Set("PAGE_IS_PRESENT", PAGE_IS_PRESENT);
  out.Set("PAGE_IS_SWAPPED", PAGE_IS_SWAPPED);
  out.Set("PAGE_IS_PFNZERO", PAGE_IS_PFNZERO);
  out.Set("maybeZeroPage", static_cast<double>(kMaybeZeroPage));
  out.Set("privateInverted", static_cast<double>(kPrivateInverted));
  out.Set("privateMask", static_cast<double>(kPrivateMask));
  out.Set("privateAnyof", static_cast<double>(kPrivateAnyof));
  out.Set("batch", kScanBatch);
  return out;
}

Napi::Value LiveImages(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LiveImageCount()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#ifdef COWPOOL_TEST_HOOKS
  sys::ArmFaultFromEnvironment();
#endif
  exports.Set("Image", Image::Init(env));
  exports.Set("RawSlot", RawSlot::Init(env));
  InitMemoryBinding(env, exports);
  InitResetCalibration(env, exports);
  InitThreadFaults(env, exports);
  exports.Set("resetSupport", Napi::Function::New<ResetSupport>(env, "resetSupport"));
  exports.Set("classifyPagemapEntry", Napi::Function::New<ClassifyPagemapEntry>(env, "classifyPagemapEntry"));
  exports.Set("isPrivateCategories", Napi::Function::New<IsPrivate>(env, "isPrivateCategories"));
  exports.Set("scanConstants", ScanConstants(env));
  exports.Set("resetModeIds", ResetModeIds(env));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sys::PageSize())));
  exports.Set("support", Support(env));
#ifdef COWPOOL_TEST_HOOKS
  exports.Set("build", Napi::String::New(env, "test"));
  exports.Set("injectFault", Napi::Function::New<InjectFault>(env, "injectFault"));
  exports.Set("injectedFaults", Napi::Function::New<InjectedFaults>(env, "injectedFaults"));
#else
  exports.Set("build", Napi::String::New(env, "production"));
#endif
  exports.Set("liveImages", Napi::Function::New<LiveImages>(env, "liveImages"));
  return exports;
}

}  // namespace
}  // namespace cowpool

// A worker thread terminated while it loads the addon runs this with its
// environment going away: N-API calls fail, node-addon-api turns that into
// a C++ exception, and throwing it to JS fails too — which would abort the
// whole process. Such a thread can no longer use the addon: hand back what
// was registered. With a live environment the error reaches the require().
static Napi::Object InitCowpool(Napi::Env env, Napi::Object exports) {
  try {
    return cowpool::Init(env, exports);
  } catch (const Napi::Error&) {
    if (cowpool::CanRunJs(env)) throw;
    return exports;
  }
}

NODE_API_MODULE(cowpool, InitCowpool)
