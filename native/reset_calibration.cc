// Measures, once per process, what the reset policy's cost model needs to
// know about this machine: the price of the faults a tenant takes after a
// reset (copy-on-write on a private file mapping, zero-fill on anonymous
// memory, async write-protect) and of copying a page back. Virtual machines
// differ by large factors here (a fault that exits to the hypervisor costs
// several times a bare-metal one), so constants baked into the code would be
// wrong somewhere.
//
// The measurement runs once per process (every thread and module shares the
// answer, a failure included: it is not retried), off the JS thread when
// started with calibrateResetAsync() (libuv's thread pool).
//
//   file:  MAP_PRIVATE view of a kPages-page memfd, private to the measurement
//   anon:  MAP_PRIVATE|MAP_ANONYMOUS, kPages pages
//   |<-- kPages pages, each written once per round at its first byte -->|
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <vector>

#include "errors.h"
#include "range_ops.h"
#include "reset_features.h"
#include "sys.h"
#include "write_tracking.h"

namespace cowpool {
namespace {

// 1 MiB with 4 KiB pages: large enough that the pages a round frees are not
// all handed straight back from a per-CPU list (that would underprice faults
// that need fresh memory, which is what a tenant's faults need).
constexpr size_t kPages = 256;
constexpr int kRounds = 7;

struct Calibration {
  bool ok = false;
  // On failure: the call that failed and its errno.
  const char* call = nullptr;
  int err = 0;
  double cow_fault_ns = 0;
  double zero_fault_ns = 0;
  // < 0: write tracking unavailable.
  double wp_fault_ns = -1;
  double copy_page_ns = 0;
};

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
    // safe: base maps kPages pages read-write (see Measure).
    *static_cast<volatile uint8_t*>(base + i * page) = value;
  }
  return NowNs() - t0;
}

// The measurement itself. No N-API: it may run on a thread-pool thread.
Calibration Measure() {
  // A fault a test aimed at a reset must not be spent (or fire) here. The
  // scope is per thread: it covers this measurement wherever it runs.
  sys::NoFaultInjection no_faults;
  Calibration out;
  auto failed = [&](const char* call, int err) {
    out.call = call;
    out.err = err;
    return out;
  };
  const size_t page = sys::PageSize();
  const size_t length = kPages * page;
  int fd = sys::MemfdCreate("cowpool-calibrate", MFD_CLOEXEC);
  if (fd < 0) return failed("memfd_create", errno);
  std::vector<uint8_t> source(length, 0x5a);
  if (sys::Ftruncate(fd, static_cast<off_t>(length)) != 0) {
    int err = errno;
    sys::Close(fd);
    return failed("ftruncate", err);
  }
  // safe: `source` holds `length` bytes.
  if (sys::Pwrite(fd, source.data(), length, 0) != static_cast<ssize_t>(length)) {
    int err = errno ? errno : EIO;
    sys::Close(fd);
    return failed("pwrite", err);
  }
  // safe: a fresh mapping of exactly the file's size at an address the kernel picks.
  void* p = sys::Mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int map_err = errno;
  sys::Close(fd);
  if (p == MAP_FAILED) return failed("mmap", map_err);
  // safe: a fresh anonymous mapping at an address the kernel picks.
  void* a = sys::Mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) {
    int err = errno;
    sys::UnmapForCleanup(p, length);
    return failed("mmap", err);
  }
  auto* base = static_cast<uint8_t*>(p);
  auto* anon = static_cast<uint8_t*>(a);
  std::vector<double> cow, zero, resident, wp, copy;
  bool tracking = Features().userfaultfd.available && Register(base, length) == 0;
  int madvise_err = 0;
  for (int round = 0; round < kRounds && madvise_err == 0; ++round) {
    // safe: our own mappings; dropping their private pages brings the file
    // (or zeros) back.
    if (sys::Madvise(base, length, MADV_DONTNEED) != 0 || sys::Madvise(anon, length, MADV_DONTNEED) != 0) {
      madvise_err = errno;
      break;
    }
    if (tracking && Protect(base, length) != 0) tracking = false;
    cow.push_back(TouchPages(base, page, static_cast<uint8_t>(round)));
    zero.push_back(TouchPages(anon, page, static_cast<uint8_t>(round)));
    resident.push_back(TouchPages(base, page, static_cast<uint8_t>(round + 1)));
    if (tracking && Protect(base, length) == 0) wp.push_back(TouchPages(base, page, static_cast<uint8_t>(round + 2)));
    double t0 = NowNs();
    // safe: both buffers hold `length` bytes.
    std::memcpy(base, source.data(), length);
    copy.push_back(NowNs() - t0);
  }
  // safe: our own mappings, no view of them escaped this function.
  sys::UnmapForCleanup(base, length);
  sys::UnmapForCleanup(anon, length);
  if (madvise_err != 0) return failed("madvise", madvise_err);
  double res = Median(resident);
  out.ok = true;
  out.cow_fault_ns = std::max(0.0, (Median(cow) - res) / kPages);
  out.zero_fault_ns = std::max(0.0, (Median(zero) - res) / kPages);
  if (wp.size() == static_cast<size_t>(kRounds)) out.wp_fault_ns = std::max(0.0, (Median(wp) - res) / kPages);
  out.copy_page_ns = Median(copy) / kPages;
  return out;
}

