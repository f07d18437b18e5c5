// The resets that copy back only what changed: restore-dirty (private pages,
// found by PAGEMAP_SCAN or by reading pagemap entries) and track-writes
// (pages written since the last reset, found through userfaultfd async
// write-protect).
//
//   base            base + DataSpan(image)                     base + total
//   |<-------------- image (MAP_PRIVATE of the memfd) -------------->|
//   |<--- data --->|<--- sparse tail (holes) / zero fill ------------>|
//     a run inside: memcpy      a run inside: memset 0
//     from image->view          (the view's holes are never read)
//
// `image_length` below is DataSpan(image): where the copy source ends, not
// where the mapping ends.
//
// A page restored in place stays private, so restore-dirty's set of pages
// only grows; the cap (max_resident_bytes) and kResetTrim bound it by
// discarding everything instead. Track-writes copies only what was written
// since the last reset and protects those pages again afterwards.
#pragma once

#include <napi.h>

#include "image.h"
#include "page_scan.h"
#include "range_ops.h"

namespace cowpool {

// True when the page at `page` (readable, `length` bytes) holds only zeros.
bool PageIsZero(const uint8_t* page, size_t length);

// Puts [start, end) back: image bytes below base + image_length, zeros above.
// A run flagged kMaybeZeroPage (pagemap-read source) is checked page by page
// and left alone where it already reads as zeros, so the shared zero page is
// never replaced by a private copy. Returns the bytes written.
size_t RestoreRun(uint8_t* base, size_t image_length, const ImageEntry* image, uint8_t* start, uint8_t* end,
                  bool maybe_zero);

void RestorePrivate(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                    const ResetRequest& request, ScanSource source, ResetStats* stats, const char* what);

void RestoreWritten(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                    const ResetRequest& request, ResetStats* stats, const char* what);

}  // namespace cowpool
