#include "range_ops.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>

#include "dirty_restore.h"
#include "errors.h"
#include "page_scan.h"
#include "reset_features.h"
#include "write_tracking.h"
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

void MapImageAt(Napi::Env env, uint8_t* base, const ImageEntry* image, const char* what, int recovery_fd) {
  // safe: [base, base + byte_length) was validated by the caller to lie inside
  // its slot's accessible range; the image file is exactly byte_length long
  // and sealed against shrinking, so no page of this mapping is past EOF.
  void* p = sys::Mmap(base, image->byte_length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, image->fd, 0);
  if (p != MAP_FAILED) return;
  int err = errno;
  // A failed MAP_FIXED may have unmapped the old pages. An unmapped hole in
  // the accessible range would crash a JS read, so put zero pages back; the
  // caller marks the slot unknown either way.
  // safe: same range as above. A raw slot's own memfd covers the whole slot
  // from offset 0, and its reset truncates those pages away; anonymous
  // pages there would survive every reset.
  if (recovery_fd >= 0) {
    sys::MapSharedForRecovery(base, image->byte_length, recovery_fd);
  } else {
    sys::MapZeroForRecovery(base, image->byte_length);
  }
  ThrowSyscall(env, "mmap", err, what);
}

void DiscardRange(Napi::Env env, uint8_t* base, size_t length, const char* what) {
  if (length == 0) return;
  // safe: caller-validated range; MADV_DONTNEED on a private mapping only
  // drops private copies (file-backed pages revert to the file, anonymous
  // ones to zero), it never unmaps.
  if (sys::Madvise(base, length, MADV_DONTNEED) != 0) ThrowSyscall(env, "madvise", errno, what);
}

ResetStats ResetRange(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                      const ResetRequest& request, const char* what) {
  ResetStats stats;
  const size_t page = sys::PageSize();
  stats.range_pages = total_length / page;
  if ((request.flags & kResetUntrack) && request.mode != ResetMode::kTrackWrites) {
    int err = Unregister(base, total_length);
    if (err != 0) ThrowSyscall(env, "ioctl", err, what);
  }
  switch (request.mode) {
    case ResetMode::kRestoreDirty:
      RestorePrivate(env, base, total_length, image, request, ScanSource::kPagemapScan, &stats, what);
      return stats;
    case ResetMode::kRestoreDirtyRead:
      RestorePrivate(env, base, total_length, image, request, ScanSource::kPagemapRead, &stats, what);
      return stats;
    case ResetMode::kTrackWrites:
      RestoreWritten(env, base, total_length, image, request, &stats, what);
      return stats;
    case ResetMode::kMadvise:
    case ResetMode::kKeepResident:
      break;
  }
  if (request.flags & kResetCount) {
    stats.dirty_pages = CountPrivatePages(env, base, total_length, what);
    stats.pages_scanned = total_length / page;
  }
  // Copied from the image only where the module has data; past it the image
  // is holes and a copy would only read zeros out of them.
  size_t image_length = image != nullptr ? std::min(DataSpan(image), total_length) : 0;
  size_t keep = 0;
  if (request.mode == ResetMode::kKeepResident && !(request.flags & kResetTrim)) {
    keep = std::min(request.keep_resident_bytes, total_length);
    keep -= keep % page;
    size_t copy = std::min(keep, image_length);
    // safe: image->view maps byte_length >= DataSpan >= copy readable bytes;
    // [base, base + copy) is inside the caller's range and writable.
    if (copy > 0) std::memcpy(base, image->view, copy);
    // safe: [copy, keep) lies inside [0, total_length).
    if (keep > copy) std::memset(base + copy, 0, keep - copy);
    stats.bytes_copied = keep;
  }
  if (request.flags & kResetTrim) stats.outcome |= kOutcomeTrimmed;
  DiscardRange(env, base + keep, total_length - keep, what);
  stats.bytes_discarded = total_length - keep;
  stats.private_pages_kept = static_cast<double>(keep / page);
  return stats;
}

size_t CountPrivatePages(Napi::Env env, uint8_t* base, size_t length, const char* what) {
  const ResetFeatures& features = Features();
  ScanSource source;
  if (features.pagemap_scan.available) {
    source = ScanSource::kPagemapScan;
  } else if (features.pagemap_read.available) {
    source = ScanSource::kPagemapRead;
  } else {
    ThrowCode(env, "UNSUPPORTED_PLATFORM",
              std::string(what) + ": cannot count private pages: /proc/self/pagemap is unavailable (" +
                  features.pagemap_read.reason + ")");
  }
  const size_t page = sys::PageSize();
  PageScanner scanner(base, length, ScanKind::kPrivate, source);
  page_region runs[kScanBatch];
  size_t pages = 0;
  for (;;) {
    int n = scanner.Next(runs);
    if (n < 0) ThrowSyscall(env, source == ScanSource::kPagemapScan ? "ioctl" : "pread", errno, what);
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      // The pread source cannot tell the shared zero page from an anonymous
      // page mapped twice; count only what actually holds non-zero bytes
      // there, so the count means "private memory" under both sources.
      if (runs[i].categories & kMaybeZeroPage) {
        for (uint64_t p = runs[i].start; p < runs[i].end; p += page) {
          // safe: a page of the caller's mapped range (the scan only returns pages inside it).
          const uint8_t* bytes = reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(p));
          bool zero = PageIsZero(bytes, page);
          if (!zero) ++pages;
        }
      } else {
        pages += static_cast<size_t>(runs[i].end - runs[i].start) / page;
      }
    }
  }
  return pages;
}

