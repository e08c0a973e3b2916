#include "sources/frame_source.h"

#include <algorithm>
#include <chrono>

#include "core/thread_name.h"

namespace lplex::sources {
namespace {

class RealPacer final : public Pacer {
 public:
  explicit RealPacer(Clock* clock) : clock_(clock) {}

  bool WaitUntil(int64_t deadline_us) override {
    std::unique_lock lock(mu_);
    for (;;) {
      if (woken_) {
        woken_ = false;
        return false;
      }
      const int64_t left = deadline_us - clock_->NowMicros();
      if (left <= 0) return true;
      // Re-read the clock now and then: it is a wall clock and may be stepped.
      cv_.wait_for(lock, std::chrono::microseconds(std::min<int64_t>(left, 100'000)));
    }
  }

  void Wake() override {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  Clock* clock() const override { return clock_; }

 private:
  Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

class FakeClockPacer final : public Pacer {
 public:
  explicit FakeClockPacer(FakeClock* clock) : clock_(clock) {}

  bool WaitUntil(int64_t deadline_us) override {
    if (woken_.exchange(false)) return false;
    if (clock_->NowMicros() < deadline_us) clock_->Set(deadline_us);
    return true;
  }
  void Wake() override { woken_.store(true); }
  Clock* clock() const override { return clock_; }

 private:
  FakeClock* clock_;
  std::atomic<bool> woken_{false};
};

}  // namespace

std::unique_ptr<Pacer> NewRealPacer(Clock* clock) { return std::make_unique<RealPacer>(clock); }
std::unique_ptr<Pacer> NewFakeClockPacer(FakeClock* clock) { return std::make_unique<FakeClockPacer>(clock); }

Status FrameSource::Send(const can::Frame&) {
  return Status::Unsupported("source " + uri_ + " cannot send (sending works on socketcan:, ydraw+tcp:// and sim:)");
}

ThreadedSource::ThreadedSource(std::string uri, uint8_t bus, std::unique_ptr<Pacer> pacer)
    : FrameSource(std::move(uri), bus), pacer_(std::move(pacer)) {}

ThreadedSource::~ThreadedSource() { Stop(); }

Status ThreadedSource::Start(FrameSink sink, EndHandler on_end) {
  if (started_) return Status::InvalidArgument("source " + uri() + " started twice");
  LPLEX_RETURN_IF_ERROR(Open());
  sink_ = std::move(sink);
  on_end_ = std::move(on_end);
  started_ = true;
  thread_ = std::thread([this] {
    SetCurrentThreadName("lplex-src-" + uri());
    Status s = Run();
    if (!stopping() && on_end_) on_end_(s);
  });
  return Status::Ok();
}

void ThreadedSource::Stop() {
  std::lock_guard lock(stop_mu_);
  stopping_.store(true, std::memory_order_release);
  if (pacer_) pacer_->Wake();
  Interrupt();
  if (thread_.joinable()) thread_.join();
}

void ThreadedSource::Deliver(const can::Frame& frame) {
  can::Frame f = frame;
  f.bus = bus();
  f.seq = 0;
  if (sink_) sink_(f);
  delivered_.fetch_add(1, std::memory_order_relaxed);
}

bool BusAssembler::Process(const can::RawFrame& raw, can::Frame* out) {
  constexpr int64_t kPurgeEveryUs = 5'000'000;
  if (raw.timestamp_us - last_purge_us_ >= kPurgeEveryUs || raw.timestamp_us < last_purge_us_) {
    assembler_.PurgeStale(raw.timestamp_us);
    last_purge_us_ = raw.timestamp_us;
  }
  return assembler_.Process(raw, out);
}

}  // namespace lplex::sources
