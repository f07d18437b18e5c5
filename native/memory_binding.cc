// Operations on a WebAssembly.Memory's buffer (a "V8 slot").
//
//   base = data pointer of memory.buffer, re-read on every call
//   |<------------- byteLength (read-write) ------------->|<-- PROT_NONE (V8's) -->
//   |<-- image (MAP_PRIVATE of memfd) -->|<-- zero fill -->|
//   a pool's images span the whole initial memory (data, then a sparse tail),
//   so there the zero fill is empty and every page is a page of the file:
//   pages a tenant only read stay file-backed on every host (DESIGN invariant 8)
//
// V8 owns the reservation; this file only ever replaces or discards pages in
// [base, base + byteLength). It never touches V8's guard pages, so an
// out-of-bounds wasm access still traps (DESIGN invariant 1).
#include <napi.h>

#include <cerrno>
#include <sys/mman.h>

#include "errors.h"
#include "image.h"
#include "linux_abi.h"
#include "page_scan.h"
#include "range_ops.h"
#include "sys.h"

namespace cowpool {
namespace {

struct BufferRange {
  uint8_t* base;
  size_t length;
};

// Reads the buffer's current data pointer and length. Refuses a detached
// buffer (NULL data) and an unaligned one. The ArrayBuffer is an argument of
// the running call, so its backing store stays alive until we return.
BufferRange ReadBuffer(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArrayBuffer()) ThrowInvalid(env, std::string(what) + ": expected the memory's ArrayBuffer");
  Napi::ArrayBuffer buffer = value.As<Napi::ArrayBuffer>();
  void* data = buffer.Data();
  size_t length = buffer.ByteLength();
  if (data == nullptr || length == 0) {
    ThrowInvalid(env, std::string(what) + ": the buffer is detached or empty (memory grew or was freed); read memory.buffer again");
  }
  if (!IsPageAligned(data) || !IsPageAligned(length)) {
    ThrowInvalid(env, std::string(what) + ": the buffer is not page-aligned; only WebAssembly.Memory buffers can be mapped");
  }
  return {static_cast<uint8_t*>(data), length};
}

const ImageEntry* OptionalImage(Napi::Env env, Napi::Value value) {
  if (value.IsNull() || value.IsUndefined()) return nullptr;
  return Image::FromValue(env, value)->EntryOrThrow(env);
}

size_t ReadSize(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsNumber()) ThrowInvalid(env, std::string(name) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowInvalid(env, std::string(name) + " must be a non-negative integer");
  }
  return static_cast<size_t>(d);
}

// mapImage(buffer, image | null, previousImageLength): makes the first
// image.byteLength bytes a CoW view of the image and turns any rest of the
// previous image's range into zero pages. A slot's memory keeps its shape
// between modules, so with images that span the initial memory the new image
// replaces the previous one whole and no tail is left to clear.
Napi::Value MapImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "mapImage");
  const ImageEntry* image = OptionalImage(env, info[1]);
  size_t previous = ReadSize(env, info[2], "previousImageLength");
  size_t image_length = image != nullptr ? image->byte_length : 0;
  if (image_length > r.length) {
    ThrowInvalid(env, "mapImage: the image (" + std::to_string(image_length) + " bytes) is longer than the memory (" +
                          std::to_string(r.length) + " bytes); serve this module by plain instantiation");
  }
  if (previous > r.length || !IsPageAligned(previous)) {
    ThrowInvalid(env, "mapImage: previousImageLength must be page-aligned and inside the memory");
  }
  // The tail of a longer previous image becomes zero pages, so no byte of the
  // previous module's image survives into this one's memory.
  if (previous > image_length) MapZeroAt(env, r.base + image_length, previous - image_length, "mapImage");
  if (image != nullptr) MapImageAt(env, r.base, image, "mapImage");
  return env.Undefined();
}

// resetMemory(buffer, image | null, mode, keepResidentBytes, maxResidentBytes?,
//             flags?, stats?: Float64Array, rangeBytes?) -> bytes copied
// Resets [0, rangeBytes) (default: the whole buffer). A memory with a
// virtual size resets its initial range here and its grown tail with
// releaseTail.
Napi::Value ResetMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "resetMemory");
  const ImageEntry* image = OptionalImage(env, info[1]);
  ResetRequest request = ReadResetRequest(env, info, 2, "resetMemory");
  size_t range = r.length;
  if (!info[7].IsUndefined()) {
    range = ReadSize(env, info[7], "rangeBytes");
    if (range == 0 || range > r.length || !IsPageAligned(range)) {
      ThrowInvalid(env, "resetMemory: rangeBytes must be page-aligned, non-zero and inside the memory");
    }
  }
  if (image != nullptr && image->byte_length > range) {
    ThrowInvalid(env, "resetMemory: the image is longer than the memory");
  }
  ResetStats stats = ResetRange(env, r.base, range, image, request, "resetMemory");
  WriteResetStats(env, info[6], stats, "resetMemory");
  return Napi::Number::New(env, static_cast<double>(stats.bytes_copied));
}

