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

}  // namespace lplex::broker
