#include "journal/frame_queue.h"

#include <cstring>

#include "journal/format.h"

namespace lplex::journal {
namespace {

constexpr uint16_t kWrapMarker = 0xFFFF;  // a length no record has (payloads end at 1785)

struct RecordHeader {
  int64_t timestamp_us;
  uint64_t seq;
  uint32_t pgn;
  uint16_t len;
  uint8_t priority;
  uint8_t source;
  uint8_t destination;
  uint8_t bus;
  uint8_t unused[6];
};
static_assert(sizeof(RecordHeader) == FrameQueue::kRecordHeaderSize);
static_assert(kMaxFrameDataLen < kWrapMarker);
static_assert(2 * (FrameQueue::kRecordHeaderSize + kMaxFrameDataLen + 7) <= FrameQueue::kMinCapacityBytes);

size_t RoundUp8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

FrameQueue::FrameQueue(size_t capacity_bytes)
    : capacity_(RoundUp8(capacity_bytes < kMinCapacityBytes ? kMinCapacityBytes : capacity_bytes)) {}

size_t FrameQueue::RecordSize(size_t data_len) { return kRecordHeaderSize + RoundUp8(data_len); }

bool FrameQueue::Push(const can::Frame& f) {
  if (f.data.size() > kMaxFrameDataLen) return false;
  const size_t need = RecordSize(f.data.size());
  uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  size_t pos = static_cast<size_t>(head % capacity_);
  const size_t contiguous = capacity_ - pos;
  const size_t pad = contiguous < need ? contiguous : 0;
  if (head + pad + need - tail > capacity_) return false;
  if (bytes_ == nullptr) {
    ring_.reset(new uint64_t[capacity_ / 8]);
    bytes_ = reinterpret_cast<uint8_t*>(ring_.get());
  }
  if (pad > 0) {
    if (pad >= kRecordHeaderSize) {
      RecordHeader wrap{};
      wrap.len = kWrapMarker;
      std::memcpy(bytes_ + pos, &wrap, sizeof(wrap));
    }
    head += pad;
    pos = 0;
  }
  RecordHeader h{};
  h.timestamp_us = f.timestamp_us;
  h.seq = f.seq;
  h.pgn = f.header.pgn;
  h.len = static_cast<uint16_t>(f.data.size());
  h.priority = f.header.priority;
  h.source = f.header.source;
  h.destination = f.header.destination;
  h.bus = f.bus;
  std::memcpy(bytes_ + pos, &h, sizeof(h));
  if (!f.data.empty()) std::memcpy(bytes_ + pos + kRecordHeaderSize, f.data.data(), f.data.size());
  // Counted before it is published, so popped_ never passes pushed_.
  pushed_.fetch_add(1, std::memory_order_release);
  head_.store(head + need, std::memory_order_release);
  return true;
}

bool FrameQueue::Peek(can::Frame* out) {
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  const uint64_t head = head_.load(std::memory_order_acquire);
  while (tail != head) {
    const size_t pos = static_cast<size_t>(tail % capacity_);
    const size_t contiguous = capacity_ - pos;
    RecordHeader h;
    if (contiguous >= kRecordHeaderSize) std::memcpy(&h, bytes_ + pos, sizeof(h));
    if (contiguous < kRecordHeaderSize || h.len == kWrapMarker) {
      tail += contiguous;  // the producer skipped the end of the ring
      tail_.store(tail, std::memory_order_release);
      continue;
    }
    out->timestamp_us = h.timestamp_us;
    out->seq = h.seq;
    out->header = can::CanHeader{h.priority, h.pgn, h.source, h.destination};
    out->bus = h.bus;
    out->data = std::span<const uint8_t>(bytes_ + pos + kRecordHeaderSize, h.len);
    peeked_size_ = RecordSize(h.len);
    return true;
  }
  return false;
}

void FrameQueue::Pop() {
  if (peeked_size_ == 0) return;
  tail_.store(tail_.load(std::memory_order_relaxed) + peeked_size_, std::memory_order_release);
  popped_.fetch_add(1, std::memory_order_release);
  peeked_size_ = 0;
}

}  // namespace lplex::journal
