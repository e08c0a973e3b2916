#include "broker/ring.h"

namespace lplex::broker {

Ring::Ring(size_t capacity, uint64_t initial_head)
    : capacity_(capacity),
      mask_(capacity - 1),
      head_(initial_head == 0 ? 1 : initial_head),
      tail_(initial_head == 0 ? 1 : initial_head) {}

RingEntry* Ring::SlotFor(uint64_t seq) {
  const uint64_t h = head_.load(std::memory_order_relaxed);
  if (seq + capacity_ < h) return nullptr;
  if (entries_.empty()) entries_.resize(capacity_);
  return &entries_[seq & mask_];
}

void Ring::Publish(uint64_t seq) {
  uint64_t h = head_.load(std::memory_order_relaxed);
  if (seq + 1 > h) h = seq + 1;
  uint64_t t = tail_.load(std::memory_order_relaxed);
  if (h - t > capacity_) t = h - capacity_;
  // A replica frame may arrive below the tail (after a Release): extend it
  // down so the frame is readable, as long as it stays within capacity.
  if (seq < t && h - seq <= capacity_) t = seq;
  tail_.store(t, std::memory_order_release);
  head_.store(h, std::memory_order_release);
}

const RingEntry* Ring::Get(uint64_t seq) const {
  if (entries_.empty() || seq < tail() || seq >= head()) return nullptr;
  return &entries_[seq & mask_];
}

void Ring::Release() {
  std::vector<RingEntry>().swap(entries_);
  tail_.store(head_.load(std::memory_order_relaxed), std::memory_order_release);
}

}  // namespace lplex::broker
