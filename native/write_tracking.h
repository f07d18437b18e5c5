// Exact write tracking with userfaultfd in async write-protect mode.
//
//   one userfaultfd per process (UFFD_USER_MODE_ONLY, so it works with
//   vm.unprivileged_userfaultfd = 0; features WP_ASYNC | WP_UNPOPULATED |
//   WP_HUGETLBFS_SHMEM — the kernel insists on WP_UNPOPULATED before it lets
//   PAGEMAP_SCAN write-track an anonymous VMA)
//        │ UFFDIO_REGISTER(MODE_WP) once per mapping
//        ▼
//   slot range: a page the reset copied back is write-protected
//   (UFFDIO_WRITEPROTECT); a tenant's write to it makes the kernel lift the
//   protection itself (async: nobody reads the descriptor, no thread waits)
//   and the page reads PAGE_IS_WRITTEN in PAGEMAP_SCAN. A page that was a
//   hole or a clean file page becomes private and unprotected when written:
//   it reads WRITTEN too.
//
// Only restored pages (and the gaps of under kProtectGapPages between two
// restored runs, see dirty_restore.cc) are protected, never the whole range:
// protecting
// unpopulated pages installs a marker in every page-table entry, and a fully
// populated page table makes every later scan of a large, sparse memory walk
// all of it (measured: 117 µs instead of 5 µs on 128 MiB).
//
// Registration belongs to a VMA: mmap(MAP_FIXED) over the range (mapImage,
// raw slot configure) makes a new, unregistered VMA. The reset finds that out
// itself — PM_SCAN_CHECK_WPASYNC fails with EPERM — and re-registers, so no
// caller has to remember it.
//
// Invariant: g_uffd (in the .cc) is -1 or a descriptor whose UFFDIO_API
//            succeeded with all three features; it is never closed while the
//            process runs (closing it would drop every registration), except
//            in a forked child, where it belongs to the parent's address space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cowpool {

// Opens (once) and returns the process's tracking descriptor, or -1 with
// `why` set ("EPERM", "kernel lacks UFFD_FEATURE_WP_ASYNC", ...).
int TrackingFd(std::string* why);

// Registers [base, base + length) for async write-protect (protecting
// nothing yet). Returns 0 or an errno value.
int Register(uint8_t* base, size_t length);

// Drops the registration of [base, base + length) (the kernel clears its
// write-protect bits and markers). Returns 0 when nothing is registered there
// or this process never opened the descriptor, else an errno value.
int Unregister(uint8_t* base, size_t length);

// Write-protects [base, base + length) again (it must be registered).
// Returns 0 or an errno value.
int Protect(uint8_t* base, size_t length);

}  // namespace cowpool
