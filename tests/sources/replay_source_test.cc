#include "sources/replay_source.h"

#include <gtest/gtest.h>

#include <fstream>

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