namespace {

// Runs on every reset: the message is built only when the value is refused.
size_t ReadRequestSize(Napi::Env env, Napi::Value value, const char* what, const char* field, size_t fallback) {
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) ThrowInvalid(env, std::string(what) + ": " + field + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowInvalid(env, std::string(what) + ": " + field + " must be a non-negative integer");
  }
  return static_cast<size_t>(d);
}

const FeatureStatus* FeatureFor(ResetMode mode) {
  const ResetFeatures& f = Features();
  switch (kResetModes[static_cast<int>(mode)].needs) {
    case ResetNeed::kPagemapScan:
      return &f.pagemap_scan;
    case ResetNeed::kPagemapRead:
      return &f.pagemap_read;
    case ResetNeed::kUserfaultfd:
      return &f.userfaultfd;
    case ResetNeed::kNothing:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

ResetRequest ReadResetRequestValues(Napi::Env env, int mode, Napi::Value keep_resident, Napi::Value max_resident,
                                    Napi::Value flags_value, const char* what) {
  ResetRequest request;
  if (mode < 0 || mode >= kResetModeCount) ThrowInvalid(env, std::string(what) + ": unknown mode");
  request.mode = static_cast<ResetMode>(mode);
  request.keep_resident_bytes = ReadRequestSize(env, keep_resident, what, "keepResidentBytes", 0);
  request.max_resident_bytes = ReadRequestSize(env, max_resident, what, "maxResidentBytes", SIZE_MAX);
  size_t flags = ReadRequestSize(env, flags_value, what, "flags", 0);
  if (flags > (kResetTrim | kResetCount | kResetCheckCap | kResetUntrack | kResetSweep)) {
    ThrowInvalid(env, std::string(what) + ": unknown flags");
  }
  request.flags = static_cast<uint32_t>(flags);
  if (const FeatureStatus* feature = FeatureFor(request.mode); feature != nullptr && !feature->available) {
    ThrowCode(env, "UNSUPPORTED_PLATFORM",
              std::string(what) + ": reset mode " + kResetModes[mode].name + " (" + std::to_string(mode) +
                  ") is unavailable here (" + feature->reason + "); pick another mode, or let resetSupport() choose");
  }
  if ((request.flags & (kResetCount | kResetCheckCap)) && !Features().pagemap_scan.available &&
      !Features().pagemap_read.available) {
    ThrowCode(env, "UNSUPPORTED_PLATFORM", std::string(what) + ": counting private pages needs /proc/self/pagemap (" +
                                               Features().pagemap_read.reason + ")");
  }
  return request;
}

ResetRequest ReadResetRequest(Napi::Env env, const Napi::CallbackInfo& info, size_t first, const char* what) {
  Napi::Value mode = info[first];
  if (!mode.IsNumber()) ThrowInvalid(env, std::string(what) + ": mode must be a number");
  double m = mode.As<Napi::Number>().DoubleValue();
  if (!(m >= 0 && m < kResetModeCount && m == static_cast<double>(static_cast<int>(m)))) {
    ThrowInvalid(env, std::string(what) + ": unknown mode");
  }
  return ReadResetRequestValues(env, static_cast<int>(m), info[first + 1], info[first + 2], info[first + 3], what);
}

void WriteResetStats(Napi::Env env, Napi::Value out, const ResetStats& stats, const char* what) {
  if (out.IsUndefined() || out.IsNull()) return;
  if (!out.IsTypedArray() || out.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowInvalid(env, std::string(what) + ": stats must be a Float64Array");
  }
  Napi::Float64Array array = out.As<Napi::Float64Array>();
  if (array.ElementLength() < 8) ThrowInvalid(env, std::string(what) + ": stats must hold at least 8 numbers");
  // safe: ElementLength() >= 8 checked above; the array is an argument of the
  // running call, so its storage stays alive until we return.
  array[0] = static_cast<double>(stats.bytes_copied);
  array[1] = static_cast<double>(stats.bytes_discarded);
  array[2] = static_cast<double>(stats.pages_scanned);
  array[3] = static_cast<double>(stats.dirty_pages);
  array[4] = static_cast<double>(stats.regions);
  array[5] = stats.private_pages_kept;
  array[6] = static_cast<double>(stats.outcome);
  array[7] = static_cast<double>(stats.range_pages);
}

}  // namespace cowpool
