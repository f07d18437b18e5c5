// Page-range operations shared by V8 memory slots and raw slots. Callers pass
// ranges they have validated (page-aligned, inside memory they own); these
// functions only perform the system calls and report failures.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "image.h"

namespace cowpool {

// How a slot is put back to its pristine state. The mode table is
// src/slots/reset-mode-table.ts (which picks the mode, its fallbacks and how
// auto prices it); numbers are the JS-visible values, and kResetModes below
// names them for the addon's `resetModeIds`, which a test holds equal to it.
enum class ResetMode : int {
  kMadvise = 0,       // drop every private page; next touch faults the image or zero back in
  kKeepResident = 1,  // memcpy/memset the first keep_resident bytes, madvise the rest
  kRestoreDirty = 2,  // PAGEMAP_SCAN for private pages, copy back exactly those
  kRestoreDirtyRead = 3,  // the same, reading /proc/self/pagemap entries (older kernels)
  kTrackWrites = 4,   // userfaultfd async write-protect: copy back the pages written since the last reset
};
constexpr int kResetModeCount = 5;

// The facility a mode needs to run (the others it needs follow from it:
// write tracking is only available with PAGEMAP_SCAN, see reset_features.cc).
enum class ResetNeed { kNothing, kPagemapRead, kPagemapScan, kUserfaultfd };

struct ResetModeInfo {
  ResetMode mode;
  const char* name;  // the active mode's name in src/slots/reset-mode-table.ts
  ResetNeed needs;
};

// Indexed by the mode's number.
inline constexpr ResetModeInfo kResetModes[kResetModeCount] = {
    {ResetMode::kMadvise, "madvise", ResetNeed::kNothing},
    {ResetMode::kKeepResident, "keep-resident", ResetNeed::kNothing},
    {ResetMode::kRestoreDirty, "restore-dirty", ResetNeed::kPagemapScan},
    {ResetMode::kRestoreDirtyRead, "restore-dirty-pread", ResetNeed::kPagemapRead},
    {ResetMode::kTrackWrites, "track-writes", ResetNeed::kUserfaultfd},
};

// Request flags.
// Drop every private page (madvise) whatever the mode; tracking is re-armed.
constexpr uint32_t kResetTrim = 1u << 0;
// madvise/keep-resident: count the private pages first (dirty_pages), so a
// policy can learn how many pages a tenant writes.
constexpr uint32_t kResetCount = 1u << 1;
// track-writes: count the private pages after restoring and trim when they
// exceed max_resident_bytes.
constexpr uint32_t kResetCheckCap = 1u << 2;

// Before resetting in a mode other than track-writes, drop the range's
// write-tracking registration and with it the write-protect markers, which
// would otherwise make every later page scan walk a fully populated page
// table (a slot leaving track-writes, or one remapped after it).
constexpr uint32_t kResetUntrack = 1u << 3;

// restore-dirty: compare each private page with what it should hold first;
// one that already does (restored earlier, not written since) is dropped with
// madvise instead of copied, so pages tenants stopped writing leave the
// private set instead of being copied back on every reset until a trim.
constexpr uint32_t kResetSweep = 1u << 4;

// Outcome bits.
constexpr uint32_t kOutcomeTrimmed = 1u << 0;       // kResetTrim was honoured
constexpr uint32_t kOutcomeOverCap = 1u << 1;       // private pages exceeded the cap: discarded instead
constexpr uint32_t kOutcomeRearmed = 1u << 2;       // the range had lost (or never had) its registration
constexpr uint32_t kOutcomeTrackingFailed = 1u << 3;  // registering failed: the range was discarded, untracked

struct ResetRequest {
  ResetMode mode = ResetMode::kMadvise;
  size_t keep_resident_bytes = 0;
  size_t max_resident_bytes = 0;
  uint32_t flags = 0;
};

struct ResetStats {
  // Bytes put back by copying (memcpy from the image or memset to zero).
  size_t bytes_copied = 0;
  // Bytes handed to madvise(MADV_DONTNEED).
  size_t bytes_discarded = 0;
  // Pages whose page-table entries a scan examined.
  size_t pages_scanned = 0;
  // Pages found private (restore-dirty, counting) or written (track-writes).
  size_t dirty_pages = 0;
  // Runs the scans returned.
  size_t regions = 0;
  // Private pages left resident after the reset; -1 when not known.
  double private_pages_kept = -1;
  uint32_t outcome = 0;
  // Pages in the range reset.
  size_t range_pages = 0;
};

bool IsPageAligned(const void* p);
bool IsPageAligned(size_t n);

// Replaces [base, base + image->byte_length) with a private copy-on-write
// mapping of the image. On failure tries to leave the range mapped as zero
// pages (never unmapped) and throws.
// `recovery_fd` >= 0: on failure put back a MAP_SHARED view of that file
// (offset 0 at `base`) instead of anonymous zero pages — a raw slot's memfd,
// whose pages its reset truncates away.
void MapImageAt(Napi::Env env, uint8_t* base, const ImageEntry* image, const char* what, int recovery_fd = -1);
// Replaces [base, base + length) with fresh private anonymous zero pages.
void MapZeroAt(Napi::Env env, uint8_t* base, size_t length, const char* what);
// madvise(MADV_DONTNEED) on [base, base + length).
void DiscardRange(Napi::Env env, uint8_t* base, size_t length, const char* what);

// Resets [base, base + total_length) where the image (may be null) is mapped
// over the first image->byte_length bytes and the rest is zero-fill memory.
// Restores copy from the image below DataSpan(image) and write zeros above it
// (the image's sparse tail reads as zeros; its holes are never read).
// The caller checked that `request.mode` is available (reset_features.h).
ResetStats ResetRange(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                      const ResetRequest& request, const char* what);

// Counts the private pages of [base, base + length) with the best source
// available. Throws when neither pagemap source is.
size_t CountPrivatePages(Napi::Env env, uint8_t* base, size_t length, const char* what);

// Reads a reset request from JS arguments (mode, keepResidentBytes,
// maxResidentBytes?, flags?) and checks the mode is available.
ResetRequest ReadResetRequest(Napi::Env env, const Napi::CallbackInfo& info, size_t first, const char* what);
// The same from separate values (mode already an integer).
ResetRequest ReadResetRequestValues(Napi::Env env, int mode, Napi::Value keep_resident, Napi::Value max_resident,
                                    Napi::Value flags, const char* what);
// Writes `stats` into an optional Float64Array argument (see RESET_STAT in src/native/addon.ts).
void WriteResetStats(Napi::Env env, Napi::Value out, const ResetStats& stats, const char* what);

}  // namespace cowpool
