// JsonRef: a reference-counted, immutable-once-published JSON text.
//
// The broker serializes a frame once and hands the same bytes to the ring,
// every ephemeral subscriber and every consumer (DESIGN.md: "JSON serialized
// once and shared"). A JsonRef is one pointer; copying it bumps an atomic
// count, never the text.
//
// Memory: the count, the length and the text live in ONE heap block sized
// to the text (8 bytes of header; rounded so that malloc's 16-byte chunk has
// no slack), not a std::string whose capacity doubles while it is appended
// to. The ring holds 65,536 of these, so each byte per buffer is 64 KiB of
// the server's RSS (docs/broker.md, "Memory bounds").
//
// Reuse: only the owner of the one reference (unique()) may rewrite a
// buffer, and only through JsonPool. unique() loads the count with acquire
// order, and every release decrements with release order, so a reader's
// last use of the text happens-before the writer's rewrite (no fences;
// TSan-clean).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/json_string.h"

namespace lplex::broker {

class JsonPool;

class JsonRef {
 public:
  JsonRef() = default;
  // A new buffer holding `text` (one reference), sized to it.
  static JsonRef Make(std::string_view text = {});

  JsonRef(const JsonRef& o) : p_(o.p_) {
    if (p_) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  JsonRef(JsonRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  JsonRef& operator=(JsonRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~JsonRef() { Reset(); }

  void Reset() {
    if (p_ && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(p_);
    p_ = nullptr;
  }
  void swap(JsonRef& o) noexcept { std::swap(p_, o.p_); }

  explicit operator bool() const { return p_ != nullptr; }
  // The text ("" for an empty ref).
  std::string_view view() const { return p_ ? std::string_view(p_->text(), p_->size) : std::string_view(); }
  // Bytes of text the buffer has room for (0 for an empty ref): the text's
  // length rounded up to the allocation size class, never the largest text
  // the buffer once held.
  size_t capacity() const { return p_ ? BlockSize(p_->size) - sizeof(Buf) : 0; }

  // True when this is the only reference (no other thread can reach the
  // buffer any more).
  bool unique() const { return p_ && p_->refs.load(std::memory_order_acquire) == 1; }

 private:
  friend class JsonPool;
  // The text follows the header in the same block. No capacity field: a
  // buffer only ever holds texts of one size class, so the block size
  // follows from the text's length (BlockSize(size)).
  struct Buf {
    std::atomic<uint32_t> refs{1};
    uint32_t size = 0;
    char* text() { return reinterpret_cast<char*>(this + 1); }
    const char* text() const { return reinterpret_cast<const char*>(this + 1); }
  };
  static_assert(sizeof(Buf) == 8);

  // The heap block (header + text) for a text of `len` bytes: the smallest
  // size that is 8 less than a multiple of 16, so glibc's chunk (block + 8
  // bytes of its own header, in 16-byte steps) carries no slack; at least
  // 24 (malloc's smallest chunk), which leaves room for JsonPool's link.
  static constexpr size_t BlockSize(size_t len) {
    const size_t block = ((len + sizeof(Buf) + 8 + 15) & ~size_t{15}) - 8;
    return block < 24 ? 24 : block;
  }
  static Buf* Allocate(size_t len);  // BlockSize(len) bytes: one reference, size 0
  static void Free(Buf* b);

  explicit JsonRef(Buf* p) : p_(p) {}
  Buf* p_ = nullptr;
};

// JsonPool: recycles JSON buffers of one writer thread (the broker's owner)
// by size class, so that once warm a frame's JSON is copied into a buffer
// some older frame left, without a malloc and free per frame, and each
// buffer stays sized to its own text.
//
// Give() takes back a ref; when it was the last reference the buffer joins
// the free list of its class (up to kMaxPooledBytes in all, beyond which it
// is freed). Take() copies a text into a buffer of that text's class from
// the pool, or a new one. Not thread-safe: one thread uses a pool.
class JsonPool {
 public:
  // Texts longer than this always get a buffer of their own (large
  // fast-packet payloads are rare).
  static constexpr size_t kMaxPooledText = 1000;
  // Bytes the free lists may hold in all (about 450 frame-sized buffers).
  static constexpr size_t kMaxPooledBytes = 64 << 10;

  JsonPool() = default;
  ~JsonPool() { Clear(); }
  JsonPool(const JsonPool&) = delete;
  JsonPool& operator=(const JsonPool&) = delete;

  // A unique ref holding exactly `text`.
  JsonRef Take(std::string_view text);
  // Releases `ref`; keeps its buffer when `ref` was the last reference.
  void Give(JsonRef&& ref);
  // Frees every pooled buffer.
  void Clear();
  size_t pooled_bytes() const { return pooled_bytes_; }

 private:
  static constexpr size_t kClasses = JsonRef::BlockSize(kMaxPooledText) / 16 + 1;
  static size_t ClassOf(size_t block_size) { return block_size / 16; }

  JsonRef::Buf* free_[kClasses] = {};  // singly linked through the text bytes
  size_t pooled_bytes_ = 0;
};

// Go-compatible JSON string literals (core/json_string.h), used throughout the broker.
using lplex::AppendJsonString;

}  // namespace lplex::broker
