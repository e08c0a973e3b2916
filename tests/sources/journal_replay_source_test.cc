// replay:DIR of a journal directory (src/sources/journal_replay.h), with
// journals written by the real writer.
#include "sources/journal_replay.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "can/can_id.h"
#include "journal/writer.h"
#include "sources/source_factory.h"
#include "support/temp_dir.h"

namespace lplex::sources {
namespace {

// Writes one journal file holding frames with seqs first_seq.. at time t_us.
void WriteFile(const std::string& dir, int64_t t_us, uint64_t first_seq, int n) {
  journal::WriterOptions o;
  o.dir = dir;
  auto w = journal::JournalWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (int i = 0; i < n; ++i) {
    const uint64_t seq = first_seq + static_cast<uint64_t>(i);
    const uint8_t data[8] = {static_cast<uint8_t>(seq), 1, 2, 3, 4, 5, 6, 7};
    can::Frame f;
    f.timestamp_us = t_us + i * 100'000;
    f.header = {2, 129025, 3, can::kBroadcast};
    f.seq = seq;
    f.data = data;
    ASSERT_TRUE((*w)->Append(f).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
}

TEST(JournalReplaySource, ReplayOfJournalDirOrdersFilesByFirstSeq) {
  lplex::testing::TempDir dir;
  const int64_t later = 1'751'400'000'000'000, earlier = later - 3'600'000'000;
  // The writer's clock stepped back an hour between the files: by name (and
  // by time) the second file comes first, by seq it comes second.
  WriteFile(dir.path(), later, 1, 3);
  WriteFile(dir.path(), earlier, 4, 3);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u);

  auto c = JournalDirCursor::Open(dir.path());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ((*c)->files().size(), 2u);
  EXPECT_EQ(std::filesystem::path((*c)->files()[0].path).filename(), names[1]);  // seq 1 first

  // Through MakeSource and the replay source, as fast as possible.
  FakeClock clock(later);
  SourceEnv env;
  env.clock = &clock;
  env.make_pacer = [&] { return NewFakeClockPacer(&clock); };
  auto spec = ParseSourceUri("replay:" + dir.path() + "?speed=0");
  ASSERT_TRUE(spec.ok());
  auto source = MakeSource(*spec, env);
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint8_t> first_bytes;
  std::vector<uint64_t> seqs;
  bool ended = false;
  Status end;
  ASSERT_TRUE((*source)
                  ->Start(
                      [&](const can::Frame& f) {
                        std::lock_guard lock(mu);
                        first_bytes.push_back(f.data[0]);
                        seqs.push_back(f.seq);
                        EXPECT_EQ(f.header.pgn, 129025u);
                      },
                      [&](const Status& s) {
                        std::lock_guard lock(mu);
                        ended = true;
                        end = s;
                        cv.notify_all();
                      })
                  .ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return ended; }));
  }
  (*source)->Stop();
  EXPECT_TRUE(end.ok()) << end.ToString();
  EXPECT_EQ(first_bytes, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seqs, std::vector<uint64_t>(6, 0)) << "the broker assigns seq";
}

}  // namespace
}  // namespace lplex::sources
