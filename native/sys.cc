#include "sys.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cowpool::sys {
namespace {

const char* const kCallNames[] = {"mmap",     "munmap", "madvise", "ftruncate", "memfd_create",
                                  "fcntl",    "pwrite", "ioctl",   "pread",     "open",
                                  "userfaultfd", "fallocate", "mprotect"};
static_assert(sizeof(kCallNames) / sizeof(kCallNames[0]) == static_cast<size_t>(Call::kCount),
              "one name per Call");

#ifdef COWPOOL_TEST_HOOKS
struct FaultSlot {
  // Number of calls still to let through before failing; only meaningful while armed.
  std::atomic<uint32_t> skip{0};
  // Failures left to inject; 0 = disarmed.
  std::atomic<uint32_t> remaining{0};
  std::atomic<int> err{0};
};

FaultSlot g_faults[static_cast<int>(Call::kCount)];
std::atomic<bool> g_any_armed{false};
std::atomic<uint64_t> g_injected{0};
// Depth of NoFaultInjection scopes on this thread.
thread_local int g_suppressed = 0;

// True when this call must fail; sets errno then. Decrements with CAS loops so
// concurrent callers on several threads never inject more than `count` faults.
bool ShouldFail(Call call) {
  if (!g_any_armed.load(std::memory_order_relaxed)) return false;
  if (g_suppressed > 0) return false;
  FaultSlot& slot = g_faults[static_cast<int>(call)];
  if (slot.remaining.load(std::memory_order_acquire) == 0) return false;
  uint32_t skip = slot.skip.load(std::memory_order_acquire);
  while (skip > 0) {
    if (slot.skip.compare_exchange_weak(skip, skip - 1, std::memory_order_acq_rel)) return false;
  }
  uint32_t left = slot.remaining.load(std::memory_order_acquire);
  while (left > 0) {
    if (slot.remaining.compare_exchange_weak(left, left - 1, std::memory_order_acq_rel)) {
      g_injected.fetch_add(1, std::memory_order_relaxed);
      errno = slot.err.load(std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}
#else
// The production build injects nothing; the compiler drops every check.
constexpr bool ShouldFail(Call) { return false; }
#endif

}  // namespace

const char* CallName(Call call) {
  int i = static_cast<int>(call);
  return (i >= 0 && i < static_cast<int>(Call::kCount)) ? kCallNames[i] : "unknown";
}

Call CallFromName(const char* name) {
  for (int i = 0; i < static_cast<int>(Call::kCount); ++i) {
    if (std::strcmp(kCallNames[i], name) == 0) return static_cast<Call>(i);
  }
  return Call::kCount;
}

#ifdef COWPOOL_TEST_HOOKS
void ArmFault(Call call, uint32_t skip, uint32_t count, int err) {
  FaultSlot& slot = g_faults[static_cast<int>(call)];
  slot.remaining.store(0, std::memory_order_release);
  slot.err.store(err, std::memory_order_relaxed);
  slot.skip.store(skip, std::memory_order_release);
  slot.remaining.store(count, std::memory_order_release);
  g_any_armed.store(true, std::memory_order_release);
}

void DisarmAllFaults() {
  for (auto& slot : g_faults) slot.remaining.store(0, std::memory_order_release);
  g_any_armed.store(false, std::memory_order_release);
}

uint64_t InjectedFaultCount() { return g_injected.load(std::memory_order_relaxed); }

void ArmFaultFromEnvironment() {
  // call_once: worker threads that load the addon together must neither both
  // arm the fault (twice the failures asked for) nor see it half set up.
  static std::once_flag once;
  std::call_once(once, [] {
    // safe: the string is parsed (copied by sscanf) at once and not kept.
    // A setenv on another thread could free it meanwhile; only the test
    // build reads it, and the tests set the variable before the process starts.
    const char* spec = std::getenv("COWPOOL_FAULT_INJECT");
    if (spec == nullptr || *spec == '\0') return;
    char name[32] = {0};
    unsigned skip = 0, count = 1;
    char errname[32] = "ENOMEM";
    // safe: the field widths (31) leave room for the terminator in 32-byte buffers.
    if (std::sscanf(spec, "%31[a-z_]:%u:%u:%31[A-Z0-9]", name, &skip, &count, errname) < 1) return;
    Call call = CallFromName(name);
    if (call == Call::kCount) return;
    int err = ENOMEM;
    for (int e = 1; e < 134; ++e) {
      if (std::strcmp(errname, ErrnoName(e)) == 0) {
        err = e;
        break;
      }
    }
    ArmFault(call, skip, count, err);
  });
}

NoFaultInjection::NoFaultInjection() { ++g_suppressed; }
NoFaultInjection::~NoFaultInjection() { --g_suppressed; }
#else
NoFaultInjection::NoFaultInjection() = default;
NoFaultInjection::~NoFaultInjection() = default;
#endif

void* Mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
  if (ShouldFail(Call::kMmap)) return MAP_FAILED;
  return ::mmap(addr, len, prot, flags, fd, offset);
}

int Munmap(void* addr, size_t len) {
  if (ShouldFail(Call::kMunmap)) return -1;
  return ::munmap(addr, len);
}

int Madvise(void* addr, size_t len, int advice) {
  if (ShouldFail(Call::kMadvise)) return -1;
  return ::madvise(addr, len, advice);
}

int Ftruncate(int fd, off_t len) {
  if (ShouldFail(Call::kFtruncate)) return -1;
  int rc;
  do rc = ::ftruncate(fd, len);
  while (rc != 0 && errno == EINTR);
  return rc;
}

int MemfdCreate(const char* name, unsigned flags) {
  if (ShouldFail(Call::kMemfdCreate)) return -1;
  // Raw syscall: glibc's wrapper exists since 2.27, the syscall since Linux
  // 3.17; going direct lets a kernel without it answer ENOSYS cleanly.
  return static_cast<int>(::syscall(SYS_memfd_create, name, flags));
}

int FcntlAddSeals(int fd, int seals) {
  if (ShouldFail(Call::kFcntl)) return -1;
  return ::fcntl(fd, F_ADD_SEALS, seals);
}

int FcntlGetSeals(int fd) {
  if (ShouldFail(Call::kFcntl)) return -1;
  return ::fcntl(fd, F_GET_SEALS);
}

ssize_t Pwrite(int fd, const void* buf, size_t len, off_t offset) {
  if (ShouldFail(Call::kPwrite)) return -1;
  ssize_t rc;
  do rc = ::pwrite(fd, buf, len, offset);
  while (rc < 0 && errno == EINTR);
  return rc;
}

ssize_t Pread(int fd, void* buf, size_t len, off_t offset) {
  if (ShouldFail(Call::kPread)) return -1;
  ssize_t rc;
  do rc = ::pread(fd, buf, len, offset);
  while (rc < 0 && errno == EINTR);
  return rc;
}

int Ioctl(int fd, unsigned long request, void* arg) {
  if (ShouldFail(Call::kIoctl)) return -1;
  int rc;
  do rc = ::ioctl(fd, request, arg);
  while (rc < 0 && errno == EINTR);
  return rc;
}

int Open(const char* path, int flags) {
  if (ShouldFail(Call::kOpen)) return -1;
  int rc;
  do rc = ::open(path, flags);
  while (rc < 0 && errno == EINTR);
  return rc;
}

int Userfaultfd(int flags) {
  if (ShouldFail(Call::kUserfaultfd)) return -1;
#ifdef SYS_userfaultfd
  return static_cast<int>(::syscall(SYS_userfaultfd, flags));
#else
  errno = ENOSYS;
  return -1;
#endif
}

void Close(int fd) {
  if (fd >= 0) ::close(fd);
}

void UnmapForCleanup(void* addr, size_t len) { ::munmap(addr, len); }

void* MapZeroForRecovery(void* addr, size_t len) {
  return ::mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

void* MapSharedForRecovery(void* addr, size_t len, int fd) {
  return ::mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
}

int Mprotect(void* addr, size_t len, int prot) {
  if (len == 0) return 0;
  if (ShouldFail(Call::kMprotect)) return -1;
  return ::mprotect(addr, len, prot);
}

int PunchHole(int fd, off_t offset, off_t len) {
  if (len == 0) return 0;
  if (ShouldFail(Call::kFallocate)) return -1;
  int rc;
  do rc = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
  while (rc != 0 && errno == EINTR);
  return rc;
}

const char* ErrnoName(int err) {
  // glibc >= 2.32 knows every name; keep a small fallback for the rest.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) return name;
#endif
  static thread_local char buf[16];
  std::snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace cowpool::sys
