// The two bounded queues at the broker's edges.
//
//  - SubscriberQueue: frames and device events for one ephemeral subscriber
//    (GET /events). The broker pushes shared JSON buffers without blocking;
//    when the queue is full the message is dropped for that subscriber alone
//    and counted. Memory per subscriber is bounded by its capacity.
//  - TxQueue: frames for the bus writer (discovery requests, /send). Pushes
//    never block; a full queue refuses and counts the drop.
//
// Both are safe for one producer and any number of consumers; waits use a
// real condition variable with a timeout (the one place threads meet).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "broker/filter.h"
#include "broker/json_buffer.h"
#include "can/can_id.h"

namespace lplex::broker {

enum class PopResult { kMessage, kTimeout, kClosed };

class SubscriberQueue {
 public:
  // `on_ready` (may be empty) is called by the pushing thread when the queue
  // goes from empty to non-empty and on Close; it must not block or call
  // back into the broker (an HTTP layer posts a wake-up to its executor).
  // `decoded`: the subscriber asked for ?decode=true, so the broker pushes
  // it the frames' decoded JSON (docs/http.md) instead of the plain one.
  SubscriberQueue(FilterSpec filter, size_t capacity, std::function<void()> on_ready, bool decoded = false);

  const FilterSpec& filter() const { return filter_; }
  bool decoded() const { return decoded_; }

  // Producer: false (and dropped() + 1) when full or closed.
  bool Push(const JsonRef& msg);
  // Consumer: the oldest message, without waiting.
  bool TryPop(JsonRef* out);
  // Consumer: appends up to `max` of the oldest messages to *out, under one
  // lock; returns how many.
  size_t TryPopMany(std::vector<JsonRef>* out, size_t max);
  // Consumer: waits up to `timeout` for a message. kClosed once closed and
  // drained.
  PopResult Pop(JsonRef* out, std::chrono::milliseconds timeout);

  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  size_t size() const;

  // Wake-only mode, for a reader that takes the frames from the ring (a
  // session's Consumer) and only needs to hear that there are new ones:
  // from now on Push keeps nothing and never drops, it only calls on_ready,
  // once until the consumer re-arms it by a TryPop/TryPopMany that finds the
  // queue empty. Messages queued before the switch are still popped.
  void SetWakeOnly();

 private:
  const FilterSpec filter_;
  const bool decoded_;
  const std::function<void()> on_ready_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<JsonRef> buf_;  // fixed capacity, circular
  size_t first_ = 0;
  size_t count_ = 0;
  bool waiting_ = false;
  bool wake_only_ = false;
  bool armed_ = true;  // wake-only: the next Push calls on_ready
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> dropped_{0};
};

// A frame to put on the bus.
struct TxFrame {
  uint8_t bus = 0;
  can::CanHeader header;
  std::vector<uint8_t> data;
};

class TxQueue {
 public:
  explicit TxQueue(size_t capacity) : capacity_(capacity) {}

  // False (and dropped() + 1) when full.
  bool TryPush(TxFrame f);
  bool TryPop(TxFrame* out);
  // Waits up to `timeout` (the bus writer's loop). kClosed after Close.
  PopResult Pop(TxFrame* out, std::chrono::milliseconds timeout);
  void Close();

  size_t size() const;
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TxFrame> q_;
  bool closed_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> pushed_{0};
};

}  // namespace lplex::broker
