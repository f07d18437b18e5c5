// Page-range operations shared by V8 memory slots and raw slots. Callers pass
// ranges they have validated (page-aligned, inside memory they own); these
// functions only perform the system calls and report failures.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "image.h"

namespace cowpool {

// How a slot is put back to its pristine state (see src/config).
enum class ResetMode : int {
  kMadvise = 0,       // drop every private page; next touch faults the image or zero back in
  kKeepResident = 1,  // memcpy/memset the first keep_resident bytes, madvise the rest
};

struct ResetStats {
  // Bytes put back by copying (memcpy from the image or memset to zero).
  size_t bytes_copied = 0;
  // Bytes handed to madvise(MADV_DONTNEED).
  size_t bytes_discarded = 0;
};

bool IsPageAligned(const void* p);
bool IsPageAligned(size_t n);

// Replaces [base, base + image->byte_length) with a private copy-on-write
// mapping of the image. On failure tries to leave the range mapped as zero
// pages (never unmapped) and throws.
void MapImageAt(Napi::Env env, uint8_t* base, const ImageEntry* image, const char* what);
// Replaces [base, base + length) with fresh private anonymous zero pages.
void MapZeroAt(Napi::Env env, uint8_t* base, size_t length, const char* what);
// madvise(MADV_DONTNEED) on [base, base + length).
void DiscardRange(Napi::Env env, uint8_t* base, size_t length, const char* what);

// Resets [base, base + total_length) where the image (may be null) is mapped
// over the first image->byte_length bytes and the rest is zero-fill memory.
ResetStats ResetRange(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image, ResetMode mode,
                      size_t keep_resident_bytes, const char* what);

}  // namespace cowpool
