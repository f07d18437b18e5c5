#include "image.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>

#include "errors.h"
#include "sys.h"

namespace cowpool {

// Tags Image objects so Unwrap never reinterprets another wrapped class.
const napi_type_tag kImageTypeTag = {0x636f77706f6f6c31ull, 0x696d616765746167ull};

namespace {

std::mutex g_registry_mutex;
// Guarded by g_registry_mutex. Several entries may share a hash.
std::unordered_multimap<uint64_t, ImageEntry*>* g_registry = new std::unordered_multimap<uint64_t, ImageEntry*>();

uint64_t HashBytes(const uint8_t* bytes, size_t length, size_t file_length) {
  // 64-bit multiply-xorshift over 8-byte words: fast enough for 100 MiB images
  // and only needs to spread keys; equality is decided by memcmp. The file
  // length is part of the key: the same data in memories of different sizes
  // is two files (and two slot affinity keys).
  uint64_t h = (0x9E3779B97F4A7C15ull ^ length) * 0xff51afd7ed558ccdull ^ file_length;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes + i, 8);  // safe: i + 8 <= length
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < length; ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

size_t RoundUpToPage(size_t n) {
  size_t page = sys::PageSize();
  return (n + page - 1) / page * page;
}

// Creates, fills and seals a memfd of `byte_length` bytes holding `bytes`
// first; the rest stays holes. On failure closes what it opened and throws.
ImageEntry* CreateEntry(Napi::Env env, const uint8_t* bytes, size_t length, size_t byte_length, uint64_t hash) {
  int fd = sys::MemfdCreate("cowpool-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) ThrowSyscall(env, "memfd_create", errno, "creating an image");
  auto fail = [&](const char* call) {
    int err = errno;
    sys::Close(fd);
    ThrowSyscall(env, call, err, "creating an image");
  };
  // Size first so the file is exactly byte_length; bytes past `length` are
  // holes that read as zero and hold no memory until a mapping touches them
  // (then one page-cache page each, shared by every mapping of the image).
  if (sys::Ftruncate(fd, static_cast<off_t>(byte_length)) != 0) fail("ftruncate");
  size_t written = 0;
  while (written < length) {
    // safe: bytes + written .. bytes + length lies inside the caller's buffer.
    ssize_t n = sys::Pwrite(fd, bytes + written, length - written, static_cast<off_t>(written));
    if (n < 0) fail("pwrite");
    if (n == 0) {
      errno = EIO;
      fail("pwrite");
    }
    written += static_cast<size_t>(n);
  }
  // Seal before any mapping exists: after this nobody can write, shrink or grow it.
  if (sys::FcntlAddSeals(fd, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) fail("fcntl");
  // safe: a private read-only mapping of exactly the file's (sealed) size.
  void* view = sys::Mmap(nullptr, byte_length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (view == MAP_FAILED) fail("mmap");
  auto* entry = new ImageEntry();
  entry->fd = fd;
  entry->byte_length = byte_length;
  entry->data_length = length;
  entry->hash = hash;
  entry->view = static_cast<const uint8_t*>(view);
  return entry;
}

// The registered entry for these bytes and length with one more reference,
// or nullptr. Caller holds g_registry_mutex.
ImageEntry* FindAndRefLocked(uint64_t hash, const uint8_t* bytes, size_t length, size_t file_length) {
  auto range = g_registry->equal_range(hash);
  for (auto it = range.first; it != range.second; ++it) {
    ImageEntry* e = it->second;
    // safe: e->view maps byte_length >= data_length readable bytes, and the
    // comparison reads only [0, length) == [0, data_length) of it (data, never holes).
    if (e->data_length == length && e->byte_length == file_length &&
        (length == 0 || std::memcmp(e->view, bytes, length) == 0)) {
      e->refs.fetch_add(1, std::memory_order_relaxed);
      return e;
    }
  }
  return nullptr;
}

// Frees an entry nobody can reach any more (never registered, or removed
// from the registry with its last reference).
void DestroyEntry(ImageEntry* entry) {
  // safe: no slot maps or reads this view: the entry was never handed out, or
  // its last reference is gone.
  sys::UnmapForCleanup(const_cast<uint8_t*>(entry->view), entry->byte_length);
  sys::Close(entry->fd);
  delete entry;
}

}  // namespace

size_t DataSpan(const ImageEntry* image) { return RoundUpToPage(image->data_length); }

ImageEntry* AcquireImage(Napi::Env env, const uint8_t* bytes, size_t length, size_t file_length) {
  if (file_length == 0) {
    if (length == 0) ThrowInvalid(env, "an image must hold at least one byte or have a length; serve 0-byte memories without an image");
    file_length = RoundUpToPage(length);
  }
  if (file_length % sys::PageSize() != 0 || file_length < RoundUpToPage(length) || file_length > kMaxImageFileBytes) {
    ThrowInvalid(env, "an image's byteLength must be a multiple of the page size, at least the data rounded up to a page (" +
                          std::to_string(RoundUpToPage(length)) + " bytes) and at most 4 GiB; got " +
                          std::to_string(file_length));
  }
  uint64_t hash = HashBytes(bytes, length, file_length);
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    if (ImageEntry* e = FindAndRefLocked(hash, bytes, length, file_length)) return e;
  }
  // Create outside the lock: filling a memfd with up to maxImageBytes must not
  // hold up other threads' lookups and releases (a release runs on every
  // slot retirement). Two threads creating the same image race harmlessly:
  // the second to insert finds the first's entry and discards its own.
  ImageEntry* fresh = CreateEntry(env, bytes, length, file_length, hash);
  ImageEntry* existing = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    existing = FindAndRefLocked(hash, bytes, length, file_length);
    if (existing == nullptr) {
      fresh->refs.store(1, std::memory_order_relaxed);
      g_registry->emplace(hash, fresh);
      return fresh;
    }
  }
  DestroyEntry(fresh);
  return existing;
}

void ReleaseImage(ImageEntry* entry) {
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    if (entry->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    auto range = g_registry->equal_range(entry->hash);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == entry) {
        g_registry->erase(it);
        break;
      }
    }
  }
  // Out of the registry, so no lookup can hand it out again: unmap and close
  // without holding the lock.
  DestroyEntry(entry);
}

