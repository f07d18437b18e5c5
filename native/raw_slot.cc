#include "raw_slot.h"

#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"
#include "range_ops.h"
#include "sys.h"

namespace cowpool {
namespace {

size_t ReadBytes(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsNumber()) ThrowInvalid(env, std::string(name) + " must be a number of bytes");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowInvalid(env, std::string(name) + " must be a non-negative integer");
  }
  size_t n = static_cast<size_t>(d);
  if (!IsPageAligned(n)) {
    ThrowInvalid(env, std::string(name) + " must be a multiple of the page size (" + std::to_string(sys::PageSize()) + ")");
  }
  return n;
}

// Largest slot the addon accepts: 64 GiB keeps guard + max + guard far from
// overflowing and is above any 32-bit wasm memory.
constexpr size_t kMaxSlotBytes = size_t{64} << 30;

}  // namespace

void RawRegion::Unmap() {
  if (unmapped || kept_for_process) return;
  unmapped = true;
  // safe: the reservation is ours alone (mmap(NULL) chose it); every JS view
  // of it was detached by the slot or has been finalized (escaped_live == 0
  // when RawSlot::Destroy or EscapedGone calls this; the destructor runs once
  // no buffer holds the region at all).
  if (reservation != nullptr) sys::UnmapForCleanup(reservation, reservation_length);
  sys::Close(fd);
  reservation = nullptr;
  base = nullptr;
  fd = -1;
}

void RawRegion::EscapedGone() {
  if (escaped_live > 0) escaped_live--;
  if (escaped_live == 0 && retired) Unmap();
}

RawRegion::~RawRegion() { Unmap(); }

Napi::Function RawSlot::Init(Napi::Env env) {
  return DefineClass(env, "RawSlot",
                     {
                         InstanceMethod<&RawSlot::Configure>("configure"),
                         InstanceMethod<&RawSlot::Buffer>("buffer"),
                         InstanceMethod<&RawSlot::Grow>("grow"),
                         InstanceMethod<&RawSlot::Reset>("reset"),
                         InstanceMethod<&RawSlot::Destroy>("destroy"),
                         InstanceMethod<&RawSlot::ResidentPrivateBytes>("residentPrivateBytes"),
                         InstanceAccessor<&RawSlot::Size>("size"),
                         InstanceAccessor<&RawSlot::MaxBytes>("maxBytes"),
                         InstanceAccessor<&RawSlot::GuardBytes>("guardBytes"),
                         InstanceAccessor<&RawSlot::ImageLength>("imageLength"),
                         InstanceAccessor<&RawSlot::Address>("address"),
                         InstanceAccessor<&RawSlot::Destroyed>("destroyed"),
                         InstanceAccessor<&RawSlot::EscapedBuffers>("escapedBuffers"),
                         InstanceAccessor<&RawSlot::Escapes>("escapes"),
                     });
}

