#include "sources/replay_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "sources/live_source_test_util.h"
#include "sources/source_factory.h"
#include "sources/test_util.h"
#include "support/reassembled_capture.h"
#include "support/temp_dir.h"

namespace lplex::sources {
namespace {

using testing::Collector;

std::unique_ptr<FrameSource> MakeOrDie(const std::string& uri, const SourceEnv& env, uint8_t bus = 0) {
  auto spec = ParseSourceUri(uri);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  if (!spec.ok()) return nullptr;
  spec->bus = bus;
  auto s = MakeSource(*spec, env);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(ReplaySource, ReplayAtSpeedZeroDeliversEveryFrameOfTheCapture) {
  const std::string path = testing::CapturePath("can0-1.pcap");
  const std::vector<lplex::testing::ReassembledFrame> want = lplex::testing::ReassembleCapture(path);
  ASSERT_GT(want.size(), 30000u);

  FakeClock clock(1'700'000'000'000'000);
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] { return NewFakeClockPacer(&clock); };
  auto source = MakeOrDie("replay:" + path + "?speed=0", env, /*bus=*/3);
  ASSERT_NE(source, nullptr);
  Collector got;
  ASSERT_TRUE(source->Start(got.Sink(), got.OnEnd()).ok());
  auto end = got.WaitForEnd();
  ASSERT_TRUE(end.has_value()) << "replay did not end";
  EXPECT_TRUE(end->ok()) << end->ToString();
  source->Stop();

  const auto frames = got.frames();
  ASSERT_EQ(frames.size(), want.size());
  EXPECT_EQ(source->frames_delivered(), want.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(frames[i].ts, want[i].ts) << "frame " << i;
    ASSERT_EQ(frames[i].header, want[i].header) << "frame " << i;
    ASSERT_EQ(frames[i].data, want[i].data) << "frame " << i;
    ASSERT_EQ(frames[i].bus, 3) << "frame " << i;
    ASSERT_EQ(frames[i].seq, 0u) << "frame " << i;
  }
  // As fast as possible: the clock was never moved to wait for a frame.
  EXPECT_EQ(clock.NowMicros(), 1'700'000'000'000'000);
}

TEST(ReplaySource, ReplayLoopShiftsTimeForward) {
  lplex::testing::TempDir dir;
  const std::string path = dir.Sub("three.log");
  std::ofstream(path) << "(100.000000) can0 09F80123#0102030405060708\n"
                         "(100.500000) can0 09F80123#1112131415161718\n"
                         "(101.000000) can0 09F80123#2122232425262728\n";
  const int64_t start = 1'700'000'000'000'000;
  FakeClock clock(start);
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] { return NewFakeClockPacer(&clock); };
  auto source = MakeOrDie("replay:" + path + "?speed=1&loop=true", env);
  ASSERT_NE(source, nullptr);
  Collector got;
  ASSERT_TRUE(source->Start(got.Sink(), got.OnEnd()).ok());
  ASSERT_TRUE(got.WaitForCount(7));
  source->Stop();

  const auto frames = got.frames();
  const int64_t s = 1'000'000;
  const int64_t want[] = {100 * s, 100 * s + s / 2, 101 * s,            // the recording
                          101 * s + 1000, 101 * s + s / 2 + 1000, 102 * s + 1000,  // loop 2: 1 ms after the end
                          102 * s + 2000};                                         // loop 3
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(frames[i].ts, want[i]) << "frame " << i;
  EXPECT_EQ(frames[3].data, frames[0].data);
  // Paced at recorded speed on the fake clock: frame 7 was due 2.002 s after the start.
  EXPECT_GE(clock.NowMicros(), start + 2'002'000);
}

TEST(ReplaySource, ReplayAtDoubleSpeedWaitsHalfTheRecordedGaps) {
  lplex::testing::TempDir dir;
  const std::string path = dir.Sub("two.log");
  std::ofstream(path) << "(200.000000) can0 09F80123#0102030405060708\n"
                         "(204.000000) can0 09F80123#1112131415161718\n";
  const int64_t start = 1'000'000'000;
  FakeClock clock(start);
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] { return NewFakeClockPacer(&clock); };
  auto source = MakeOrDie("replay:" + path + "?speed=2", env);
  Collector got;
  ASSERT_TRUE(source->Start(got.Sink(), got.OnEnd()).ok());
  auto end = got.WaitForEnd();
  ASSERT_TRUE(end.has_value() && end->ok());
  EXPECT_EQ(got.frames().size(), 2u);
  EXPECT_EQ(clock.NowMicros(), start + 2'000'000);  // 4 s recorded, at 2x
}

// A Pacer on a FakeClock that really blocks: WaitUntil returns once the test
// has moved the clock past the deadline and called Poke(), or on Wake(). It
// keeps the deadlines it was asked for, so a test knows when the source's
// thread is parked and on what.
class BlockingFakePacer final : public Pacer {
 public:
  explicit BlockingFakePacer(FakeClock* clock) : clock_(clock) {}

