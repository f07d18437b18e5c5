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

}  // namespace cowpool