// The process's one calibration: measured by the first caller, on whatever
// thread; every later caller (any thread) waits for it and gets the same.
const Calibration& ProcessCalibration() {
  static Calibration result;
  static std::once_flag once;
  std::call_once(once, [] { result = Measure(); });
  return result;
}

Napi::Value ToObject(Napi::Env env, const Calibration& c) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("cowFaultNs", c.cow_fault_ns);
  out.Set("zeroFaultNs", c.zero_fault_ns);
  out.Set("wpFaultNs", c.wp_fault_ns < 0 ? env.Null() : Napi::Number::New(env, c.wp_fault_ns).As<Napi::Value>());
  out.Set("copyPageNs", c.copy_page_ns);
  return out;
}

// calibrateReset() -> { cowFaultNs, zeroFaultNs, wpFaultNs | null, copyPageNs }
// Measures on this thread if no thread did yet; throws the failure's errno.
Napi::Value CalibrateReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Calibration& c = ProcessCalibration();
  if (!c.ok) ThrowSyscall(env, c.call, c.err, "calibrating resets");
  return ToObject(env, c);
}

class CalibrationWorker : public Napi::AsyncWorker {
 public:
  explicit CalibrationWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Thread pool: no N-API here; ProcessCalibration touches only its own memory.
  void Execute() override { result_ = &ProcessCalibration(); }
  void OnOK() override {
    // A worker thread terminated while the measurement ran gets this call
    // with its environment shutting down: building the result then throws.
    // Nobody can wait for the promise any more, and an exception leaving
    // this callback would abort the process (std::terminate), so drop it.
    try {
      Settle(Env());
    } catch (const Napi::Error&) {
    }
  }

  // The base class opens a handle scope before OnOK and turns a failed N-API
  // call into a C++ exception; with the environment being torn down (a
  // worker thread that ended while the measurement ran) opening that scope
  // fails, and an exception leaving this callback (called by libuv, not by
  // JS) aborts the process. Nobody can wait for the promise then: drop it.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
      // The base class deletes the worker last, so it has not yet: do it here.
      // ~AsyncWorker and the references it holds ignore N-API failures.
      Destroy();
    }
  }

  void OnError(const Napi::Error&) override {
    // Execute() never calls SetError; present so a stray error cannot reach
    // the default handler, which would call a callback this worker has not.
  }

 private:
  void Settle(Napi::Env env) {
    if (result_->ok) {
      deferred_.Resolve(ToObject(env, *result_));
      return;
    }
    // The same error object calibrateReset() throws, delivered as a rejection.
    try {
      ThrowSyscall(env, result_->call, result_->err, "calibrating resets");
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  const Calibration* result_ = nullptr;
};

// calibrateResetAsync() -> Promise of what calibrateReset() returns, measured
// on a thread-pool thread (or already known: then it resolves at once).
Napi::Value CalibrateResetAsync(const Napi::CallbackInfo& info) {
  auto* worker = new CalibrationWorker(info.Env());
  Napi::Promise promise = worker->Promise();
  // The worker deletes itself after OnOK.
  worker->Queue();
  return promise;
}

}  // namespace

void InitResetCalibration(Napi::Env env, Napi::Object exports) {
  exports.Set("calibrateReset", Napi::Function::New<CalibrateReset>(env, "calibrateReset"));
  exports.Set("calibrateResetAsync", Napi::Function::New<CalibrateResetAsync>(env, "calibrateResetAsync"));
}

}  // namespace cowpool