  bool WaitUntil(int64_t deadline_us) override {
    std::unique_lock lock(mu_);
    deadlines_.push_back(deadline_us);
    cv_.notify_all();
    cv_.wait(lock, [&] {
      ++checks_;
      cv_.notify_all();
      return woken_ || clock_->NowMicros() >= deadline_us;
    });
    const bool woken = woken_;
    woken_ = false;
    return !woken;
  }
  void Wake() override {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }
  Clock* clock() const override { return clock_; }

  // After the test moved the clock: the waiter re-checks its deadline.
  // Returns once it has (and so has gone on, or back to waiting).
  bool Poke() {
    std::unique_lock lock(mu_);
    const uint64_t before = checks_;
    cv_.notify_all();
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return checks_ > before; });
  }
  // Waits (up to 20 s, a bound for a broken test) until WaitUntil was entered n times.
  bool AwaitWaits(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return deadlines_.size() >= n; });
  }
  std::vector<int64_t> deadlines() {
    std::lock_guard lock(mu_);
    return deadlines_;
  }

 private:
  FakeClock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> deadlines_;
  uint64_t checks_ = 0;  // times a waiter looked at the clock
  bool woken_ = false;
};

// Three frames, 0.5 s apart in recorded time.
std::string WriteThreeFrameCapture(const lplex::testing::TempDir& dir) {
  const std::string path = dir.Sub("three.log");
  std::ofstream(path) << "(100.000000) can0 09F80123#0102030405060708\n"
                         "(100.500000) can0 09F80123#1112131415161718\n"
                         "(101.000000) can0 09F80123#2122232425262728\n";
  return path;
}

TEST(ReplaySource, ReplayDelayHoldsTheFirstFrameUntilTheDelayPassed) {
  lplex::testing::TempDir dir;
  const std::string path = WriteThreeFrameCapture(dir);
  const int64_t start = 1'700'000'000'000'000;
  FakeClock clock(start);
  BlockingFakePacer* pacer = nullptr;
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] {
    auto p = std::make_unique<BlockingFakePacer>(&clock);
    pacer = p.get();
    return p;
  };
  auto source = MakeOrDie("replay:" + path + "?speed=0&delay=PT10S", env);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(pacer, nullptr);
  Collector got;
  std::atomic<int64_t> first_at{-1};  // the clock when the first frame was delivered
  auto sink = got.Sink();
  ASSERT_TRUE(source
                  ->Start(
                      [&](const can::Frame& f) {
                        int64_t none = -1;
                        first_at.compare_exchange_strong(none, clock.NowMicros());
                        sink(f);
                      },
                      got.OnEnd())
                  .ok());

  // Parked on the delay, before any frame.
  ASSERT_TRUE(pacer->AwaitWaits(1));
  EXPECT_EQ(pacer->deadlines()[0], start + 10'000'000);
  EXPECT_TRUE(got.frames().empty());

  // 9 s later: the thread looked at the clock and went on waiting.
  clock.Advance(9'000'000);
  ASSERT_TRUE(pacer->Poke());
  EXPECT_TRUE(got.frames().empty());
  EXPECT_EQ(source->frames_delivered(), 0u);

  // The delay has passed: at speed 0 the whole recording follows at once.
  clock.Advance(1'000'000);
  ASSERT_TRUE(pacer->Poke());
  auto end = got.WaitForEnd();
  ASSERT_TRUE(end.has_value()) << "replay did not end";
  EXPECT_TRUE(end->ok()) << end->ToString();
  source->Stop();
  const auto frames = got.frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].ts, 100'000'000);  // recorded timestamps, not shifted by the delay
  EXPECT_EQ(frames[2].ts, 101'000'000);
  EXPECT_EQ(first_at.load(), start + 10'000'000);
  EXPECT_EQ(pacer->deadlines().size(), 1u);  // speed 0: no wait but the delay's
}

