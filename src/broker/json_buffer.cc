#include "broker/json_buffer.h"

#include <cstring>
#include <new>

namespace lplex::broker {

JsonRef::Buf* JsonRef::Allocate(size_t len) {
  const size_t block = BlockSize(len);
  return new (::operator new(block)) Buf;
}

void JsonRef::Free(Buf* b) {
  b->~Buf();
  ::operator delete(b);
}

JsonRef JsonRef::Make(std::string_view text) {
  Buf* b = Allocate(text.size());
  if (!text.empty()) std::memcpy(b->text(), text.data(), text.size());
  b->size = static_cast<uint32_t>(text.size());
  return JsonRef(b);
}

// ---- JsonPool ----------------------------------------------------------------

JsonRef JsonPool::Take(std::string_view text) {
  const size_t block = JsonRef::BlockSize(text.size());
  if (block > JsonRef::BlockSize(kMaxPooledText)) return JsonRef::Make(text);
  JsonRef::Buf*& head = free_[ClassOf(block)];
  JsonRef::Buf* b = head;
  if (b == nullptr) return JsonRef::Make(text);
  std::memcpy(&head, b->text(), sizeof head);  // pop
  pooled_bytes_ -= block;
  b->refs.store(1, std::memory_order_relaxed);
  if (!text.empty()) std::memcpy(b->text(), text.data(), text.size());
  b->size = static_cast<uint32_t>(text.size());
  return JsonRef(b);
}

void JsonPool::Give(JsonRef&& ref) {
  JsonRef::Buf* b = ref.p_;
  if (b == nullptr) return;
  const size_t block = JsonRef::BlockSize(b->size);
  if (block > JsonRef::BlockSize(kMaxPooledText) || pooled_bytes_ + block > kMaxPooledBytes || !ref.unique()) {
    ref.Reset();
    return;
  }
  // The last reference: no other thread can reach b any more.
  ref.p_ = nullptr;
  JsonRef::Buf*& head = free_[ClassOf(block)];
  std::memcpy(b->text(), &head, sizeof head);  // push
  head = b;
  pooled_bytes_ += block;
}

void JsonPool::Clear() {
  for (JsonRef::Buf*& head : free_) {
    while (head != nullptr) {
      JsonRef::Buf* b = head;
      std::memcpy(&head, b->text(), sizeof head);
      JsonRef::Free(b);
    }
  }
  pooled_bytes_ = 0;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t n = Utf8Len(s, i);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out->append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, n));
    }
    i += n;
  }
  out->push_back('"');
}

}  // namespace lplex::broker
