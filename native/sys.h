// Syscall wrappers. Every system call the addon makes goes through here so
// that (1) a test can make any of them fail on demand (fault injection) and
// (2) the errno of a failure can be turned into a JS error in one place.
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
  kCount,
};

const char* CallName(Call call);
// Returns the Call named `name` ("mmap", "madvise", ...) or kCount if none.
Call CallFromName(const char* name);

// Fault injection: after `skip` further successful calls of `call`, the next
// `count` calls fail with `err` without reaching the kernel. Process-wide
// (all worker threads), lock-free on the hot path: one relaxed atomic load
// per call when nothing is armed.
void ArmFault(Call call, uint32_t skip, uint32_t count, int err);
void DisarmAllFaults();
// How many injected failures have fired since start (for tests).
uint64_t InjectedFaultCount();

void* Mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset);
int Munmap(void* addr, size_t len);
int Madvise(void* addr, size_t len, int advice);
int Ftruncate(int fd, off_t len);
int MemfdCreate(const char* name, unsigned flags);
int FcntlAddSeals(int fd, int seals);
int FcntlGetSeals(int fd);
ssize_t Pwrite(int fd, const void* buf, size_t len, off_t offset);
ssize_t Pread(int fd, void* buf, size_t len, off_t offset);
int Ioctl(int fd, unsigned long request, void* arg);

// errno value → its symbolic name ("EPERM"); "E<n>" when unknown.
const char* ErrnoName(int err);

size_t PageSize();

}  // namespace cowpool::sys
