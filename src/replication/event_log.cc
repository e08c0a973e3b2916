#include "replication/event_log.h"

#include <fmt/format.h>

#include <algorithm>

namespace lplex::replication {

namespace {

// The ring's first allocation: a stream records a live_start and, a little
// later, a checkpoint or a stop; 16 entries (640 bytes) covers a few
// reconnects before the first doubling.
constexpr size_t kInitialEntries = 16;

}  // namespace

void EventLog::RecordLiveStart(int64_t time_us, uint64_t boat_head_seq) {
  Record(Entry{time_us, boat_head_seq, 0, 0, Type::kLiveStart, 0});
}

void EventLog::RecordLiveStop(int64_t time_us, uint64_t frames_received, LiveStopReason reason, uint64_t lag) {
  Record(Entry{time_us, frames_received, lag, 0, Type::kLiveStop, static_cast<uint8_t>(reason)});
}

void EventLog::RecordBackfillStart(int64_t time_us, uint64_t holes) {
  Record(Entry{time_us, holes, 0, 0, Type::kBackfillStart, 0});
}

void EventLog::RecordBackfillStop(int64_t time_us, uint64_t blocks_received) {
  Record(Entry{time_us, blocks_received, 0, 0, Type::kBackfillStop, 0});
}

void EventLog::RecordBlockReceived(int64_t time_us, uint64_t base_seq, uint32_t frame_count, uint64_t bytes,
                                   bool compressed) {
  Record(Entry{time_us, base_seq, bytes, frame_count, Type::kBlockReceived, static_cast<uint8_t>(compressed)});
}

void EventLog::RecordCheckpoint(int64_t time_us, uint64_t frames_received, uint64_t cursor, uint64_t boat_head_seq) {
  Record(Entry{time_us, frames_received, cursor, boat_head_seq, Type::kCheckpoint, 0});
}

void EventLog::Record(const Entry& e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ring_.size() < kCapacity) {
    // Grow by doubling, but never past kCapacity: std::vector's own growth
    // factor is unspecified and could overshoot.
    if (ring_.size() == ring_.capacity()) {
      ring_.reserve(std::min(kCapacity, std::max(kInitialEntries, ring_.capacity() * 2)));
    }
    ring_.push_back(e);
  } else {
    ring_[next_] = e;
  }
  next_ = (next_ + 1) % kCapacity;
}

std::vector<EventLogEntry> EventLog::Recent(size_t n) const {
  std::vector<Entry> picked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t size = ring_.size();
    const size_t count = std::min({n, kCapacity, size});
    picked.reserve(count);
    // The newest is just before next_; while the ring is still growing,
    // next_ == size, so the same arithmetic holds.
    for (size_t i = 0; i < count; ++i) picked.push_back(ring_[(next_ + size - 1 - i) % size]);
  }
  std::vector<EventLogEntry> out;
  out.reserve(picked.size());
  for (const Entry& e : picked) out.push_back(Render(e));
  return out;
}

size_t EventLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.size();
}

size_t EventLog::allocated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.capacity();
}

// Keys in alphabetical order: the Go reference marshals a map, and Go's
// encoder sorts map keys, so this is its exact text.
EventLogEntry EventLog::Render(const Entry& e) {
  EventLogEntry out;
  out.time_us = e.time_us;
  switch (e.type) {
    case Type::kLiveStart:
      out.type = "live_start";
      out.detail_json = fmt::format(R"({{"boat_head_seq":{}}})", e.a);
      break;
    case Type::kLiveStop:
      out.type = "live_stop";
      switch (static_cast<LiveStopReason>(e.flag)) {
        case LiveStopReason::kRateLimitExceeded:
          out.detail_json = fmt::format(R"({{"frames_received":{},"reason":"rate_limit_exceeded"}})", e.a);
          break;
        case LiveStopReason::kCloudLagExceeded:
          out.detail_json = fmt::format(R"({{"frames_received":{},"lag":{},"reason":"cloud_lag_exceeded"}})", e.a, e.b);
          break;
        case LiveStopReason::kEnded:
        default:
          out.detail_json = fmt::format(R"({{"frames_received":{}}})", e.a);
          break;
      }
      break;
    case Type::kBackfillStart:
      out.type = "backfill_start";
      out.detail_json = fmt::format(R"({{"holes":{}}})", e.a);
      break;
    case Type::kBackfillStop:
      out.type = "backfill_stop";
      out.detail_json = fmt::format(R"({{"blocks_received":{}}})", e.a);
      break;
    case Type::kBlockReceived:
      out.type = "block_received";
      out.detail_json = fmt::format(R"({{"base_seq":{},"bytes":{},"compressed":{},"frame_count":{}}})", e.a, e.b,
                                    e.flag != 0 ? "true" : "false", e.c);
      break;
    case Type::kCheckpoint:
      out.type = "checkpoint";
      out.detail_json = fmt::format(R"({{"boat_head_seq":{},"cursor":{},"frames_received":{}}})", e.c, e.b, e.a);
      break;
  }
  return out;
}

}  // namespace lplex::replication