// new RawSlot(maxBytes, guardBytes)
RawSlot::RawSlot(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSlot>(info) {
  Napi::Env env = info.Env();
  max_bytes_ = ReadBytes(env, info[0], "maxBytes");
  guard_bytes_ = ReadBytes(env, info[1], "guardBytes");
  if (max_bytes_ == 0 || max_bytes_ > kMaxSlotBytes) ThrowInvalid(env, "maxBytes must be between one page and 64 GiB");
  if (guard_bytes_ > kMaxSlotBytes) ThrowInvalid(env, "guardBytes must be at most 64 GiB");

  auto region = std::make_shared<RawRegion>();
  region->reservation_length = guard_bytes_ + max_bytes_ + guard_bytes_;
  // safe: a fresh PROT_NONE reservation at an address the kernel picks; it
  // overlaps nothing and nothing is accessible until mapped below.
  void* res = sys::Mmap(nullptr, region->reservation_length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (res == MAP_FAILED) ThrowSyscall(env, "mmap", errno, "reserving a raw slot");
  region->reservation = static_cast<uint8_t*>(res);
  region->base = region->reservation + guard_bytes_;

  region->fd = sys::MemfdCreate("cowpool-slot", MFD_CLOEXEC);
  if (region->fd < 0) ThrowSyscall(env, "memfd_create", errno, "creating a raw slot");  // region dtor unmaps
  // The file is max_bytes long for the slot's whole life (sparse: holes cost
  // nothing), so the mapping below never has a page past the file's end.
  if (sys::Ftruncate(region->fd, static_cast<off_t>(max_bytes_)) != 0) ThrowSyscall(env, "ftruncate", errno, "creating a raw slot");
  // safe: [base, base + max) is inside our reservation and within the file;
  // no JS view covers a page past `size`.
  void* p = sys::Mmap(region->base, max_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, region->fd, 0);
  if (p == MAP_FAILED) ThrowSyscall(env, "mmap", errno, "mapping a raw slot");
  region_ = std::move(region);
}

RawSlot::~RawSlot() {
  // Garbage collection: drop our share of the region (a buffer still alive
  // keeps the pages mapped) and our image reference. No JS calls here.
  if (image_ != nullptr) ReleaseImage(image_);
  image_ = nullptr;
}

void RawSlot::AssertLive(Napi::Env env) const {
  if (!region_ || region_->retired || region_->unmapped) ThrowCode(env, "LEASE_RELEASED", "the raw slot was destroyed");
}

void RawSlot::AssertNotEscaped(Napi::Env env, const char* what) const {
  if (region_->escaped_live == 0) return;
  ThrowCode(env, "SLOT_STATE",
            std::string(what) + ": a buffer of this raw slot was moved out (transfer or a transfer list) and is still alive; "
            "the slot is quarantined until it is collected and must be destroyed, not reused");
}

void RawSlot::CheckEscape(Napi::Env) {
  if (current_.IsEmpty()) return;
  Napi::Value value = current_.Value();
  // The slot detaches its buffers only through DetachBuffers, which drops
  // current_ first: a current buffer found detached was moved out by JS.
  if (!value.IsEmpty() && value.IsArrayBuffer() && !value.As<Napi::ArrayBuffer>().IsDetached()) return;
  escapes_++;
  if (current_record_ && !current_record_->finalized) {
    current_record_->escaped = true;
    region_->escaped_live++;
  }
  current_.Reset();
  current_record_.reset();
}

void RawSlot::DetachBuffers(Napi::Env env) {
  CheckEscape(env);
  if (current_.IsEmpty()) return;
  Napi::Value value = current_.Value();
  current_.Reset();
  if (current_record_) current_record_->detached_by_slot = true;
  current_record_.reset();
  // Detaching makes every typed array over it length 0: a stale view can no
  // longer reach pages that are about to change.
  if (!value.IsEmpty() && value.IsArrayBuffer()) {
    Napi::ArrayBuffer buffer = value.As<Napi::ArrayBuffer>();
    if (!buffer.IsDetached()) buffer.Detach();
  }
}

void RawSlot::Clear(Napi::Env env, size_t offset, size_t length, const char* what) {
  // Frees those pages of the file and zaps them from our mapping; they read
  // as zero again. The file keeps its size. No view covers a page whose
  // contents matter to anyone else: the caller detached the buffers and
  // refused when one escaped.
  if (sys::PunchHole(region_->fd, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    ThrowSyscall(env, "fallocate", errno, what);
  }
}

// configure(image | null, initialBytes): put a module's image in this slot.
Napi::Value RawSlot::Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env);
  ImageEntry* next = nullptr;
  if (!info[0].IsNull() && !info[0].IsUndefined()) next = Image::FromValue(env, info[0])->EntryOrThrow(env);
  size_t initial = ReadBytes(env, info[1], "initialBytes");
  size_t next_length = next != nullptr ? next->byte_length : 0;
  if (initial > max_bytes_) {
    ThrowCode(env, "GROW_LIMIT",
              "initialBytes (" + std::to_string(initial) + ") exceeds the slot's maxBytes (" + std::to_string(max_bytes_) + ")");
  }
  if (next_length > initial) ThrowInvalid(env, "the image is longer than initialBytes");
  CheckEscape(env);
  AssertNotEscaped(env, "configure");

  DetachBuffers(env);
  if (image_ != nullptr) {
    // safe: [base, base + image_length_) is inside the slot; this puts the
    // slot memfd back under the old image's pages (file offset = slot offset).
    void* p = sys::Mmap(region_->base, image_length_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, region_->fd, 0);
    if (p == MAP_FAILED) ThrowSyscall(env, "mmap", errno, "configuring a raw slot");
    ReleaseImage(image_);
    image_ = nullptr;
    image_length_ = 0;
  }
  // The whole file back to holes: configure is the full reset.
  Clear(env, 0, max_bytes_, "configuring a raw slot");
  size_ = initial;
  if (next != nullptr) {
    // safe: next_length <= initial <= max_bytes_, validated above.
    MapImageAt(env, region_->base, next, "configuring a raw slot", region_->fd);
    next->refs.fetch_add(1, std::memory_order_relaxed);
    image_ = next;
    image_length_ = next_length;
  }
  return env.Undefined();
}

Napi::Value RawSlot::Buffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env);
  CheckEscape(env);
  if (!current_.IsEmpty()) return current_.Value();
  auto record = std::make_shared<RawBuffer>();
  record->region = region_;
  auto* hold = new std::shared_ptr<RawBuffer>(record);
  // safe: [base, base + size_) is mapped read-write and inside the file; the
  // buffer keeps the region alive through `hold`, and is detached before
  // size_ changes — or, when it escapes, the range is never reset or
  // unmapped until this finalizer ran.
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, region_->base, size_,
      [](Napi::Env e, void*, std::shared_ptr<RawBuffer>* h) {
        std::shared_ptr<RawBuffer> r = std::move(*h);
        delete h;
        r->finalized = true;
        if (r->detached_by_slot) return;
        // At teardown a buffer may have been moved to another thread without
        // the slot having looked since: keep the range rather than guess.
        if (!CanRunJs(e)) r->region->kept_for_process = true;
        if (r->escaped) r->region->EscapedGone();
      },
      hold);
  current_ = Napi::Reference<Napi::ArrayBuffer>::New(buffer, 1);
  current_record_ = std::move(record);
  return buffer;
}

