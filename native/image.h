// A module's initial memory, written once into a sealed memfd.
//
//   fd:    memfd "cowpool-image", size = byte_length, sealed
//          F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL
//   view:  PROT_READ MAP_PRIVATE mapping of the whole file, the source for
//          restores that copy image pages back (keep-resident, restore-dirty);
//          they read it only below DataSpan(), never its holes
//
//   0                data_length   DataSpan()                     byte_length
//   |---- module data ----|-- 0 --|------- holes (never written) -------|
//
// A V8 slot's image spans the memory's whole initial size (byte_length =
// initial bytes): the file past the data is a sparse tail of holes, so every
// page of the memory is a page of the file. A read of a hole maps a shared
// page-cache page of zeros (one per image, not per slot) on every host, with
// or without a shared zero page; only a write makes a page private. So
// "private and not file-backed" means "written" (DESIGN invariant 8).
// Raw slots pass no length: their images stop at the data's last page.
//
// Images are shared by content and length: a process-wide registry keyed by a
// hash of the bytes and the file length (collisions are resolved by comparing
// both) hands every worker thread the same memfd. Each holder owns one
// reference; the file is closed when the last one goes.
//
// Invariant: fd is sealed before anyone can map it, so no mapping can ever
//            change it and no file size change can make a mapping SIGBUS.
// Invariant: byte_length is a non-zero multiple of the page size and is the
//            file's size; nothing maps more than byte_length of it.
// Invariant: data_length <= DataSpan() <= byte_length; the file holds the data
//            in [0, data_length) and zeros (written or holes) after it.
// Invariant: view != nullptr and maps exactly [0, byte_length) read-only.
// Invariant: refs > 0 while the entry is in the registry.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cowpool {

struct ImageEntry {
  int fd = -1;
  size_t byte_length = 0;
  size_t data_length = 0;
  uint64_t hash = 0;
  const uint8_t* view = nullptr;
  std::atomic<uint32_t> refs{0};
};

// The page-rounded end of the data: below it a restore copies from the view,
// above it the image is all holes and a restore writes zeros.
size_t DataSpan(const ImageEntry* image);

// Largest file an image may be: a wasm32 memory's limit (65,536 pages of 64 KiB).
constexpr size_t kMaxImageFileBytes = size_t{1} << 32;

// Finds or creates the entry for `bytes` in a file of `file_length` bytes (0:
// the data rounded up to a page) and takes a reference on it.
// Throws a JS error on failure.
ImageEntry* AcquireImage(Napi::Env env, const uint8_t* bytes, size_t length, size_t file_length = 0);
// Drops one reference; frees the memfd and view with the last.
void ReleaseImage(ImageEntry* entry);
// Number of distinct images alive in the process (for leak tests).
size_t LiveImageCount();

// JS class `Image`: holds one reference to an ImageEntry until release() or GC.
class Image : public Napi::ObjectWrap<Image> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Image(const Napi::CallbackInfo& info);
  ~Image() override;

  // The entry, or throws LEASE_RELEASED-style error when released.
  ImageEntry* EntryOrThrow(Napi::Env env) const;
  static Image* FromValue(Napi::Env env, Napi::Value value);

 private:
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value DataLength(const Napi::CallbackInfo& info);
  Napi::Value Hash(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Seals(const Napi::CallbackInfo& info);
  Napi::Value Released(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);

  // Invariant: nullptr exactly when released.
  ImageEntry* entry_ = nullptr;
};

}  // namespace cowpool
