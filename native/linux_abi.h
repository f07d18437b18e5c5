// Kernel ABI the reset modes use that older system headers may lack.
//
// The values are the kernel's user-space ABI (include/uapi/linux/fs.h and
// userfaultfd.h, Linux 6.7+) and never change once released, so defining them
// here when the build machine's headers predate them is safe: a kernel that
// does not know them answers EINVAL/ENOTTY at run time, which the feature
// probe (reset_features.cc) turns into "unavailable".
#pragma once

#include <cstdint>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#ifndef PAGEMAP_SCAN

// Bitmasks used in pm_scan_arg masks and reported in page_region.categories.
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
  uint64_t start;
  uint64_t end;
  uint64_t categories;
};

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
  uint64_t size;
  uint64_t flags;
  uint64_t start;
  uint64_t end;
  uint64_t walk_end;
  uint64_t vec;
  uint64_t vec_len;
  uint64_t max_pages;
  uint64_t category_inverted;
  uint64_t category_mask;
  uint64_t category_anyof_mask;
  uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#endif  // PAGEMAP_SCAN

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

// madvise advice to reclaim pages now (Linux 5.4).
constexpr int kMadvPageout = 21;

// /proc/self/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst),
// readable on every kernel since 2.6.25.
constexpr uint64_t kPagemapPresent = uint64_t{1} << 63;
constexpr uint64_t kPagemapSwapped = uint64_t{1} << 62;
// "file-page or shared-anon": the page is not this mapping's private copy.
constexpr uint64_t kPagemapFileShared = uint64_t{1} << 61;
// The entry is write-protected through userfaultfd (since 5.13); on a swap
// entry this includes the marker of an unpopulated protected page.
constexpr uint64_t kPagemapUffdWp = uint64_t{1} << 57;
// Mapped exactly once (since 4.2). The shared zero page never has it.
constexpr uint64_t kPagemapExclusive = uint64_t{1} << 56;
