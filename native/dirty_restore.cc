#include "dirty_restore.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "errors.h"
#include "reset_features.h"
#include "sys.h"
#include "write_tracking.h"

namespace cowpool {
namespace {

// Written runs closer than this many pages are protected again with one
// UFFDIO_WRITEPROTECT, gap included. The pages in the gap were not written
// since the last reset (the scan returns every written page), so none holds
// a tenant's bytes, but protecting them is not a no-op: a page restored
// earlier is protected already, and a never-touched one (an image hole, or a
// page still in the page cache) gets a write-protect marker in its page-table
// entry (seen in /proc/self/pagemap: bit 57 on every page between two written
// runs). The marker holds no memory and makes no page private; the first
// write to such a page faults once, as it would have anyway (async mode
// resolves the fault in the kernel), and is reported written.
// Protecting exactly the restored runs costs one ioctl per run instead:
// measured (scripts/reset-modes.mjs, 1 MiB image, track-writes/madvise per
// cycle) x0.89 against x0.50 here for 64 spread pages written by every
// tenant, x0.67 against x0.56 for 256 random pages.
constexpr size_t kProtectGapPages = 64;

uint8_t* RunStart(const page_region& run) { return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(run.start)); }
uint8_t* RunEnd(const page_region& run) { return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(run.end)); }

// Runs come from a scan of [base, base + total): check anyway, because a
// run outside it would make the copy below write someone else's memory.
void CheckRun(Napi::Env env, const page_region& run, uint8_t* base, size_t total, const char* what) {
  if (RunStart(run) < base || RunEnd(run) > base + total || run.end <= run.start) {
    ThrowCode(env, "SLOT_STATE", std::string(what) + ": the page scan returned a run outside the slot");
  }
}

// Discards the whole range and makes sure it is registered for tracking.
// After the discard nothing in the range is private, so nothing needs
// protecting: every page a tenant writes from here on becomes a private,
// unprotected page that reads WRITTEN. The discard alone is a complete reset;
// registration failing only means the next reset finds the range
// unregistered again and repeats this.
void Rearm(Napi::Env env, uint8_t* base, size_t total, ResetStats* stats, uint32_t outcome, const char* what) {
  DiscardRange(env, base, total, what);
  stats->bytes_discarded += total;
  stats->private_pages_kept = 0;
  stats->outcome |= outcome;
  // Registering a range that is registered already is a no-op; needed after
  // a discard only when the scan found the range unregistered.
  if ((outcome & kOutcomeRearmed) && Register(base, total) != 0) stats->outcome |= kOutcomeTrackingFailed;
}

// Restores one run page by page, dropping (madvise) the pages that already
// hold their pristine bytes and copying the others. Returns bytes copied;
// adds the dropped bytes to stats->bytes_discarded.
size_t SweepRun(Napi::Env env, uint8_t* base, size_t image_length, const ImageEntry* image, uint8_t* start,
                uint8_t* end, ResetStats* stats, const char* what) {
  const size_t page = sys::PageSize();
  size_t copied = 0;
  uint8_t* drop_start = nullptr;
  auto flush = [&](uint8_t* upto) {
    if (drop_start == nullptr) return;
    DiscardRange(env, drop_start, static_cast<size_t>(upto - drop_start), what);
    stats->bytes_discarded += static_cast<size_t>(upto - drop_start);
    drop_start = nullptr;
  };
  for (uint8_t* p = start; p < end; p += page) {
    bool pristine;
    if (p < base + image_length) {
      // safe: p is a page of [base, base + image_length) (CheckRun); the
      // image view maps that offset readable.
      pristine = std::memcmp(p, image->view + (p - base), page) == 0;
    } else {
      pristine = PageIsZero(p, page);
    }
    if (pristine) {
      if (drop_start == nullptr) drop_start = p;
      continue;
    }
    flush(p);
    copied += RestoreRun(base, image_length, image, p, p + page, false);
  }
  flush(end);
  return copied;
}

}  // namespace

bool PageIsZero(const uint8_t* page, size_t length) {
  // safe: the caller passes a readable page of its own range; reading it
  // faults in nothing that would change its contents.
  const uint64_t* words = reinterpret_cast<const uint64_t*>(page);
  for (size_t i = 0; i < length / sizeof(uint64_t); ++i) {
    if (words[i] != 0) return false;
  }
  return true;
}

size_t RestoreRun(uint8_t* base, size_t image_length, const ImageEntry* image, uint8_t* start, uint8_t* end,
                  bool maybe_zero) {
  size_t written = 0;
  uint8_t* image_end = base + image_length;
  if (start < image_end) {
    uint8_t* stop = std::min(end, image_end);
    // safe: [start, stop) lies in [base, base + image_length) (CheckRun and
    // the min above); image->view maps image->byte_length >= DataSpan >=
    // image_length readable bytes, and the offset start - base is inside it.
    std::memcpy(start, image->view + (start - base), static_cast<size_t>(stop - start));
    written += static_cast<size_t>(stop - start);
    start = stop;
  }
  if (start >= end) return written;
  if (!maybe_zero) {
    // safe: [start, end) is inside the caller's writable range (CheckRun).
    std::memset(start, 0, static_cast<size_t>(end - start));
    return written + static_cast<size_t>(end - start);
  }
  const size_t page = sys::PageSize();
  for (uint8_t* p = start; p < end; p += page) {
    if (PageIsZero(p, page)) continue;
    // safe: one page inside [start, end), as above.
    std::memset(p, 0, page);
    written += page;
  }
  return written;
}

