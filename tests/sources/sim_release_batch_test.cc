// The sim: source releases frames in small time batches (10 ms of its clock),
// not one wake-up per frame; the frames' timestamps stay their due times.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <vector>

#include "core/clock.h"
#include "sources/sim_source.h"
#include "sources/source_uri.h"

namespace lplex::sources {
namespace {

constexpr int64_t kStart = 1'751'328'000'000'000;  // 2025-07-01T00:00:00Z

TEST(SimSource, SimReleasesFramesInTenMillisecondBatches) {
  FakeClock clock(kStart);
  SimOptions so;
  so.seed = 3;
  so.fps = kFullBusFramesPerSecond;
  SimSource sim("sim:", 0, so, NewFakeClockPacer(&clock));
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> got;  // (timestamp, clock at delivery)
  ASSERT_TRUE(sim.Start(
                     [&](const can::Frame& f) {
                       std::lock_guard lock(mu);
                       if (got.size() < 5000) got.emplace_back(f.timestamp_us, clock.NowMicros());
                     },
                     [](Status) {})
                  .ok());
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (got.size() >= 5000) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  sim.Stop();
  std::set<int64_t> releases;
  for (const auto& [ts, at] : got) {
    EXPECT_LE(ts, at) << "released before it was due";
    releases.insert(at);
  }
  for (int64_t at : releases) EXPECT_EQ((at - kStart) % 10000, 0) << "released off the 10 ms grid at " << at;
  // A full simulated bus is ~1,400 messages/s: ~14 per 10 ms batch.
  EXPECT_LT(releases.size(), got.size() / 6) << "one wake-up per frame";
}

}  // namespace
}  // namespace lplex::sources