// residentPrivateBytes(buffer) -> bytes of the buffer held in private pages
// (pages a reset has to deal with); a diagnostic for tests and stats.
Napi::Value ResidentPrivateBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "residentPrivateBytes");
  size_t pages = CountPrivatePages(env, r.base, r.length, "residentPrivateBytes");
  return Napi::Number::New(env, static_cast<double>(pages * sys::PageSize()));
}

// pageOut(buffer, offset, length) -> { swapped, present }: test hook. Asks the
// kernel to reclaim [offset, offset + length) now (MADV_PAGEOUT, Linux 5.4+)
// and counts the pages whose pagemap entry then says swapped / present. Without
// a swap device private pages simply stay present.
Napi::Value PageOut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "pageOut");
  size_t offset = ReadSize(env, info[1], "offset");
  size_t length = ReadSize(env, info[2], "length");
  if (!IsPageAligned(offset) || !IsPageAligned(length) || offset > r.length || length > r.length - offset) {
    ThrowInvalid(env, "pageOut: offset and length must be page-aligned and inside the buffer");
  }
  // safe: a page-aligned range inside the live buffer; MADV_PAGEOUT only
  // moves pages to swap (contents are kept), it never unmaps.
  if (sys::Madvise(r.base + offset, length, kMadvPageout) != 0) ThrowSyscall(env, "madvise", errno, "pageOut");
  int fd = PagemapFd();
  if (fd < 0) ThrowSyscall(env, "open", errno, "pageOut");
  const size_t page = sys::PageSize();
  size_t swapped = 0, present = 0;
  for (size_t at = 0; at < length; at += page) {
    uint64_t entry = 0;
    off_t where = static_cast<off_t>(reinterpret_cast<uintptr_t>(r.base + offset + at) / page * sizeof entry);
    // safe: reads one 8-byte entry into a local.
    if (sys::Pread(fd, &entry, sizeof entry, where) != static_cast<ssize_t>(sizeof entry)) {
      ThrowSyscall(env, "pread", errno, "pageOut");
    }
    if (entry & kPagemapSwapped) ++swapped;
    if (entry & kPagemapPresent) ++present;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("swapped", Napi::Number::New(env, static_cast<double>(swapped)));
  out.Set("present", Napi::Number::New(env, static_cast<double>(present)));
  return out;
}

// Reads [from, to) of the buffer: page-aligned, from <= to <= byteLength.
void ReadSubrange(Napi::Env env, const BufferRange& r, Napi::Value from_value, Napi::Value to_value, const char* what,
                  size_t* from, size_t* to) {
  *from = ReadSize(env, from_value, "fromBytes");
  *to = ReadSize(env, to_value, "toBytes");
  if (!IsPageAligned(*from) || !IsPageAligned(*to) || *from > *to || *to > r.length) {
    ThrowInvalid(env, std::string(what) + ": fromBytes and toBytes must be page-aligned with fromBytes <= toBytes <= the memory's length");
  }
}

// protectMemory(buffer, fromBytes, toBytes, accessible): makes [from, to) of
// a memory inaccessible (PROT_NONE) or read-write again. This is how a memory
// with a virtual size keeps the pages between its virtual and its physical
// size trapping exactly as V8's own guard pages do: a wasm access there
// faults, and V8's trap handler turns the fault into a RuntimeError.
// Never reaches outside [base, base + byteLength), so it can only give back
// permissions V8 itself granted (DESIGN invariant 1).
Napi::Value ProtectMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "protectMemory");
  size_t from = 0, to = 0;
  ReadSubrange(env, r, info[1], info[2], "protectMemory", &from, &to);
  if (!info[3].IsBoolean()) ThrowInvalid(env, "protectMemory: accessible must be a boolean");
  int prot = info[3].As<Napi::Boolean>().Value() ? (PROT_READ | PROT_WRITE) : PROT_NONE;
  // safe: a page-aligned range inside the live buffer (checked above); only
  // permissions change, pages and their contents stay.
  if (sys::Mprotect(r.base + from, to - from, prot) != 0) ThrowSyscall(env, "mprotect", errno, "protectMemory");
  return env.Undefined();
}