void RestorePrivate(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                    const ResetRequest& request, ScanSource source, ResetStats* stats, const char* what) {
  size_t image_length = image != nullptr ? std::min(DataSpan(image), total_length) : 0;
  if (request.flags & kResetTrim) {
    DiscardRange(env, base, total_length, what);
    stats->bytes_discarded += total_length;
    stats->private_pages_kept = 0;
    stats->outcome |= kOutcomeTrimmed;
    return;
  }
  const size_t page = sys::PageSize();
  const size_t cap_pages = request.max_resident_bytes / page;
  PageScanner scanner(base, total_length, ScanKind::kPrivate, source);
  page_region runs[kScanBatch];
  bool over_cap = false;
  while (!over_cap) {
    int n = scanner.Next(runs);
    if (n < 0) ThrowSyscall(env, source == ScanSource::kPagemapScan ? "ioctl" : "pread", errno, what);
    if (n == 0) break;
    stats->regions += static_cast<size_t>(n);
    for (int i = 0; i < n; ++i) {
      const page_region& run = runs[i];
      CheckRun(env, run, base, total_length, what);
      size_t pages = static_cast<size_t>(run.end - run.start) / page;
      bool maybe_zero = (run.categories & kMaybeZeroPage) != 0;
      if (!maybe_zero && stats->dirty_pages + pages > cap_pages) {
        // Keeping these resident would pass the cap: drop everything
        // instead (below) so the private set cannot creep up to the slot.
        stats->dirty_pages += pages;
        over_cap = true;
        break;
      }
      size_t written = (request.flags & kResetSweep)
                           ? SweepRun(env, base, image_length, image, RunStart(run), RunEnd(run), stats, what)
                           : RestoreRun(base, image_length, image, RunStart(run), RunEnd(run), maybe_zero);
      stats->bytes_copied += written;
      if (request.flags & kResetSweep) {
        // Only the copied pages stay private.
        stats->dirty_pages += written / page;
        if (stats->dirty_pages > cap_pages) {
          over_cap = true;
          break;
        }
        continue;
      }
      // A page left alone because it read as zeros (the shared zero page,
      // under the pread source) is not private: count what was written.
      stats->dirty_pages += maybe_zero ? written / page : pages;
      if (stats->dirty_pages > cap_pages) {
        over_cap = true;
        break;
      }
    }
  }
  stats->pages_scanned += scanner.pages_walked();
  if (over_cap) {
    DiscardRange(env, base, total_length, what);
    stats->bytes_discarded += total_length;
    stats->private_pages_kept = 0;
    stats->outcome |= kOutcomeOverCap;
    return;
  }
  stats->private_pages_kept = static_cast<double>(stats->dirty_pages);
}

void RestoreWritten(Napi::Env env, uint8_t* base, size_t total_length, const ImageEntry* image,
                    const ResetRequest& request, ResetStats* stats, const char* what) {
  size_t image_length = image != nullptr ? std::min(DataSpan(image), total_length) : 0;
  if (request.flags & kResetTrim) {
    Rearm(env, base, total_length, stats, kOutcomeTrimmed, what);
    return;
  }
  const size_t page = sys::PageSize();
  PageScanner scanner(base, total_length, ScanKind::kWritten, ScanSource::kPagemapScan);
  page_region runs[kScanBatch];
  uint8_t* cluster_start = nullptr;
  uint8_t* cluster_end = nullptr;
  auto protect_cluster = [&]() {
    if (cluster_start == nullptr) return;
    int err = Protect(cluster_start, static_cast<size_t>(cluster_end - cluster_start));
    cluster_start = cluster_end = nullptr;
    // A restored page left unprotected would hide the next tenant's writes
    // to it: this must not pass silently. The slot becomes unknown.
    if (err != 0) ThrowSyscall(env, "ioctl", err, what);
  };
  for (;;) {
    int n = scanner.Next(runs);
    if (n < 0) {
      int err = errno;
      stats->pages_scanned += scanner.pages_walked();
      // EPERM from PM_SCAN_CHECK_WPASYNC: part of the range is a VMA without
      // async write-protect (new mapping after mapImage/configure, a forked
      // child, or never registered). Its written state means nothing.
      if (err == EPERM) {
        Rearm(env, base, total_length, stats, kOutcomeRearmed, what);
        return;
      }
      ThrowSyscall(env, "ioctl", err, what);
    }
    if (n == 0) break;
    stats->regions += static_cast<size_t>(n);
    for (int i = 0; i < n; ++i) {
      const page_region& run = runs[i];
      CheckRun(env, run, base, total_length, what);
      // Written and holding a page of its own (the scan returns nothing
      // else): copy back, then protect again below.
      stats->dirty_pages += static_cast<size_t>(run.end - run.start) / page;
      stats->bytes_copied += RestoreRun(base, image_length, image, RunStart(run), RunEnd(run), false);
      if (cluster_start != nullptr && RunStart(run) <= cluster_end + kProtectGapPages * page) {
        cluster_end = RunEnd(run);
      } else {
        protect_cluster();
        cluster_start = RunStart(run);
        cluster_end = RunEnd(run);
      }
    }
  }
  protect_cluster();
  stats->pages_scanned += scanner.pages_walked();
  if (request.flags & kResetCheckCap) {
    size_t kept = CountPrivatePages(env, base, total_length, what);
    stats->pages_scanned += total_length / page;
    if (kept * page > request.max_resident_bytes) {
      Rearm(env, base, total_length, stats, kOutcomeOverCap, what);
      return;
    }
    stats->private_pages_kept = static_cast<double>(kept);
  }
}

}  // namespace cowpool
