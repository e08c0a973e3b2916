#include "broker/queues.h"

#include <algorithm>

namespace lplex::broker {

SubscriberQueue::SubscriberQueue(FilterSpec filter, size_t capacity, std::function<void()> on_ready, bool decoded)
    : filter_(std::move(filter)), decoded_(decoded), on_ready_(std::move(on_ready)), buf_(capacity == 0 ? 1 : capacity) {}

bool SubscriberQueue::Push(const JsonRef& msg) {
  bool wake = false;
  bool notify_cv = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (wake_only_ && !closed_.load(std::memory_order_relaxed)) {
      wake = armed_;
      armed_ = false;
    } else if (closed_.load(std::memory_order_relaxed) || count_ == buf_.size()) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    } else {
      buf_[(first_ + count_) % buf_.size()] = msg;
      wake = count_ == 0;
      ++count_;
      notify_cv = waiting_;
    }
  }
  if (notify_cv) cv_.notify_one();
  if (wake && on_ready_) on_ready_();
  return true;
}

void SubscriberQueue::SetWakeOnly() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_only_ = true;
}

bool SubscriberQueue::TryPop(JsonRef* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) {
    armed_ = true;
    return false;
  }
  *out = std::move(buf_[first_]);
  first_ = (first_ + 1) % buf_.size();
  --count_;
  return true;
}

size_t SubscriberQueue::TryPopMany(std::vector<JsonRef>* out, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) armed_ = true;
  const size_t n = std::min(max, count_);
  for (size_t i = 0; i < n; ++i) {
    out->push_back(std::move(buf_[first_]));
    first_ = (first_ + 1) % buf_.size();
  }
  count_ -= n;
  return n;
}

PopResult SubscriberQueue::Pop(JsonRef* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  waiting_ = true;
  cv_.wait_for(lock, timeout, [&] { return count_ > 0 || closed_.load(std::memory_order_relaxed); });
  waiting_ = false;
  if (count_ == 0) return closed_.load(std::memory_order_relaxed) ? PopResult::kClosed : PopResult::kTimeout;
  *out = std::move(buf_[first_]);
  first_ = (first_ + 1) % buf_.size();
  --count_;
  return PopResult::kMessage;
}

void SubscriberQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.exchange(true)) return;
  }
  cv_.notify_all();
  if (on_ready_) on_ready_();
}

size_t SubscriberQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

bool TxQueue::TryPush(TxFrame f) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || q_.size() >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    q_.push_back(std::move(f));
  }
  pushed_.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
  return true;
}

bool TxQueue::TryPop(TxFrame* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (q_.empty()) return false;
  *out = std::move(q_.front());
  q_.pop_front();
  return true;
}

PopResult TxQueue::Pop(TxFrame* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !q_.empty() || closed_; });
  if (q_.empty()) return closed_ ? PopResult::kClosed : PopResult::kTimeout;
  *out = std::move(q_.front());
  q_.pop_front();
  return PopResult::kMessage;
}

void TxQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

size_t TxQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return q_.size();
}

}  // namespace lplex::broker
