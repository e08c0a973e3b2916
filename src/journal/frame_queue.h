// FrameQueue: a bounded single-producer / single-consumer queue of frame
// copies, stored back to back in one byte ring.
//
// Why a byte ring and not an array of frame slots: a slot must hold the
// largest payload the journal takes (1785 bytes), while almost every frame on
// a bus has 8. Records of 32 header bytes + the payload rounded up to 8 make a
// 1 MiB ring hold about 26,000 ordinary frames (the reference's journal
// channel holds 16,384), where 1,785-byte slots would hold 570.
//
// Record: a 32-byte header (timestamp, seq, PGN, length, priority, source,
// destination, bus) and the payload, padded to a multiple of 8. A record never
// wraps: when it does not fit before the end of the ring, the rest of the ring
// is skipped (a wrap marker, or nothing when fewer than 32 bytes remain).
//
// Threads: Push from one producer thread at a time; Peek/Pop from one
// consumer thread at a time; the counters from anywhere. Nothing blocks and,
// once the ring exists, nothing allocates. The ring is allocated by the first
// Push (an idle queue costs its few fields only) and freed with the queue.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "can/frame.h"

namespace lplex::journal {

class FrameQueue {
 public:
  // Header bytes per record; records are multiples of 8 bytes.
  static constexpr size_t kRecordHeaderSize = 32;
  // Smallest ring: two of the largest records, so that one always fits
  // into an empty ring wherever the previous record ended.
  static constexpr size_t kMinCapacityBytes = 4096;

  // `capacity_bytes` is rounded up to a multiple of 8 and to at least
  // kMinCapacityBytes.
  explicit FrameQueue(size_t capacity_bytes);
  FrameQueue(const FrameQueue&) = delete;
  FrameQueue& operator=(const FrameQueue&) = delete;

  // Ring bytes one frame with `data_len` payload bytes takes.
  static size_t RecordSize(size_t data_len);

  // Producer. Copies the frame (data included) into the ring. False, with
  // nothing written, when the ring has no room for it now or when its payload
  // is longer than kMaxFrameDataLen (it could never be journaled).
  bool Push(const can::Frame& frame);

  // Consumer. Points *out at the oldest frame; out->data points into the
  // ring and stays valid until Pop(). False when the queue is empty.
  bool Peek(can::Frame* out);
  // Consumer. Removes the frame the last successful Peek returned.
  void Pop();

  // Frames waiting (exact when the producer and consumer are idle).
  // (The consumer's counter is read first: it never passes the producer's.)
  uint64_t size() const {
    const uint64_t popped = popped_.load(std::memory_order_acquire);
    return pushed_.load(std::memory_order_acquire) - popped;
  }
  // Ring bytes in use, wrap padding included.
  uint64_t bytes_used() const {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    return head_.load(std::memory_order_acquire) - tail;
  }
  size_t capacity_bytes() const { return capacity_; }

 private:
  const size_t capacity_;
  std::unique_ptr<uint64_t[]> ring_;  // capacity_ / 8 words; 8-byte aligned records
  uint8_t* bytes_ = nullptr;          // ring_ as bytes; set by the first Push

  // Monotonic byte positions; the ring offset is position % capacity_.
  std::atomic<uint64_t> head_{0};  // written by the producer
  std::atomic<uint64_t> tail_{0};  // written by the consumer
  std::atomic<uint64_t> pushed_{0};
  std::atomic<uint64_t> popped_{0};
  size_t peeked_size_ = 0;  // consumer only: size of the record Peek returned
};

}  // namespace lplex::journal
