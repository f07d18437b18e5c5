#include "range_ops.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>

#include "errors.h"
#include "sys.h"

namespace cowpool {

bool IsPageAligned(const void* p) { return (reinterpret_cast<uintptr_t>(p) & (sys::PageSize() - 1)) == 0; }
bool IsPageAligned(size_t n) { return (n & (sys::PageSize() - 1)) == 0; }

void MapZeroAt(Napi::Env env, uint8_t* base, size_t length, const char* what) {
  if (length == 0) return;
  // safe: the caller owns [base, base + length) (validated page-aligned range
  // inside its slot); MAP_FIXED replaces whatever was mapped there atomically.
  void* p = sys::Mmap(base, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) ThrowSyscall(env, "mmap", errno, what);
}

void MapImageAt(Napi::Env env, uint8_t* base, const ImageEntry* image, const char* what) {
  // safe: [base, base + byte_length) was validated by the caller to lie inside
  // its slot's accessible range; the image file is exactly byte_length long
  // and sealed against shrinking, so no page of this mapping is past EOF.
  void* p = sys::Mmap(base, image->byte_length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, image->fd, 0);
  if (p != MAP_FAILED) return;
  int err = errno;
  // A failed MAP_FIXED may have unmapped the old pages. An unmapped hole in
  // the accessible range would crash a JS read, so put zero pages back; the
  // caller marks the slot unknown either way.
  // safe: same range as above.
  ::mmap(base, image->byte_length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ThrowSyscall(env, "mmap", err, what);
}

void DiscardRange(Napi::Env env, uint8_t* base, size_t length, const char* what) {
  if (length == 0) return;
  // safe: caller-validated range; MADV_DONTNEED on a private mapping only
  // drops private copies (file-backed pages revert to the file, anonymous
  // ones to zero), it never unmaps.
  if (sys::Madvise(base, length, MADV_DONTNEED) != 0) ThrowSyscall(env, "madvise", errno, what);
}

ResetStats ResetRange(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image, ResetMode mode,
                      size_t keep_resident_bytes, const char* what) {
  ResetStats stats;
  size_t image_length = image != nullptr ? std::min(image->byte_length, total_length) : 0;
  size_t keep = 0;
  if (mode == ResetMode::kKeepResident) {
    keep = std::min(keep_resident_bytes, total_length);
    keep -= keep % sys::PageSize();
    size_t copy = std::min(keep, image_length);
    // safe: image->view maps byte_length >= copy readable bytes; [base, base +
    // copy) is inside the caller's range and writable.
    if (copy > 0) std::memcpy(base, image->view, copy);
    // safe: [copy, keep) lies inside [0, total_length).
    if (keep > copy) std::memset(base + copy, 0, keep - copy);
    stats.bytes_copied = keep;
  }
  DiscardRange(env, base + keep, total_length - keep, what);
  stats.bytes_discarded = total_length - keep;
  return stats;
}

}  // namespace cowpool
