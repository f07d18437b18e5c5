#include "errors.h"

#include <cstring>
#include <string>

namespace cowpool {

void ThrowSyscall(Napi::Env env, const char* syscall, int err, const char* what) {
  std::string message = std::string(what) + ": " + syscall + " failed with " + sys::ErrnoName(err) + " (" +
                        std::strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "SYSCALL_FAILED"));
  error.Set("errno", Napi::String::New(env, sys::ErrnoName(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

void ThrowInvalid(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::RangeError::New(env, message);
  error.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  throw error;
}

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

bool CanRunJs(napi_env env) {
  napi_value global;
  napi_value fn;
  napi_value result;
  if (napi_get_global(env, &global) != napi_ok) return false;
  auto noop = [](napi_env, napi_callback_info) -> napi_value { return nullptr; };
  if (napi_create_function(env, "cowpoolProbe", NAPI_AUTO_LENGTH, noop, nullptr, &fn) != napi_ok) return false;
  return napi_call_function(env, global, fn, 0, nullptr, &result) == napi_ok;
}

}  // namespace cowpool
