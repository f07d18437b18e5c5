// Which kernel facilities the reset modes can use in this process.
//
//   pagemap_read   pread(/proc/self/pagemap): one 64-bit entry per page
//                  (every kernel since 2.6.25) — restore-dirty's fallback
//   pagemap_scan   ioctl(PAGEMAP_SCAN) on the same file (Linux 6.7+): the
//                  kernel filters pages and returns merged runs
//   userfaultfd    userfaultfd(UFFD_USER_MODE_ONLY) with WP_ASYNC,
//                  WP_UNPOPULATED and WP_HUGETLBFS_SHMEM (Linux 6.7+) —
//                  exact write tracking, needs pagemap_scan to read it
//
// Each is probed once per process. COWPOOL_DISABLE="uffd,pagemap_scan,
// pagemap_read" (read once, at first use) reports the named ones unavailable,
// so tests can exercise every fallback on a kernel that has everything.
//
// Invariant: a feature reported available stays available for the life of
//            the process (the probe result is computed once and never changes).
#pragma once

#include <string>

namespace cowpool {

struct FeatureStatus {
  bool available = false;
  // Why not, for people: an errno name, a missing feature bit, or
  // "disabled by COWPOOL_DISABLE". Empty when available.
  std::string reason;
};

struct ResetFeatures {
  FeatureStatus pagemap_read;
  FeatureStatus pagemap_scan;
  FeatureStatus userfaultfd;
  // The COWPOOL_DISABLE value as read (empty when unset).
  std::string disabled;
};

// Probes on first call (thread-safe); later calls return the same result.
const ResetFeatures& Features();

}  // namespace cowpool
