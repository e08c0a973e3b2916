// JsonRef: a reference-counted, immutable-once-published JSON text.
//
// The broker serializes a frame once and hands the same bytes to the ring,
// every ephemeral subscriber and every consumer (DESIGN.md: "JSON serialized
// once and shared"). A JsonRef is one pointer; copying it bumps an atomic
// count, never the text.
//
// Reuse: the writer may rewrite a buffer in place only while it holds the
// one reference (unique()). unique() loads the count with acquire order,
// and every release decrements with release order, so a reader's last use of
// the text happens-before the writer's rewrite (no fences; TSan-clean).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace lplex::broker {

class JsonRef {
 public:
  JsonRef() = default;
  // A new buffer holding `text` (one reference).
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
    if (p_ && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
    p_ = nullptr;
  }
  void swap(JsonRef& o) noexcept { std::swap(p_, o.p_); }

  explicit operator bool() const { return p_ != nullptr; }
  // The text ("" for an empty ref).
  std::string_view view() const { return p_ ? std::string_view(p_->text) : std::string_view(); }

  // True when this is the only reference: the caller may then use
  // mutable_text() to rewrite it (capacity is kept, so no allocation).
  bool unique() const { return p_ && p_->refs.load(std::memory_order_acquire) == 1; }
  // Only while unique() holds and before the ref is shared again.
  std::string* mutable_text() { return &p_->text; }

 private:
  struct Buf {
    std::atomic<uint32_t> refs{1};
    std::string text;
  };
  explicit JsonRef(Buf* p) : p_(p) {}
  Buf* p_ = nullptr;
};

// Appends `s` as a JSON string literal (quotes included) the way Go's
// encoding/json writes it, so bytes match the reference: `"` `\` \n \r \t
// \b \f as short escapes, other control bytes as \u00XX, `<` `>` `&` as
// \u003c \u003e \u0026, U+2028/U+2029 escaped, invalid UTF-8 as \ufffd.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace lplex::broker
