// Finding the pages of a range that are not what a fresh mapping would show.
//
//   base                                                   base + length
//   |-- none --|-- file page (clean) --|-- private --|-- zero page --|-- swapped --|
//                                          ^ report                      ^ report
//
// Two questions, two scans:
//   kPrivate  pages this mapping owns a private copy of: present or swapped,
//             not a page-cache page (PAGE_IS_FILE), not the shared zero page
//             (PAGE_IS_PFNZERO). A private page may hold a tenant's bytes;
//             everything else reads as the image or as zeros.
//   kWritten  private pages written since they were last write-protected
//             through userfaultfd (PAGE_IS_WRITTEN). Meaningful only on ranges
//             registered in async write-protect mode: the scan passes
//             PM_SCAN_CHECK_WPASYNC so an unregistered range fails with
//             EPERM instead of reporting every page as written. Unprotected
//             holes and clean file pages also read WRITTEN; they are left out
//             (nothing to restore), so they never need protecting.
//
// Sources: ioctl(PAGEMAP_SCAN) (Linux 6.7+), or for kPrivate a pread of the
// raw /proc/self/pagemap entries (any kernel). Either way the caller gets
// runs [start, end) of pages with the same categories, a batch at a time:
// the scanner resumes from the kernel's walk_end until the whole range is
// covered, however many runs there are.
//
// Invariant: cursor_ only moves forward, page-aligned, within [start, end].
// Invariant: every page of [start, cursor_) has been examined and every page
//            of it matching the question was returned in some batch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "linux_abi.h"

namespace cowpool {

// Categories the pread source sets for a present anonymous page that is not
// mapped exclusively: it may be the shared zero page, which pagemap entries
// cannot tell apart without the PFN (hidden from unprivileged readers).
// Outside the kernel's PAGE_IS_* bits.
constexpr uint64_t kMaybeZeroPage = uint64_t{1} << 24;

// The kernel filter for "private": (PRESENT or SWAPPED) and not FILE and not
// PFNZERO, in PAGEMAP_SCAN's terms (a page matches when
// ((categories ^ inverted) & mask) == mask and, if anyof is non-zero,
// (categories ^ inverted) & anyof != 0).
constexpr uint64_t kPrivateInverted = PAGE_IS_FILE | PAGE_IS_PFNZERO;
constexpr uint64_t kPrivateMask = PAGE_IS_FILE | PAGE_IS_PFNZERO;
constexpr uint64_t kPrivateAnyof = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
constexpr uint64_t kReturnMask =
    PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE | PAGE_IS_PFNZERO | PAGE_IS_WRITTEN | PAGE_IS_WPALLOWED;

// Maps one /proc/self/pagemap entry to PAGE_IS_* categories (+ kMaybeZeroPage).
// A swap entry carrying the uffd-wp bit (57) maps to SWAPPED|WPALLOWED without
// WRITTEN, as PAGEMAP_SCAN reports it.
uint64_t CategoriesFromPagemapEntry(uint64_t entry);
// True when a page with these categories holds data of its own (see kPrivate):
// the kernel filter above, minus one case the filter cannot express. In a
// range registered for async write-protect, a write-protect marker on an
// unpopulated page is a swap-type entry: PAGEMAP_SCAN reports it SWAPPED (and
// WPALLOWED, not WRITTEN). So is a write-protected page that went to swap.
// Neither holds a tenant's bytes — cowpool protects a page only right after
// restoring or discarding it, so "not written since protected" means pristine.
bool IsPrivateCategories(uint64_t categories);

enum class ScanKind { kPrivate, kWritten };
enum class ScanSource { kPagemapScan, kPagemapRead };

// Runs per batch. Small on purpose: a real tenant easily leaves more runs than
// this, so the resume-from-walk_end path runs in ordinary use, not only in
// corner cases.
constexpr int kScanBatch = 64;

class PageScanner {
 public:
  // [start, start + length) must be page-aligned and mapped for the whole
  // life of the scanner (the caller holds the memory).
  PageScanner(uint8_t* start, size_t length, ScanKind kind, ScanSource source);

  // Fills out[0..n) with the next runs and returns n; 0 once the whole range
  // is covered; -1 with errno set on failure (EPERM for kWritten: some VMA of
  // the range is not registered for async write-protect).
  int Next(page_region* out);

  size_t pages_walked() const { return pages_walked_; }

 private:
  int NextFromIoctl(page_region* out);
  int NextFromRead(page_region* out);

  uint8_t* cursor_;
  uint8_t* end_;
  ScanKind kind_;
  ScanSource source_;
  size_t pages_walked_ = 0;
};

// The process's /proc/self/pagemap descriptor, opened on first use (and again
// in a forked child, whose pagemap is its own). -1 with errno on failure.
int PagemapFd();

}  // namespace cowpool
