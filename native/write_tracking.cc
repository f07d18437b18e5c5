#include "write_tracking.h"

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>

#include "linux_abi.h"
#include "sys.h"

namespace cowpool {
namespace {

constexpr uint64_t kNeededFeatures =
    UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_HUGETLBFS_SHMEM;

std::mutex g_mutex;
// Guarded by g_mutex (written), read after TrackingFd returned it.
int g_uffd = -1;
bool g_atfork_installed = false;

void ForgetTrackingInChild() {
  // A forked child's VMAs come without registration (no EVENT_FORK was
  // requested) and this descriptor is the parent's context: open a new one
  // on first use. One thread after fork, so no lock.
  sys::Close(g_uffd);
  g_uffd = -1;
}

int OpenUffd() {
  // USER_MODE_ONLY: only faults from user space are tracked by the
  // descriptor, which is all async write-protect needs, and it is what the
  // kernel allows unprivileged callers when vm.unprivileged_userfaultfd is 0.
  // O_NONBLOCK: nobody ever reads events from it.
  return sys::Userfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
}

std::string FeatureNames(uint64_t missing) {
  std::string out;
  auto add = [&](uint64_t bit, const char* name) {
    if (!(missing & bit)) return;
    if (!out.empty()) out += ", ";
    out += name;
  };
  add(UFFD_FEATURE_WP_ASYNC, "UFFD_FEATURE_WP_ASYNC");
  add(UFFD_FEATURE_WP_UNPOPULATED, "UFFD_FEATURE_WP_UNPOPULATED");
  add(UFFD_FEATURE_WP_HUGETLBFS_SHMEM, "UFFD_FEATURE_WP_HUGETLBFS_SHMEM");
  return out;
}

}  // namespace

int TrackingFd(std::string* why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_uffd >= 0) return g_uffd;
  if (!g_atfork_installed) {
    pthread_atfork(nullptr, nullptr, ForgetTrackingInChild);
    g_atfork_installed = true;
  }
  // First ask what the kernel offers (UFFDIO_API may be called once per
  // descriptor, so the question needs a descriptor of its own).
  int probe = OpenUffd();
  if (probe < 0) {
    *why = std::string("userfaultfd: ") + sys::ErrnoName(errno);
    return -1;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = 0;
  // safe: `api` lives on this frame; the kernel writes its answer into it.
  int rc = sys::Ioctl(probe, UFFDIO_API, &api);
  int err = errno;
  sys::Close(probe);
  if (rc != 0) {
    *why = std::string("UFFDIO_API: ") + sys::ErrnoName(err);
    return -1;
  }
  if ((api.features & kNeededFeatures) != kNeededFeatures) {
    *why = "the kernel lacks " + FeatureNames(kNeededFeatures & ~api.features) + " (needs Linux 6.7 or later)";
    return -1;
  }
  int fd = OpenUffd();
  if (fd < 0) {
    *why = std::string("userfaultfd: ") + sys::ErrnoName(errno);
    return -1;
  }
  api = uffdio_api{};
  api.api = UFFD_API;
  api.features = kNeededFeatures;
  // safe: as above.
  if (sys::Ioctl(fd, UFFDIO_API, &api) != 0) {
    *why = std::string("UFFDIO_API: ") + sys::ErrnoName(errno);
    sys::Close(fd);
    return -1;
  }
  g_uffd = fd;
  return fd;
}

int Protect(uint8_t* base, size_t length) {
  std::string why;
  int fd = TrackingFd(&why);
  if (fd < 0) return ENOTSUP;
  uffdio_writeprotect wp{};
  wp.range.start = reinterpret_cast<uintptr_t>(base);
  wp.range.len = length;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  // safe: only changes protection bits of page-table entries in a range the
  // caller holds and registered; never maps or unmaps anything. A write to a
  // protected page is resolved by the kernel itself (async mode).
  if (sys::Ioctl(fd, UFFDIO_WRITEPROTECT, &wp) != 0) return errno;
  return 0;
}

int Unregister(uint8_t* base, size_t length) {
  int fd;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    fd = g_uffd;
  }
  // Never opened (or a forked child's fresh start): nothing of ours is registered.
  if (fd < 0) return 0;
  uffdio_range range{};
  range.start = reinterpret_cast<uintptr_t>(base);
  range.len = length;
  // safe: unregistering only clears userfaultfd state of VMAs in a range the
  // caller holds; VMAs registered with nobody are skipped by the kernel.
  if (sys::Ioctl(fd, UFFDIO_UNREGISTER, &range) != 0) return errno;
  return 0;
}

int Register(uint8_t* base, size_t length) {
  std::string why;
  int fd = TrackingFd(&why);
  if (fd < 0) return ENOTSUP;
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uintptr_t>(base);
  reg.range.len = length;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  // safe: registration only marks the VMAs of a range the caller holds
  // (splitting them at the range's ends); in async mode no fault ever waits
  // for a reader, so no thread can block on this descriptor.
  if (sys::Ioctl(fd, UFFDIO_REGISTER, &reg) != 0) return errno;
  if (!(reg.ioctls & (uint64_t{1} << _UFFDIO_WRITEPROTECT))) return ENOTSUP;
  return 0;
}

}  // namespace cowpool
