#include "broker_loop.h"

#include <algorithm>
#include <chrono>

#include "core/thread_name.h"

namespace lplex::server {

struct BrokerLoop::Inbox {
  explicit Inbox(size_t bytes, bool lossless_) : queue(bytes), lossless(lossless_) {}
  journal::FrameQueue queue;
  const bool lossless;
};

BrokerLoop::BrokerLoop(std::shared_ptr<broker::Broker> broker, std::vector<sources::FrameSource*> sources,
                       BrokerLoopOptions options)
    : broker_(std::move(broker)),
      sources_(std::move(sources)),
      opt_(std::move(options)),
      clock_(opt_.clock != nullptr ? opt_.clock : Clock::Real()),
      log_(opt_.log != nullptr ? opt_.log : Logger::Default()) {
  for (size_t i = 0; i < sources_.size(); ++i) {
    const bool lossless = i < opt_.lossless.size() && opt_.lossless[i];
    inboxes_.push_back(std::make_unique<Inbox>(opt_.queue_bytes, lossless));
  }
}

BrokerLoop::~BrokerLoop() {
  released_.store(true);
  stopping_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

sources::FrameSink BrokerLoop::SinkFor(size_t i) {
  Inbox* inbox = inboxes_.at(i).get();
  return [this, inbox](const can::Frame& frame) { Push(*inbox, frame); };
}

void BrokerLoop::Push(Inbox& inbox, const can::Frame& frame) {
  if (!inbox.queue.Push(frame)) {
    if (!inbox.lossless) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // A replay waits for room instead of losing frames; the owner drains.
    while (!inbox.queue.Push(frame)) {
      if (released_.load(std::memory_order_acquire)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        cv_.notify_one();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  // The owner drains every drain_interval_us by itself; wake it early only
  // when this queue is filling up (a burst that could overflow it).
  if (owner_waiting_.load(std::memory_order_relaxed) &&
      inbox.queue.bytes_used() > inbox.queue.capacity_bytes() / 4) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_one();
  }
}

void BrokerLoop::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    SetCurrentThreadName("lplex-broker");
    Run();
  });
}

bool BrokerLoop::AllEmpty() const {
  return std::all_of(inboxes_.begin(), inboxes_.end(), [](const auto& in) { return in->queue.size() == 0; });
}

size_t BrokerLoop::IngestSome(size_t max) {
  size_t n = 0;
  bool progress = true;
  // Round robin, a batch per inbox, so one busy source cannot starve another.
  while (n < max && progress) {
    progress = false;
    for (auto& inbox : inboxes_) {
      for (size_t k = 0; k < 256 && n < max; ++k) {
        can::Frame f;
        if (!inbox->queue.Peek(&f)) break;
        if (inbox->lossless && opt_.backlog_full && (n % 64) == 0 && opt_.backlog_full()) {
          // The journal is behind: let it catch up rather than drop frames.
          const int64_t give_up = clock_->MonotonicMicros() + opt_.lossless_wait_us;
          while (opt_.backlog_full() && clock_->MonotonicMicros() < give_up) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        broker_->Ingest(f);
        inbox->queue.Pop();
        ++n;
        progress = true;
      }
    }
  }
  if (n > 0) {
    ingested_.fetch_add(n, std::memory_order_relaxed);
    last_ingest_us_.store(clock_->MonotonicMicros(), std::memory_order_relaxed);
  }
  return n;
}

void BrokerLoop::SendTx() {
  broker::TxFrame tx;
  while (broker_->tx().TryPop(&tx)) {
    sources::FrameSource* src = tx.bus < sources_.size() ? sources_[tx.bus] : nullptr;
    if (src == nullptr || !src->can_send()) {
      tx_failed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    can::Frame f;
    f.timestamp_us = clock_->NowMicros();
    f.header = tx.header;
    f.data = tx.data;
    f.bus = tx.bus;
    const Status s = src->Send(f);
    if (s.ok()) {
      tx_sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      const uint64_t failed = tx_failed_.fetch_add(1, std::memory_order_relaxed);
      // The first failure and then one in a thousand: a dead bus writer must
      // not flood the log.
      if (failed % 1000 == 0) log_->Warn("broker: sending to {} failed: {}", src->uri(), s.ToString());
    }
  }
}

void BrokerLoop::Run() {
  broker_->Start();
  int64_t next_tick = clock_->MonotonicMicros();
  while (!stopping_.load(std::memory_order_acquire)) {
    if (opt_.heartbeat) opt_.heartbeat();
    const size_t n = IngestSome(4096);
    SendTx();
    const int64_t now = clock_->MonotonicMicros();
    if (now >= next_tick) {
      broker_->Tick(now);
      next_tick = now + opt_.tick_interval_us;
    }
    if (n > 0) continue;
    std::unique_lock<std::mutex> lock(mu_);
    owner_waiting_.store(true);
    if (AllEmpty() && !stopping_.load(std::memory_order_acquire)) {
      // Sources do not wake us per frame: sleep until the next drain or
      // tick. Short waits also bound the latency of /send (the tx queue has
      // no hook to wake us) and keep the watchdog fed.
      const int64_t wait_us = std::clamp<int64_t>(next_tick - clock_->MonotonicMicros(), 500,
                                                  std::max<int64_t>(500, opt_.drain_interval_us));
      cv_.wait_for(lock, std::chrono::microseconds(wait_us));
    }
    owner_waiting_.store(false);
  }
}

uint64_t BrokerLoop::DrainAndStop() {
  released_.store(true, std::memory_order_release);
  stopping_.store(true, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // The owner thread is gone: this thread is the owner now.
  uint64_t drained = 0;
  for (;;) {
    const size_t n = IngestSome(1 << 16);
    if (n == 0) break;
    drained += n;
  }
  broker_->Tick(clock_->MonotonicMicros());
  return drained;
}

BrokerLoopStats BrokerLoop::stats() const {
  BrokerLoopStats s;
  s.frames_ingested = ingested_.load(std::memory_order_relaxed);
  s.frames_dropped = dropped_.load(std::memory_order_relaxed);
  s.tx_sent = tx_sent_.load(std::memory_order_relaxed);
  s.tx_failed = tx_failed_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace lplex::server