// releaseTail(buffer, fromBytes, mode, keepResidentBytes, maxResidentBytes?,
//             flags?, stats?: Float64Array) -> bytes zeroed
// Puts the grown tail [from, byteLength) of a memory with a virtual size back
// to "past the end": read-write while its private pages are zeroed (by the
// mode: restore-dirty keeps them resident, zeroed; madvise drops them), then
// PROT_NONE. Made read-write first because part of the tail may already be
// PROT_NONE (a tenant that did not grow back into all of it), and a reset
// must never write to a page it cannot write.
Napi::Value ReleaseTail(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "releaseTail");
  size_t from = ReadSize(env, info[1], "fromBytes");
  if (!IsPageAligned(from) || from == 0 || from >= r.length) {
    ThrowInvalid(env, "releaseTail: fromBytes must be page-aligned and strictly inside the memory (the memory must have grown)");
  }
  ResetRequest request = ReadResetRequest(env, info, 2, "releaseTail");
  if (request.mode == ResetMode::kTrackWrites) {
    ThrowInvalid(env, "releaseTail: the tail is never write-tracked; use restore-dirty, keep-resident or madvise");
  }
  uint8_t* tail = r.base + from;
  size_t length = r.length - from;
  // safe: [tail, tail + length) is the rest of the live buffer (checked above).
  if (sys::Mprotect(tail, length, PROT_READ | PROT_WRITE) != 0) ThrowSyscall(env, "mprotect", errno, "releaseTail");
  ResetStats stats = ResetRange(env, tail, length, nullptr, request, "releaseTail");
  // safe: the same range; its pages are zero now, and stay so while no one can reach them.
  if (sys::Mprotect(tail, length, PROT_NONE) != 0) ThrowSyscall(env, "mprotect", errno, "releaseTail");
  WriteResetStats(env, info[6], stats, "releaseTail");
  return Napi::Number::New(env, static_cast<double>(stats.bytes_copied));
}

// What keeps a memory's reservation alive while an alias of it exists.
struct AliasHold {
  Napi::ObjectReference memory;
};

// aliasMemory(memory: WebAssembly.Memory, lengthBytes) -> ArrayBuffer of the
// first lengthBytes of the memory. For memories with a virtual size: JS must
// see exactly the virtual size (the pages past it are PROT_NONE, and a JS
// read there would fault outside wasm code, which V8 does not turn into a
// trap). The alias holds the Memory (and with it V8's reservation) until it
// is collected; the pool detaches it (detachAlias) when the virtual size
// changes or the tenant leaves.
Napi::Value AliasMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowInvalid(env, "aliasMemory: expected a WebAssembly.Memory");
  Napi::Object memory = info[0].As<Napi::Object>();
  BufferRange r = ReadBuffer(env, memory.Get("buffer"), "aliasMemory");
  size_t length = ReadSize(env, info[1], "lengthBytes");
  if (length == 0 || length > r.length || !IsPageAligned(length)) {
    ThrowInvalid(env, "aliasMemory: lengthBytes must be page-aligned, non-zero and at most the memory's length");
  }
  auto* hold = new AliasHold{Napi::Persistent(memory)};
  // safe: [base, base + length) lies in the memory's read-write range now;
  // the buffer keeps the Memory (and so V8's reservation, whose base never
  // moves while the trap handler is on) alive through `hold`, and the pool
  // detaches it before that range stops being this tenant's to see.
  return Napi::ArrayBuffer::New(
      env, r.base, length, [](Napi::Env, void*, AliasHold* h) { delete h; }, hold);
}

// detachAlias(buffer): detaches an alias made by aliasMemory (a kept view then
// reads as length 0). Returns false when it was detached already — by someone
// who moved it (ArrayBuffer#transfer, a transfer list): the caller must then
// keep every page the moved buffer can reach readable.
Napi::Value DetachAlias(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) ThrowInvalid(env, "detachAlias: expected an ArrayBuffer made by aliasMemory");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.Data() == nullptr) return Napi::Boolean::New(env, false);
  buffer.Detach();
  return Napi::Boolean::New(env, true);
}

// memoryAddress(buffer) -> bigint base address (diagnostics and tests).
Napi::Value MemoryAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferRange r = ReadBuffer(env, info[0], "memoryAddress");
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(r.base)));
}

}  // namespace

void InitMemoryBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("mapImage", Napi::Function::New<MapImage>(env, "mapImage"));
  exports.Set("resetMemory", Napi::Function::New<ResetMemory>(env, "resetMemory"));
  exports.Set("residentPrivateBytes", Napi::Function::New<ResidentPrivateBytes>(env, "residentPrivateBytes"));
  exports.Set("pageOut", Napi::Function::New<PageOut>(env, "pageOut"));
  exports.Set("protectMemory", Napi::Function::New<ProtectMemory>(env, "protectMemory"));
  exports.Set("releaseTail", Napi::Function::New<ReleaseTail>(env, "releaseTail"));
  exports.Set("aliasMemory", Napi::Function::New<AliasMemory>(env, "aliasMemory"));
  exports.Set("detachAlias", Napi::Function::New<DetachAlias>(env, "detachAlias"));
  exports.Set("memoryAddress", Napi::Function::New<MemoryAddress>(env, "memoryAddress"));
}

}  // namespace cowpool
