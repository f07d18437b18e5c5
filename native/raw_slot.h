// A raw slot: an address range the addon reserves itself, exposed to JS as an
// external ArrayBuffer. Used by runtimes written in JS/TS that link cowpool
// as their instance allocator.
//
//   reservation (PROT_NONE, MAP_NORESERVE)
//   |<- guard ->|<------------------------ max_bytes ------------------------>|<- guard ->|
//               base
//               |<- image: MAP_PRIVATE of the ->|<- slot memfd, MAP_SHARED over the  ->|
//               |   sealed image memfd (CoW)    |   whole max_bytes; file size = size   |
//               |<------------------ size: accessible, = the ArrayBuffer ------------>|
//
// Growing and shrinking is ftruncate on the slot memfd: no mprotect on the hot
// path. A page of the memfd mapping at or past the file's size raises SIGBUS
// (which kills the process), so no JS view may ever cover it: every
// ArrayBuffer handed out covers [base, base + size) and is detached before
// size shrinks (reset, reconfigure, destroy) or grows (a stale view then reads
// length 0 instead of a wrong length).
//
// Invariant: region_->base is page-aligned, guards on both sides stay PROT_NONE.
// Invariant: image_length <= size <= max_bytes, all page multiples.
// Invariant: image_ != nullptr iff image_length > 0; the slot holds one
//            reference on it while it is mapped.
// Invariant: the slot memfd's file size == size.
// Invariant: at most one live ArrayBuffer (current_), covering exactly
//            [base, base + size); any earlier one is detached.
// Invariant: after destroy(), region_ is unmapped and every method but the
//            getters throws.
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
  void Unmap();
  ~RawRegion();
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

  void AssertLive(Napi::Env env) const;
  void DetachBuffers();
  // Sets the slot memfd's size to 0 and then `size` so every page past the
  // image reads as zero again.
  void TruncateTo(Napi::Env env, size_t size, const char* what);

  std::shared_ptr<RawRegion> region_;
  size_t max_bytes_ = 0;
  size_t guard_bytes_ = 0;
  size_t size_ = 0;
  size_t image_length_ = 0;
  ImageEntry* image_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> current_;
};

}  // namespace cowpool