size_t LiveImageCount() {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  return g_registry->size();
}

Napi::Function Image::Init(Napi::Env env) {
  return DefineClass(env, "Image",
                     {
                         InstanceAccessor<&Image::ByteLength>("byteLength"),
                         InstanceAccessor<&Image::DataLength>("dataLength"),
                         InstanceAccessor<&Image::Hash>("hash"),
                         InstanceAccessor<&Image::Fd>("fd"),
                         InstanceAccessor<&Image::Released>("released"),
                         InstanceMethod<&Image::Seals>("seals"),
                         InstanceMethod<&Image::Release>("release"),
                     });
}

Image::Image(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Image>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowInvalid(env, "new Image(bytes, byteLength?): bytes must be a Uint8Array");
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) ThrowInvalid(env, "new Image(bytes, byteLength?): bytes must be a Uint8Array");
  Napi::Uint8Array bytes = ta.As<Napi::Uint8Array>();
  size_t file_length = 0;
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    if (!info[1].IsNumber()) ThrowInvalid(env, "new Image(bytes, byteLength?): byteLength must be a number");
    double d = info[1].As<Napi::Number>().DoubleValue();
    if (!(d > 0) || d > static_cast<double>(kMaxImageFileBytes) || d != static_cast<double>(static_cast<uint64_t>(d))) {
      ThrowInvalid(env, "new Image(bytes, byteLength?): byteLength must be a positive integer of at most 4 GiB");
    }
    file_length = static_cast<size_t>(d);
  }
  // safe: Data() points at ElementLength() bytes kept alive by `bytes` for this call.
  entry_ = AcquireImage(env, bytes.Data(), bytes.ElementLength(), file_length);
  napi_type_tag_object(env, info.This(), &kImageTypeTag);
}

Image::~Image() {
  if (entry_ != nullptr) ReleaseImage(entry_);
}

ImageEntry* Image::EntryOrThrow(Napi::Env env) const {
  if (entry_ == nullptr) ThrowCode(env, "LEASE_RELEASED", "the image was released");
  return entry_;
}

Image* Image::FromValue(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) ThrowInvalid(env, "expected an Image");
  Image* image = nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  // The type tag proves the object was constructed by Image, so the pointer
  // napi_unwrap returns really is an Image.
  bool tagged = false;
  if (napi_check_object_type_tag(env, obj, &kImageTypeTag, &tagged) != napi_ok || !tagged) {
    ThrowInvalid(env, "expected an Image");
  }
  napi_status status = napi_unwrap(env, obj, reinterpret_cast<void**>(&image));
  if (status != napi_ok || image == nullptr) ThrowInvalid(env, "expected an Image");
  return image;
}

Napi::Value Image::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(EntryOrThrow(info.Env())->byte_length));
}

Napi::Value Image::DataLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(EntryOrThrow(info.Env())->data_length));
}

Napi::Value Image::Hash(const Napi::CallbackInfo& info) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(EntryOrThrow(info.Env())->hash));
  return Napi::String::New(info.Env(), buf);
}

Napi::Value Image::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), EntryOrThrow(info.Env())->fd);
}

Napi::Value Image::Seals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int seals = sys::FcntlGetSeals(EntryOrThrow(env)->fd);
  if (seals < 0) ThrowSyscall(env, "fcntl", errno, "reading an image's seals");
  Napi::Object out = Napi::Object::New(env);
  out.Set("write", Napi::Boolean::New(env, (seals & F_SEAL_WRITE) != 0));
  out.Set("shrink", Napi::Boolean::New(env, (seals & F_SEAL_SHRINK) != 0));
  out.Set("grow", Napi::Boolean::New(env, (seals & F_SEAL_GROW) != 0));
  out.Set("seal", Napi::Boolean::New(env, (seals & F_SEAL_SEAL) != 0));
  return out;
}

Napi::Value Image::Released(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), entry_ == nullptr); }

Napi::Value Image::Release(const Napi::CallbackInfo& info) {
  if (entry_ != nullptr) {
    ReleaseImage(entry_);
    entry_ = nullptr;
  }
  return info.Env().Undefined();
}

}  // namespace cowpool