TEST(ReplaySource, ReplayDelayPacesFromTheFirstFrameAndIsNotRepeatedWhenLooping) {
  lplex::testing::TempDir dir;
  const std::string path = WriteThreeFrameCapture(dir);
  const int64_t start = 1'700'000'000'000'000;
  FakeClock clock(start);
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] { return NewFakeClockPacer(&clock); };
  auto source = MakeOrDie("replay:" + path + "?speed=1&loop=true&delay=PT1M", env);
  ASSERT_NE(source, nullptr);
  std::mutex mu;
  std::vector<int64_t> delivered_at;
  Collector got;
  auto sink = got.Sink();
  ASSERT_TRUE(source
                  ->Start(
                      [&](const can::Frame& f) {
                        {
                          std::lock_guard lock(mu);
                          delivered_at.push_back(clock.NowMicros());
                        }
                        sink(f);
                      },
                      got.OnEnd())
                  .ok());
  ASSERT_TRUE(got.WaitForCount(4));
  source->Stop();
  std::lock_guard lock(mu);
  ASSERT_GE(delivered_at.size(), 4u);
  const int64_t first = start + 60'000'000;
  EXPECT_EQ(delivered_at[0], first);
  EXPECT_EQ(delivered_at[1], first + 500'000);  // recorded spacing, not a second delay
  EXPECT_EQ(delivered_at[2], first + 1'000'000);
  EXPECT_EQ(delivered_at[3], first + 1'001'000);  // loop 2 follows 1 ms after loop 1, no delay again
}

// Pacer::WaitUntil of the real pacer, with a signal when the source's thread
// has entered it.
class SignallingPacer final : public Pacer {
 public:
  explicit SignallingPacer(std::unique_ptr<Pacer> inner) : inner_(std::move(inner)) {}
  bool WaitUntil(int64_t deadline_us) override {
    {
      std::lock_guard lock(mu_);
      ++waits_;
    }
    cv_.notify_all();
    return inner_->WaitUntil(deadline_us);
  }
  void Wake() override { inner_->Wake(); }
  Clock* clock() const override { return inner_->clock(); }
  bool AwaitWait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return waits_ > 0; });
  }

 private:
  std::unique_ptr<Pacer> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  int waits_ = 0;
};

TEST(ReplaySource, ReplayDelayStopDuringTheDelayReturnsPromptly) {
  lplex::testing::TempDir dir;
  const std::string path = WriteThreeFrameCapture(dir);
  SignallingPacer* pacer = nullptr;
  SourceEnv env;  // the real clock: an hour would be an hour
  env.make_pacer = [&] {
    auto p = std::make_unique<SignallingPacer>(NewRealPacer(Clock::Real()));
    pacer = p.get();
    return p;
  };
  auto source = MakeOrDie("replay:" + path + "?delay=PT1H", env);
  ASSERT_NE(source, nullptr);
  Collector got;
  ASSERT_TRUE(source->Start(got.Sink(), got.OnEnd()).ok());
  ASSERT_TRUE(pacer->AwaitWait());  // the thread is in the delay

  const auto t0 = std::chrono::steady_clock::now();
  source->Stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_TRUE(got.frames().empty());
  EXPECT_EQ(source->frames_delivered(), 0u);
}

TEST(ReplaySource, ReplayOfMissingFileNamesThePath) {
  SourceEnv env;
  auto spec = ParseSourceUri("replay:/nonexistent/x.pcap");
  ASSERT_TRUE(spec.ok());
  auto s = MakeSource(*spec, env);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/x.pcap"), std::string::npos) << s.status().ToString();
}

TEST(ReplaySource, ReplayOfDirectoryWithoutJournalsIsRefusedNamingIt) {
  lplex::testing::TempDir dir;  // empty: no .lpj file
  SourceEnv env;
  auto spec = ParseSourceUri("replay:" + dir.path());
  ASSERT_TRUE(spec.ok());
  auto s = MakeSource(*spec, env);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(dir.path()), std::string::npos);
  EXPECT_NE(s.status().message().find("no journal (.lpj) with frames"), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace lplex::sources
