// Pull consumers: the journal tier (P15 ordering), waiting for the broker,
// and a reader thread beside the writer (run under TSan).
#include <thread>

#include "broker/journal_tier.h"
#include "broker_fixture.h"
#include "can/can_id.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

namespace lplex::broker::testing {
namespace {

// Writes seqs [first, last] into one journal file named with `prefix`.
void WriteJournal(const std::string& dir, const std::string& prefix, uint64_t first, uint64_t last, int64_t ts) {
  journal::WriterOptions o;
  o.dir = dir;
  o.prefix = prefix;
  o.compression = journal::Compression::kNone;
  o.block_size = 4096;
  auto w = journal::JournalWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (uint64_t s = first; s <= last; ++s) {
    const can::Frame f{.timestamp_us = ts + static_cast<int64_t>(s) * 1000,
                       .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 255},
                       .data = data,
                       .seq = s};
    ASSERT_TRUE((*w)->Append(f).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
}

TEST(JournalTierTest, FilesAreOrderedByFirstSeqNotByName) {
  lplex::testing::TempDir tmp;
  WriteJournal(tmp.path(), "backfill", 300, 399, kT0);  // sorts first by name, holds later seqs
  WriteJournal(tmp.path(), "nmea2k", 1, 299, kT0 + 3600LL * 1000000);
  auto files = journal::ListJournalFilesBySeq(tmp.path(), "", FileSystem::Default());
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].first_seq, 1u);
  EXPECT_NE((*files)[0].path.find("nmea2k"), std::string::npos);
  EXPECT_EQ((*files)[1].first_seq, 300u);
}

TEST_F(BrokerTest, ConsumerBehindTheRingReadsJournalFilesInSeqOrderThenTheRing) {
  lplex::testing::TempDir tmp;
  WriteJournal(tmp.path(), "backfill", 300, 399, kT0);
  WriteJournal(tmp.path(), "nmea2k", 1, 299, kT0 + 3600LL * 1000000);
  WriteJournal(tmp.path(), "nmea2k", 402, 410, kT0 + 7200LL * 1000000);  // 400, 401 never journaled
  BrokerOptions o;
  o.ring_capacity = 16;
  o.initial_head = 400;
  o.journal_dir = tmp.path();
  auto b = Make(o);
  for (int i = 0; i < 20; ++i) Ingest(*b, MakeFrame(129025, 10));  // seqs 400..419; ring holds 404..419
  auto c = b->NewConsumer(250, {});
  auto items = DrainConsumer(*c);
  std::vector<uint64_t> seqs;
  for (auto& i : items) seqs.push_back(i.seq);
  ASSERT_EQ(seqs.size(), 150u + 2u + 16u) << "250..399, 402, 403 from the journal, 404..419 from the ring";
  for (uint64_t s = 250; s < 400; ++s) EXPECT_EQ(seqs[s - 250], s);
  EXPECT_EQ(seqs[150], 402u) << "400, 401 were never journaled: skipped";
  EXPECT_EQ(seqs[152], 404u) << "the ring takes over at its tail";
  EXPECT_EQ(seqs.back(), 419u);
  EXPECT_EQ(b->Stats().consumer_journal_frames, 152u);
}

TEST_F(BrokerTest, JournalThatHasNotReachedTheCursorIsFallenBehind) {
  lplex::testing::TempDir tmp;
  WriteJournal(tmp.path(), "nmea2k", 1, 10, kT0);
  BrokerOptions o;
  o.ring_capacity = 16;
  o.initial_head = 100;
  o.journal_dir = tmp.path();
  auto b = Make(o);
  for (int i = 0; i < 20; ++i) Ingest(*b, MakeFrame(129025, 10));
  auto c = b->NewConsumer(50, {});
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::milliseconds(0)), NextResult::kFallenBehind);
  EXPECT_NE(c->error().message().find("does not hold it yet"), std::string::npos);
}

TEST_F(BrokerTest, NextWaitsForTheWriterThread) {
  auto b = Make();
  auto c = b->NewConsumer(1, {});
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Ingest(*b, MakeFrame(129025, 10));
  });
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::seconds(10)), NextResult::kFrame);
  EXPECT_EQ(item.seq, 1u);
  writer.join();
}

TEST_F(BrokerTest, CloseFromAnotherThreadWakesWaitingNext) {
  auto b = Make();
  auto c = b->NewConsumer(1, {});
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    c->Close();
  });
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::seconds(10)), NextResult::kClosed);
  closer.join();
}

TEST_F(BrokerTest, NextTimesOutWhenNothingArrives) {
  auto b = Make();
  auto c = b->NewConsumer(1, {});
  ConsumerItem item;
  EXPECT_EQ(c->Next(&item, std::chrono::milliseconds(5)), NextResult::kTimeout);
}

// A reader thread consumes while the owner ingests: every frame arrives once,
// in order, with its JSON intact (the shared buffers are reused by the
// writer only after readers let go). Meant for TSan.
TEST_F(BrokerTest, ReaderThreadConsumesWhileWriterIngests) {
  BrokerOptions o;
  o.ring_capacity = 1 << 15;  // holds every frame: the reader never falls behind
  auto b = Make(o);
  constexpr uint64_t kFrames = 20000;
  auto c = b->NewConsumer(1, {});
  auto sub = b->Subscribe({});
  std::atomic<bool> bad{false};
  std::thread reader([&] {
    ConsumerItem item;
    uint64_t expect = 1;
    while (expect <= kFrames) {
      NextResult r = c->Next(&item, std::chrono::seconds(10));
      if (r != NextResult::kFrame || item.seq != expect ||
          item.json.view().find("\"seq\":" + std::to_string(expect) + ",") == std::string::npos) {
        ADD_FAILURE() << "result " << static_cast<int>(r) << " seq " << item.seq << " expected " << expect << " "
                      << item.json.view() << " " << c->error().ToString();
        bad = true;
        return;
      }
      ++expect;
    }
  });
  std::thread sub_reader([&] {
    JsonRef m;
    while (sub->Pop(&m, std::chrono::seconds(10)) == PopResult::kMessage) {
      if (m.view().empty() || m.view().back() != '}') bad = true;
    }
  });
  for (uint64_t i = 0; i < kFrames; ++i) Ingest(*b, MakeFrame(129025, static_cast<uint8_t>(i % 50)));
  reader.join();
  b->Shutdown();
  sub_reader.join();
  EXPECT_FALSE(bad.load());
}

}  // namespace
}  // namespace lplex::broker::testing
