// Helpers for the live-source tests: a sink that keeps what it is given.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "can/frame.h"
#include "core/status.h"
#include "sources/frame_source.h"

namespace lplex::sources::testing {

// A frame with its bytes copied out of the source's buffer.
struct OwnedFrame {
  int64_t ts = 0;
  can::CanHeader header;
  std::vector<uint8_t> data;
  uint64_t seq = 0;
  uint8_t bus = 0;
};

// Collects frames (those `keep` accepts, all by default) and the end status.
class Collector {
 public:
  explicit Collector(std::function<bool(const can::Frame&)> keep = nullptr) : keep_(std::move(keep)) {}

  FrameSink Sink() {
    return [this](const can::Frame& f) {
      if (keep_ && !keep_(f)) return;
      std::lock_guard lock(mu_);
      frames_.push_back({f.timestamp_us, f.header, {f.data.begin(), f.data.end()}, f.seq, f.bus});
      cv_.notify_all();
    };
  }
  EndHandler OnEnd() {
    return [this](const Status& s) {
      std::lock_guard lock(mu_);
      end_ = s;
      cv_.notify_all();
    };
  }

  // Waits (up to 20 s, a bound for a broken test, not a pacing sleep) until
  // `done` holds over the frames so far. Returns whether it did.
  bool WaitFor(const std::function<bool(const std::vector<OwnedFrame>&)>& done) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(frames_); });
  }
  bool WaitForCount(size_t n) {
    return WaitFor([n](const std::vector<OwnedFrame>& v) { return v.size() >= n; });
  }
  // Waits for the source's end; nullopt when it did not end within 60 s.
  std::optional<Status> WaitForEnd() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return end_.has_value(); });
    return end_;
  }

  std::vector<OwnedFrame> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }

 private:
  std::function<bool(const can::Frame&)> keep_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<OwnedFrame> frames_;
  std::optional<Status> end_;
};

}  // namespace lplex::sources::testing
