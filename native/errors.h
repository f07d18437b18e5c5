// Turning failures into JS errors with a stable `code` (see src/errors.ts).
#pragma once

#include <napi.h>

#include "sys.h"

namespace cowpool {

// Throws Error{code:'SYSCALL_FAILED', errno:'<name>', syscall} for errno `err`.
[[noreturn]] void ThrowSyscall(Napi::Env env, const char* syscall, int err, const char* what);
// Throws TypeError/RangeError-like Error{code:'INVALID_ARGUMENT'}.
[[noreturn]] void ThrowInvalid(Napi::Env env, const std::string& message);
// Throws Error{code} with a message (for states such as LEASE_RELEASED).
[[noreturn]] void ThrowCode(Napi::Env env, const char* code, const std::string& message);

// False while the environment is being torn down (a worker thread ending):
// JS can no longer run there, so an error can no longer be thrown to it.
bool CanRunJs(napi_env env);

}  // namespace cowpool
