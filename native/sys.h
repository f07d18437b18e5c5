// Syscall wrappers. Every system call the addon makes goes through here so
// that (1) a test can make any of them fail on demand (fault injection, in the
// test build only: compiled with COWPOOL_TEST_HOOKS) and (2) the errno of a
// failure can be turned into a JS error in one place.
//
// The wrappers add no safety of their own: each call site says why its
// arguments are valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace cowpool::sys {

enum class Call : int {
  kMmap = 0,
  kMunmap,
  kMadvise,
  kFtruncate,
  kMemfdCreate,
  kFcntl,
  kPwrite,
  kIoctl,
  kPread,
  kOpen,
  kUserfaultfd,
  kFallocate,
  kMprotect,
  kCount,
};

const char* CallName(Call call);
// Returns the Call named `name` ("mmap", "madvise", ...) or kCount if none.
Call CallFromName(const char* name);

#ifdef COWPOOL_TEST_HOOKS
// Fault injection (test build only): after `skip` further successful calls of
// `call`, the next `count` calls fail with `err` without reaching the kernel.
// Process-wide (all worker threads), lock-free on the hot path: one relaxed
// atomic load per call when nothing is armed.
void ArmFault(Call call, uint32_t skip, uint32_t count, int err);
void DisarmAllFaults();
// How many injected failures have fired since start (for tests).
uint64_t InjectedFaultCount();
// Arms the fault COWPOOL_FAULT_INJECT="syscall:skip:count:ERRNO" names, once
// per process however many threads load the addon at the same time, so a
// child process can start with a fault armed (tests of crash safety).
void ArmFaultFromEnvironment();
#endif

// While one is alive, calls on this thread are never failed on purpose (and
// do not count against an armed fault's `skip`). For measurements that run
// inside an operation but are not part of it (reset calibration): a fault
// aimed at the operation must reach the operation. Declared the same in both
// builds (so sources that use it compile once for both); a no-op in the
// production build, which injects nothing.
class NoFaultInjection {
 public:
  NoFaultInjection();
  ~NoFaultInjection();
  NoFaultInjection(const NoFaultInjection&) = delete;
  NoFaultInjection& operator=(const NoFaultInjection&) = delete;
};

void* Mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset);
int Munmap(void* addr, size_t len);
int Madvise(void* addr, size_t len, int advice);
int Mprotect(void* addr, size_t len, int prot);
int Ftruncate(int fd, off_t len);
int MemfdCreate(const char* name, unsigned flags);
int FcntlAddSeals(int fd, int seals);
int FcntlGetSeals(int fd);
ssize_t Pwrite(int fd, const void* buf, size_t len, off_t offset);
ssize_t Pread(int fd, void* buf, size_t len, off_t offset);
int Ioctl(int fd, unsigned long request, void* arg);
// open(2), retried on EINTR.
int Open(const char* path, int flags);
// userfaultfd(2) as a raw syscall (glibc's wrapper is recent); ENOSYS when
// the kernel lacks it.
int Userfaultfd(int flags);
// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) on [offset, offset +
// len) of `fd`, retried on EINTR: frees those pages of the file (they read as
// zero again, in every mapping) without changing its size. Injectable as
// "fallocate".
int PunchHole(int fd, off_t offset, off_t len);
// Cleanup and recovery calls. Not injectable: they run after the operation
// under test already failed or finished, nothing can report their failure,
// and a fault fired here would only leak a descriptor or leave a hole
// instead of testing anything.
// close(2).
void Close(int fd);
// munmap(2) of a mapping being torn down.
void UnmapForCleanup(void* addr, size_t len);
// mmap(2) that puts zero pages back over a range a failed MAP_FIXED may have
// unmapped. Returns MAP_FAILED on failure like mmap.
void* MapZeroForRecovery(void* addr, size_t len);
// Like MapZeroForRecovery, but puts back a MAP_SHARED view of `fd` from offset
// 0 (a raw slot's own memfd), so a later hole punch clears the range again.
void* MapSharedForRecovery(void* addr, size_t len, int fd);

// errno value → its symbolic name ("EPERM"); "E<n>" when unknown.
const char* ErrnoName(int err);

size_t PageSize();

}  // namespace cowpool::sys