// grow(newBytes): new pages read as zero. Detaches the previous buffer.
Napi::Value RawSlot::Grow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env);
  size_t next = ReadBytes(env, info[0], "newBytes");
  if (next < size_) ThrowInvalid(env, "grow: newBytes is smaller than the current size; slots shrink only on reset");
  if (next > max_bytes_) {
    ThrowCode(env, "GROW_LIMIT",
              "grow to " + std::to_string(next) + " bytes exceeds the slot's maxBytes (" + std::to_string(max_bytes_) + ")");
  }
  // The pages up to `next` are holes already (the file is max_bytes long):
  // growing is handing out a longer buffer.
  DetachBuffers(env);
  size_ = next;
  return env.Undefined();
}

// reset(mode, keepResidentBytes, initialBytes, maxResidentBytes?, flags?,
// stats?: Float64Array): the image part back to the image (by the mode),
// everything past it back to zero by punching it out of the slot memfd, size
// back to initialBytes. Refused while an escaped buffer lives.
Napi::Value RawSlot::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env);
  size_t initial = ReadBytes(env, info[2], "initialBytes");
  if (initial < image_length_ || initial > max_bytes_) ThrowInvalid(env, "reset: initialBytes must lie between the image length and maxBytes");
  // Arguments 0, 1 then 3, 4: gather them in the order ReadResetRequest expects.
  ResetRequest request;
  {
    Napi::Value mode = info[0];
    if (!mode.IsNumber()) ThrowInvalid(env, "reset: unknown mode");
    double m = mode.As<Napi::Number>().DoubleValue();
    if (!(m >= 0 && m < kResetModeCount && m == static_cast<double>(static_cast<int>(m)))) {
      ThrowInvalid(env, "reset: unknown mode");
    }
    request = ReadResetRequestValues(env, static_cast<int>(m), info[1], info[3], info[4], "reset");
  }
  CheckEscape(env);
  AssertNotEscaped(env, "reset");
  DetachBuffers(env);
  ResetStats stats{};
  if (image_ != nullptr) {
    stats = ResetRange(env, region_->base, image_length_, image_, request, "resetting a raw slot");
  }
  // Tenants write only below size_ (it only grows during a lease): past the
  // image, [image_length, size_) is all a tenant can have touched.
  Clear(env, image_length_, size_ - image_length_, "resetting a raw slot");
  size_ = initial;
  WriteResetStats(env, info[5], stats, "reset");
  return Napi::Number::New(env, static_cast<double>(stats.bytes_copied));
}

// residentPrivateBytes() -> bytes of [base, base + size) held in private
// pages. The memfd tail is shared memory, so only the image part can count.
Napi::Value RawSlot::ResidentPrivateBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env);
  size_t pages = CountPrivatePages(env, region_->base, size_, "residentPrivateBytes");
  return Napi::Number::New(env, static_cast<double>(pages * sys::PageSize()));
}

Napi::Value RawSlot::Destroy(const Napi::CallbackInfo& info) {
  if (region_ && !region_->retired) {
    DetachBuffers(info.Env());
    region_->retired = true;
    // With an escaped buffer alive the range stays mapped; its last
    // finalizer unmaps it (RawRegion::EscapedGone).
    if (region_->escaped_live == 0) region_->Unmap();
  }
  if (image_ != nullptr) ReleaseImage(image_);
  image_ = nullptr;
  image_length_ = 0;
  size_ = 0;
  return info.Env().Undefined();
}

Napi::Value RawSlot::Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(size_)); }
Napi::Value RawSlot::MaxBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(max_bytes_));
}
Napi::Value RawSlot::GuardBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(guard_bytes_));
}
Napi::Value RawSlot::ImageLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(image_length_));
}
Napi::Value RawSlot::Address(const Napi::CallbackInfo& info) {
  uintptr_t base = region_ && !region_->retired && !region_->unmapped ? reinterpret_cast<uintptr_t>(region_->base) : 0;
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(base));
}
Napi::Value RawSlot::Destroyed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !region_ || region_->retired || region_->unmapped);
}
// Escaped buffers still alive (notices a new escape first while the slot is live).
Napi::Value RawSlot::EscapedBuffers(const Napi::CallbackInfo& info) {
  if (region_ && !region_->retired && !region_->unmapped) CheckEscape(info.Env());
  return Napi::Number::New(info.Env(), region_ ? static_cast<double>(region_->escaped_live) : 0.0);
}
Napi::Value RawSlot::Escapes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(escapes_));
}

}  // namespace cowpool
