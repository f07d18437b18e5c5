#include "page_scan.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>

#include "sys.h"

namespace cowpool {
namespace {

std::mutex g_pagemap_mutex;
// Guarded by g_pagemap_mutex. -1 until opened; reset in a forked child.
int g_pagemap_fd = -1;
bool g_atfork_installed = false;

void ForgetPagemapInChild() {
  // The inherited descriptor describes the parent's address space; a child
  // must open its own. No lock: a forked child has one thread.
  sys::Close(g_pagemap_fd);
  g_pagemap_fd = -1;
}

}  // namespace

int PagemapFd() {
  std::lock_guard<std::mutex> lock(g_pagemap_mutex);
  if (g_pagemap_fd >= 0) return g_pagemap_fd;
  if (!g_atfork_installed) {
    pthread_atfork(nullptr, nullptr, ForgetPagemapInChild);
    g_atfork_installed = true;
  }
  int fd = sys::Open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  g_pagemap_fd = fd;
  return fd;
}

uint64_t CategoriesFromPagemapEntry(uint64_t entry) {
  uint64_t categories = 0;
  if (entry & kPagemapPresent) {
    categories |= PAGE_IS_PRESENT;
    // Not exclusive and not file: the shared zero page, or an anonymous page
    // shared with a forked child. Only the content can tell them apart.
    if (!(entry & kPagemapExclusive) && !(entry & kPagemapFileShared)) categories |= kMaybeZeroPage;
  }
  // A swap entry of a private mapping is this mapping's own page, written
  // and then swapped out: it counts (DESIGN invariant 6).
  if (entry & kPagemapSwapped) {
    categories |= PAGE_IS_SWAPPED;
    // Protected since it was last restored or discarded: pristine (see
    // IsPrivateCategories). Described the way PAGEMAP_SCAN would.
    if (entry & kPagemapUffdWp) categories |= PAGE_IS_WPALLOWED;
  }
  if (entry & kPagemapFileShared) categories |= PAGE_IS_FILE;
  return categories;
}

bool IsPrivateCategories(uint64_t categories) {
  uint64_t c = categories ^ kPrivateInverted;
  if ((c & kPrivateMask) != kPrivateMask || (c & kPrivateAnyof) == 0) return false;
  bool protected_swap_entry = (categories & PAGE_IS_SWAPPED) && (categories & PAGE_IS_WPALLOWED) &&
                              !(categories & PAGE_IS_WRITTEN) && !(categories & PAGE_IS_PRESENT);
  return !protected_swap_entry;
}

PageScanner::PageScanner(uint8_t* start, size_t length, ScanKind kind, ScanSource source)
    : cursor_(start), end_(start + length), kind_(kind), source_(source) {}

int PageScanner::Next(page_region* out) {
  // Only PAGEMAP_SCAN can answer "written": raw pagemap entries say nothing
  // about async write-protect state.
  if (kind_ == ScanKind::kWritten || source_ == ScanSource::kPagemapScan) return NextFromIoctl(out);
  return NextFromRead(out);
}

int PageScanner::NextFromIoctl(page_region* out) {
  int fd = PagemapFd();
  if (fd < 0) return -1;
  const size_t page = sys::PageSize();
  // A batch can walk a stretch without any match; keep going until something
  // is returned or the range is done.
  while (cursor_ < end_) {
    pm_scan_arg arg{};
    arg.size = sizeof arg;
    arg.start = reinterpret_cast<uintptr_t>(cursor_);
    arg.end = reinterpret_cast<uintptr_t>(end_);
    arg.vec = reinterpret_cast<uintptr_t>(out);
    arg.vec_len = kScanBatch;
    arg.return_mask = kReturnMask;
    if (kind_ == ScanKind::kPrivate) {
      arg.category_inverted = kPrivateInverted;
      arg.category_mask = kPrivateMask;
      arg.category_anyof_mask = kPrivateAnyof;
    } else {
      // Written *and* private: a hole or a clean file page reads as pristine
      // whatever its protection, so only pages holding bytes of their own
      // are returned (and only they are ever protected again).
      arg.flags = PM_SCAN_CHECK_WPASYNC;
      arg.category_inverted = kPrivateInverted;
      arg.category_mask = kPrivateMask | PAGE_IS_WRITTEN;
      arg.category_anyof_mask = kPrivateAnyof;
    }
    // safe: [cursor_, end_) is a page-aligned range the caller holds mapped;
    // the kernel only reads its page tables. `out` has room for kScanBatch
    // page_regions (vec_len), and `arg` lives on this frame for the call.
    int n = sys::Ioctl(fd, PAGEMAP_SCAN, &arg);
    if (n < 0) return -1;
    uint8_t* walk_end = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(arg.walk_end));
    if (walk_end <= cursor_ || walk_end > end_ || ((walk_end - cursor_) % page) != 0) {
      // No progress (or a nonsense answer): looping again would spin forever
      // and stopping would leave pages unexamined. Fail instead.
      errno = EIO;
      return -1;
    }
    pages_walked_ += static_cast<size_t>(walk_end - cursor_) / page;
    cursor_ = walk_end;
    if (kind_ == ScanKind::kPrivate) {
      // Drop what the kernel's filter lets through but is not private
      // (write-protect markers, see IsPrivateCategories).
      int kept = 0;
      for (int i = 0; i < n; ++i) {
        if (IsPrivateCategories(out[i].categories)) out[kept++] = out[i];
      }
      n = kept;
    }
    if (n > 0) return n;
  }
  return 0;
}

int PageScanner::NextFromRead(page_region* out) {
  int fd = PagemapFd();
  if (fd < 0) return -1;
  const size_t page = sys::PageSize();
  while (cursor_ < end_) {
    // One entry per page; at most kScanBatch pages per read so the runs they
    // form (at most one per page) always fit in `out`.
    uint64_t entries[kScanBatch];
    size_t pages = std::min<size_t>(kScanBatch, static_cast<size_t>(end_ - cursor_) / page);
    off_t offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(cursor_) / page * sizeof(uint64_t));
    size_t got = 0;
    while (got < pages * sizeof(uint64_t)) {
      // safe: `entries` has room for `pages` entries; the file is read-only.
      ssize_t r = sys::Pread(fd, reinterpret_cast<uint8_t*>(entries) + got, pages * sizeof(uint64_t) - got,
                             offset + static_cast<off_t>(got));
      if (r < 0) return -1;
      if (r == 0) {
        errno = EIO;
        return -1;
      }
      got += static_cast<size_t>(r);
    }
    int n = 0;
    for (size_t i = 0; i < pages; ++i) {
      uint64_t categories = CategoriesFromPagemapEntry(entries[i]);
      if (!IsPrivateCategories(categories)) continue;
      uint64_t start = reinterpret_cast<uintptr_t>(cursor_) + i * page;
      if (n > 0 && out[n - 1].end == start && out[n - 1].categories == categories) {
        out[n - 1].end += page;
      } else {
        out[n++] = page_region{start, start + page, categories};
      }
    }
    pages_walked_ += pages;
    cursor_ += pages * page;
    if (n > 0) return n;
  }
  return 0;
}

}  // namespace cowpool
