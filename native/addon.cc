// Module entry: registers the primitives. Policy lives in TypeScript
// (src/); this addon only performs system calls on ranges it validates.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"
#include "image.h"
#include "raw_slot.h"
#include "sys.h"

namespace cowpool {

void InitMemoryBinding(Napi::Env env, Napi::Object exports);

namespace {

// Probes memfd_create once so the TS layer can refuse to start with a clear
// error on a kernel without it (before 3.17, or blocked by seccomp).
Napi::Object Support(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  int fd = static_cast<int>(sys::MemfdCreate("cowpool-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd >= 0) {
    ::close(fd);
    out.Set("memfd", Napi::Boolean::New(env, true));
    out.Set("memfdError", env.Null());
  } else {
    out.Set("memfd", Napi::Boolean::New(env, false));
    out.Set("memfdError", Napi::String::New(env, sys::ErrnoName(errno)));
  }
  return out;
}

// injectFault(syscall, skip, count, errnoName): make the next `count` calls of
// `syscall` (after `skip` successful ones) fail. injectFault(null) disarms all.
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

Napi::Value LiveImages(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LiveImageCount()));
}

// Reads COWPOOL_FAULT_INJECT="syscall:skip:count:ERRNO" once per process so a
// child process can start with a fault armed (tests of crash safety).
void ArmFromEnvironment() {
  static bool done = false;
  if (done) return;
  done = true;
  const char* spec = std::getenv("COWPOOL_FAULT_INJECT");
  if (spec == nullptr || *spec == '\0') return;
  char name[32] = {0};
  unsigned skip = 0, count = 1;
  char errname[32] = "ENOMEM";
  if (std::sscanf(spec, "%31[a-z_]:%u:%u:%31[A-Z0-9]", name, &skip, &count, errname) < 1) return;
  sys::Call call = sys::CallFromName(name);
  if (call == sys::Call::kCount) return;
  int err = ENOMEM;
  for (int e = 1; e < 134; ++e) {
    if (std::strcmp(errname, sys::ErrnoName(e)) == 0) {
      err = e;
      break;
    }
  }
  sys::ArmFault(call, skip, count, err);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ArmFromEnvironment();
  exports.Set("Image", Image::Init(env));
  exports.Set("RawSlot", RawSlot::Init(env));
  InitMemoryBinding(env, exports);
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sys::PageSize())));
  exports.Set("support", Support(env));
  exports.Set("injectFault", Napi::Function::New<InjectFault>(env, "injectFault"));
  exports.Set("injectedFaults", Napi::Function::New<InjectedFaults>(env, "injectedFaults"));
  exports.Set("liveImages", Napi::Function::New<LiveImages>(env, "liveImages"));
  return exports;
}

}  // namespace
}  // namespace cowpool

static Napi::Object InitCowpool(Napi::Env env, Napi::Object exports) { return cowpool::Init(env, exports); }

NODE_API_MODULE(cowpool, InitCowpool)
