// Measures, once, what the reset policy's cost model needs to know about this
// machine: the price of a copy-on-write fault, of an async write-protect
// fault and of copying a page back. Virtual machines differ by large factors
// here (a fault that exits to the hypervisor costs several times a bare-metal
// one), so constants baked into the code would be wrong somewhere.
//
//   scratch: MAP_PRIVATE view of a 64-page memfd, private to this call
//   |<-- kPages pages, each written once per round at its first byte -->|
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/mman.h>
#include <vector>

#include "errors.h"
#include "range_ops.h"
#include "reset_features.h"
#include "sys.h"
#include "write_tracking.h"

namespace cowpool {
namespace {

constexpr size_t kPages = 64;
constexpr int kRounds = 7;

double NowNs() {
  // steady_clock reads the vDSO clock: no system call, nothing to inject.
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Writes one byte in each page; returns the time it took.
double TouchPages(uint8_t* base, size_t page, uint8_t value) {
  double t0 = NowNs();
  for (size_t i = 0; i < kPages; ++i) {
    // safe: base maps kPages pages read-write (see CalibrateReset).
    *static_cast<volatile uint8_t*>(base + i * page) = value;
  }
  return NowNs() - t0;
}

// calibrateReset() -> { cowFaultNs, wpFaultNs | null, copyPageNs }
Napi::Value CalibrateReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // It runs inside the first auto reset of a module; a fault a test aimed at
  // that reset must not be spent (or fire) here.
  sys::NoFaultInjection no_faults;
  const size_t page = sys::PageSize();
  const size_t length = kPages * page;
  int fd = sys::MemfdCreate("cowpool-calibrate", MFD_CLOEXEC);
  if (fd < 0) ThrowSyscall(env, "memfd_create", errno, "calibrating resets");
  std::vector<uint8_t> source(length, 0x5a);
  auto fail = [&](const char* call, int err) {
    sys::Close(fd);
    ThrowSyscall(env, call, err, "calibrating resets");
  };
  if (sys::Ftruncate(fd, static_cast<off_t>(length)) != 0) fail("ftruncate", errno);
  // safe: `source` holds `length` bytes.
  if (sys::Pwrite(fd, source.data(), length, 0) != static_cast<ssize_t>(length)) fail("pwrite", errno ? errno : EIO);
  // safe: a fresh mapping of exactly the file's size at an address the kernel picks.
  void* p = sys::Mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) fail("mmap", errno);
  sys::Close(fd);
  auto* base = static_cast<uint8_t*>(p);
  std::vector<double> cow, resident, wp, copy;
  bool tracking = Features().userfaultfd.available && Register(base, length) == 0;
  for (int round = 0; round < kRounds; ++round) {
    // safe: our own mapping; dropping its private pages brings the file back.
    if (sys::Madvise(base, length, MADV_DONTNEED) != 0) {
      sys::Munmap(base, length);
      ThrowSyscall(env, "madvise", errno, "calibrating resets");
    }
    if (tracking && Protect(base, length) != 0) tracking = false;
    cow.push_back(TouchPages(base, page, static_cast<uint8_t>(round)));
    resident.push_back(TouchPages(base, page, static_cast<uint8_t>(round + 1)));
    if (tracking && Protect(base, length) == 0) wp.push_back(TouchPages(base, page, static_cast<uint8_t>(round + 2)));
    double t0 = NowNs();
    // safe: both buffers hold `length` bytes.
    std::memcpy(base, source.data(), length);
    copy.push_back(NowNs() - t0);
  }
  // safe: our own mapping, no view of it escaped this function.
  sys::Munmap(base, length);
  double res = Median(resident);
  Napi::Object out = Napi::Object::New(env);
  out.Set("cowFaultNs", std::max(0.0, (Median(cow) - res) / kPages));
  if (wp.size() == static_cast<size_t>(kRounds)) {
    out.Set("wpFaultNs", std::max(0.0, (Median(wp) - res) / kPages));
  } else {
    out.Set("wpFaultNs", env.Null());
  }
  out.Set("copyPageNs", Median(copy) / kPages);
  return out;
}

}  // namespace

void InitResetCalibration(Napi::Env env, Napi::Object exports) {
  exports.Set("calibrateReset", Napi::Function::New<CalibrateReset>(env, "calibrateReset"));
}

}  // namespace cowpool
