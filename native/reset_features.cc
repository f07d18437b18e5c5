#include "reset_features.h"

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "linux_abi.h"
#include "page_scan.h"
#include "sys.h"
#include "write_tracking.h"

namespace cowpool {
namespace {

// A page-aligned byte the probes can point at: mapped for the life of the
// process, so scanning or reading its pagemap entry is always valid.
alignas(65536) uint8_t g_probe_page[65536];

struct Disabled {
  bool uffd = false;
  bool pagemap_scan = false;
  bool pagemap_read = false;
};

Disabled ParseDisabled(const std::string& value) {
  Disabled d;
  std::string token;
  std::stringstream in(value);
  while (std::getline(in, token, ',')) {
    // Trim spaces so "uffd, pagemap_scan" works as written by a person.
    size_t a = token.find_first_not_of(" \t");
    size_t b = token.find_last_not_of(" \t");
    if (a == std::string::npos) continue;
    token = token.substr(a, b - a + 1);
    if (token == "uffd" || token == "userfaultfd") d.uffd = true;
    if (token == "pagemap_scan") d.pagemap_scan = true;
    if (token == "pagemap_read") d.pagemap_read = true;
    // "pagemap": no pagemap at all, so restore-dirty has nothing to read.
    if (token == "pagemap") d.pagemap_scan = d.pagemap_read = true;
  }
  return d;
}

FeatureStatus ProbePagemapRead() {
  FeatureStatus s;
  int fd = PagemapFd();
  if (fd < 0) {
    s.reason = std::string("open /proc/self/pagemap: ") + sys::ErrnoName(errno);
    return s;
  }
  uint64_t entry = 0;
  off_t offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(g_probe_page) / sys::PageSize() * sizeof entry);
  // safe: reads 8 bytes into a local.
  if (sys::Pread(fd, &entry, sizeof entry, offset) != static_cast<ssize_t>(sizeof entry)) {
    s.reason = std::string("pread /proc/self/pagemap: ") + sys::ErrnoName(errno);
    return s;
  }
  s.available = true;
  return s;
}

FeatureStatus ProbePagemapScan() {
  FeatureStatus s;
  int fd = PagemapFd();
  if (fd < 0) {
    s.reason = std::string("open /proc/self/pagemap: ") + sys::ErrnoName(errno);
    return s;
  }
  pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.start = reinterpret_cast<uintptr_t>(g_probe_page);
  arg.end = arg.start + sys::PageSize();
  arg.category_anyof_mask = PAGE_IS_PRESENT;
  arg.return_mask = PAGE_IS_PRESENT;
  // safe: one page of our own static storage; vec_len 0, so the kernel
  // writes nothing but walk_end into `arg`.
  if (sys::Ioctl(fd, PAGEMAP_SCAN, &arg) < 0) {
    // ENOTTY/EINVAL: a kernel before 6.7; EPERM/ENOSYS: a seccomp filter.
    s.reason = std::string("PAGEMAP_SCAN: ") + sys::ErrnoName(errno);
    return s;
  }
  s.available = true;
  return s;
}

FeatureStatus ProbeUserfaultfd(const FeatureStatus& scan) {
  FeatureStatus s;
  if (!scan.available) {
    s.reason = "needs PAGEMAP_SCAN to read what was written (" + scan.reason + ")";
    return s;
  }
  std::string why;
  if (TrackingFd(&why) < 0) {
    s.reason = why;
    return s;
  }
  s.available = true;
  return s;
}

}  // namespace

const ResetFeatures& Features() {
  static ResetFeatures features;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("COWPOOL_DISABLE");
    features.disabled = env != nullptr ? env : "";
    Disabled d = ParseDisabled(features.disabled);
    const char* kDisabled = "disabled by COWPOOL_DISABLE";
    if (d.pagemap_read) {
      features.pagemap_read.reason = kDisabled;
    } else {
      features.pagemap_read = ProbePagemapRead();
    }
    if (d.pagemap_scan) {
      features.pagemap_scan.reason = kDisabled;
    } else {
      features.pagemap_scan = ProbePagemapScan();
    }
    if (d.uffd) {
      features.userfaultfd.reason = kDisabled;
    } else {
      features.userfaultfd = ProbeUserfaultfd(features.pagemap_scan);
    }
  });
  return features;
}

}  // namespace cowpool
