// A raw slot: an address range the addon reserves itself, exposed to JS as an
// external ArrayBuffer. Used by runtimes written in JS/TS that link cowpool
// as their instance allocator.
//
//   reservation (PROT_NONE, MAP_NORESERVE)
//   |<- guard ->|<------------------------ max_bytes ------------------------>|<- guard ->|
//               base
//               |<- image: MAP_PRIVATE of the ->|<- slot memfd, MAP_SHARED over the  ->|
//               |   sealed image memfd (CoW)    |   whole max_bytes; file size = max    |
//               |<------- size: = the ArrayBuffer ------->|<- holes (read zero) ->|
//
// The slot memfd is max_bytes long for the slot's whole life, so no page of
// any mapping ever lies past its file's end (SIGBUS). Growing changes only the
// length handed out; clearing is fallocate(PUNCH_HOLE|KEEP_SIZE). JS bounds
// come from the ArrayBuffer's length: every buffer the slot hands out covers
// [base, base + size) and is detached before size changes (grow, reset,
// configure, destroy), so a stale view reads length 0.
//
// Escapes. JS can move a buffer's backing store into an ArrayBuffer the addon
// never sees (ArrayBuffer.prototype.transfer, transferToFixedLength, and a
// structured clone with a transfer list where Node allows it). The original is
// then detached by someone else: the slot notices that whenever it looks at
// its current buffer (buffer(), and before anything that changes the range)
// and marks that buffer escaped. Each buffer has its own finalizer, run when
// the last holder of its backing store is gone; until every escaped buffer's
// finalizer ran the slot is quarantined: reset() and configure() refuse, and
// destroy() leaves the range mapped for the last finalizer to unmap.
//
// Invariant: region_->base is page-aligned, guards on both sides stay PROT_NONE.
// Invariant: image_length <= size <= max_bytes, all page multiples.
// Invariant: image_ != nullptr iff image_length > 0; the slot holds one
//            reference on it while it is mapped.
// Invariant: the slot memfd's file size == max_bytes; outside the current
//            tenant's writes in [image_length, size) every page of it is a hole.
// Invariant: current_ (a strong reference) is the only buffer not detached by
//            the slot or known escaped; it covers exactly [base, base + size).
// Invariant: region_->escaped_live counts escaped buffers whose finalizer has
//            not run; while it is > 0 the range is neither reset nor unmapped.
// Invariant: after destroy(), region_->retired is set, every method but the
//            getters throws, and the range is unmapped once escaped_live is 0.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "image.h"

namespace cowpool {

// The reservation and the slot memfd. Shared between the RawSlot and every
// ArrayBuffer it handed out, so the pages outlive a slot object that was
// garbage-collected while a buffer is still reachable.
struct RawRegion {
  uint8_t* reservation = nullptr;
  size_t reservation_length = 0;
  uint8_t* base = nullptr;
  int fd = -1;
  bool unmapped = false;
  // destroy() was called: unmap as soon as no escaped buffer lives.
  bool retired = false;
  // Escaped buffers whose finalizer has not run (see RawSlot).
  uint32_t escaped_live = 0;
  // A buffer not detached by the slot (escaped, or not yet seen to) was
  // finalized while its environment was being torn down. Node calls
  // finalizers then whether or not the backing store still lives (it may
  // have been moved to another thread), so the range stays mapped for the
  // rest of the process.
  bool kept_for_process = false;
  void Unmap();
  // One escaped buffer's finalizer ran.
  void EscapedGone();
  ~RawRegion();
};

// One ArrayBuffer handed out. Shared by the slot (while it is current) and the
// buffer's finalizer.
struct RawBuffer {
  std::shared_ptr<RawRegion> region;
  // Detached by someone other than the slot (moved out).
  bool escaped = false;
  // Its finalizer ran: no holder of its backing store is left.
  bool finalized = false;
  // The slot detached it itself: nobody can hold its backing store.
  bool detached_by_slot = false;
};

class RawSlot : public Napi::ObjectWrap<RawSlot> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RawSlot(const Napi::CallbackInfo& info);
  ~RawSlot() override;

 private:
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value Buffer(const Napi::CallbackInfo& info);
  Napi::Value Grow(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value ResidentPrivateBytes(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value MaxBytes(const Napi::CallbackInfo& info);
  Napi::Value GuardBytes(const Napi::CallbackInfo& info);
  Napi::Value ImageLength(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Destroyed(const Napi::CallbackInfo& info);
  Napi::Value EscapedBuffers(const Napi::CallbackInfo& info);
  Napi::Value Escapes(const Napi::CallbackInfo& info);

  void AssertLive(Napi::Env env) const;
  // Throws SLOT_STATE while an escaped buffer lives.
  void AssertNotEscaped(Napi::Env env, const char* what) const;
  // Notices a current buffer detached by someone else (an escape).
  void CheckEscape(Napi::Env env);
  // Detaches the current buffer (after CheckEscape).
  void DetachBuffers(Napi::Env env);
  // Punches [offset, offset + length) out of the slot memfd: those pages
  // read as zero again in every mapping.
  void Clear(Napi::Env env, size_t offset, size_t length, const char* what);

  std::shared_ptr<RawRegion> region_;
  size_t max_bytes_ = 0;
  size_t guard_bytes_ = 0;
  size_t size_ = 0;
  size_t image_length_ = 0;
  ImageEntry* image_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> current_;
  std::shared_ptr<RawBuffer> current_record_;
  // Escapes noticed over the slot's life.
  uint32_t escapes_ = 0;
};

}  // namespace cowpool
