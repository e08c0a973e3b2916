// The boat side of replication (spec/cloud.md §1.4–§1.9, P3, P7, P11, P12)
// against a fake cloud on a real loopback port: what the boat puts on the
// wire, where live starts, which journal blocks backfill sends, and how it
// reconnects and stops.
#include "replication/replication_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "can/can_id.h"
#include "core/clock.h"
#include "core/log.h"
#include "journal/stored_blocks.h"
#include "journal/writer.h"
#include "replication/fake_cloud.h"
#include "support/temp_dir.h"

namespace lplex::replication {
namespace {

using testing::FakeCloud;
using ::lplex::testing::TempDir;

constexpr int64_t kT0 = 1'750'000'000'000'000;

// The payload of the frame with seq `seq` in these tests: 8 bytes that name it.
std::vector<uint8_t> PayloadFor(uint64_t seq) {
  std::vector<uint8_t> d(8);
  for (int i = 0; i < 8; ++i) d[i] = static_cast<uint8_t>((seq >> (8 * i)) ^ (0x5a + i));
  return d;
}

std::shared_ptr<broker::Broker> MakeBroker(size_t ring = 1024, uint64_t initial_head = 0, Clock* clock = nullptr) {
  broker::BrokerOptions o;
  o.ring_capacity = ring;
  o.initial_head = initial_head;
  o.clock = clock;
  o.logger = Logger::Discard();
  auto b = broker::Broker::Create(std::move(o));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? b.value() : nullptr;
}

// n frames of PGN 129025 from source 10; each payload is PayloadFor(its seq).
void IngestFrames(broker::Broker& b, int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t seq = b.CurrentSeq() + 1;
    const auto data = PayloadFor(seq);
    b.Ingest(can::Frame{.timestamp_us = kT0 + static_cast<int64_t>(seq) * 1000,
                        .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF},
                        .data = data});
  }
}

ReplicationClientOptions Options(const std::string& target, std::shared_ptr<broker::Broker> b) {
  ReplicationClientOptions o;
  o.target = target;
  o.instance_id = "boat-1";
  o.insecure = true;
  o.broker = std::move(b);
  o.logger = Logger::Discard();
  return o;
}

std::unique_ptr<ReplicationClient> StartClient(ReplicationClientOptions o) {
  auto c = ReplicationClient::Create(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok()) return nullptr;
  c.value()->Start();
  return std::move(c).value();
}

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(ReplicationClient, HandshakeSendsTheInstanceIdAndHead) {
  TempDir dir;
  {
    std::ofstream(dir.path() + "/nmea2k-20260101T000000.000Z.lpj") << std::string(1234, 'x');
    std::ofstream(dir.path() + "/notes.txt") << std::string(99, 'y');  // not a journal: not counted
  }
  FakeCloud cloud;
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.journal_dir = dir.path();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return !cloud.handshakes.empty() && cloud.live_streams > 0; }));
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_EQ(cloud.handshakes[0].instance_id(), "boat-1");
    EXPECT_EQ(cloud.handshakes[0].head_seq(), 5u);
    EXPECT_EQ(cloud.handshakes[0].journal_bytes(), 1234u);
    EXPECT_EQ(cloud.live_instance_ids[0], "boat-1");  // the Live stream names the boat too (x-instance-id)
  }
  ReplicationStatus st = client->Status();
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.instance_id, "boat-1");
  EXPECT_EQ(st.local_head_seq, 5u);
  client->Stop();
  EXPECT_FALSE(client->Status().connected);
}

TEST(ReplicationClient, LiveStartsAfterTheCloudCursor) {
  FakeCloud cloud;
  cloud.SetScript({.cursor = 6, .live_start_from = 7});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  IngestFrames(*b, 10);
  auto client = StartClient(Options(target, b));
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return !cloud.frames.empty() && cloud.frames.back().seq() == 10; }));
  IngestFrames(*b, 1);  // a frame that arrives while streaming follows
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.back().seq() == 11; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_EQ(cloud.FrameSeqs(), (std::vector<uint64_t>{7, 8, 9, 10, 11}));
  for (const auto& f : cloud.frames) {
    EXPECT_EQ(f.data(), Bytes(PayloadFor(f.seq()))) << "seq " << f.seq();
    EXPECT_EQ(f.timestamp_us(), kT0 + static_cast<int64_t>(f.seq()) * 1000);
    EXPECT_EQ(can::ParseCanId(f.can_id()),
              (can::CanHeader{.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF}));
  }
}

// §1.5 step 2: the replica never asks the bus who is there, so each stream
// opens with the boat's devices as seq-0 frames.
TEST(ReplicationClient, LiveBeginsWithTheDeviceSnapshotAsSeqZeroFrames) {
  FakeCloud cloud;
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  const std::vector<uint8_t> name = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};
  b->Ingest(can::Frame{.timestamp_us = kT0,
                       .header = {.priority = 6, .pgn = 60928, .source = 23, .destination = 0xFF},
                       .data = name});
  auto client = StartClient(Options(target, b));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.size() >= 2; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_EQ(cloud.frames[0].seq(), 0u);
  EXPECT_EQ(cloud.frames[0].data(), Bytes(name));
  const can::CanHeader h = can::ParseCanId(cloud.frames[0].can_id());
  EXPECT_EQ(h.pgn, 60928u);
  EXPECT_EQ(h.source, 23);
  EXPECT_EQ(h.destination, 0xFF);
  EXPECT_EQ(cloud.frames[1].seq(), 1u);  // then the journaled frames
}

// P3: a new instance (cursor 0) asks for seq 1, which left this boat's ring
// long ago and no journal holds: live starts at the oldest seq left instead
// of failing "fallen behind" on every reconnect.
TEST(ReplicationClient, LiveStartIsClampedToTheOldestFrameTheBoatStillHas) {
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0, .live_start_from = 1});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(/*ring=*/16);
  IngestFrames(*b, 100);
  const broker::BrokerStats stats = b->Stats();
  const uint64_t oldest = stats.head_seq - stats.ring_entries;
  ASSERT_GT(oldest, 1u);
  auto client = StartClient(Options(target, b));
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return !cloud.frames.empty() && cloud.frames.back().seq() == 100; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  std::vector<uint64_t> want;
  for (uint64_t s = oldest; s <= 100; ++s) want.push_back(s);
  EXPECT_EQ(cloud.FrameSeqs(), want);
  EXPECT_EQ(cloud.live_streams, 1);  // no fallen-behind reconnect
}

// §1.6, P12: each hole's blocks come from the journal as stored (the bytes
// StoredBlockReader hands out), holes newest first, blocks of a hole in seq
// order, only blocks that overlap a hole.
TEST(ReplicationClient, BackfillSendsStoredBlocksOfAHoleNewestFirst) {
  TempDir dir;
  journal::WriterOptions w;
  w.dir = dir.path();
  w.prefix = "nmea2k";
  w.block_size = 4096;
  w.compression = journal::Compression::kZstd;
  std::string path;
  w.on_rotate = [&](const journal::RotatedFile& f) { path = f.path; };
  {
    auto writer = journal::JournalWriter::Create(w);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (uint64_t seq = 1; seq <= 3000; ++seq) {
      const auto data = PayloadFor(seq);
      ASSERT_TRUE((*writer)
                      ->Append(can::Frame{.timestamp_us = kT0 + static_cast<int64_t>(seq) * 1000,
                                          .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF},
                                          .data = data,
                                          .seq = seq})
                      .ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  ASSERT_FALSE(path.empty());

  const std::vector<std::pair<uint64_t, uint64_t>> holes = {{150, 1000}, {2000, 2900}};
  // What should arrive: per hole (newest first) the overlapping blocks.
  struct Want {
    uint64_t base_seq;
    uint32_t frame_count;
    std::string data;
    bool compressed;
  };
  std::vector<Want> want;
  size_t blocks_in_file = 0;
  {
    auto r = journal::StoredBlockReader::OpenPath(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GT((*r)->block_count(), 10u);
    blocks_in_file = (*r)->block_count();
    for (auto it = holes.rbegin(); it != holes.rend(); ++it) {
      for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
        auto blk = (*r)->ReadBackfillBlock(n);
        ASSERT_TRUE(blk.ok()) << blk.status().ToString();
        if (blk->base_seq + blk->frame_count <= it->first || blk->base_seq >= it->second) continue;
        want.push_back({blk->base_seq, blk->frame_count,
                        std::string(reinterpret_cast<const char*>(blk->data.data()), blk->data.size()),
                        blk->compressed});
      }
    }
  }

  FakeCloud cloud;
  cloud.SetScript({.cursor = 100, .holes = holes, .live_start_from = 3001});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/3001);
  auto o = Options(target, b);
  o.journal_dir = dir.path();
  o.journal_prefix = "nmea2k";
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.backfill_streams_done > 0; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  ASSERT_EQ(cloud.blocks.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(cloud.blocks[i].base_seq(), want[i].base_seq);
    EXPECT_EQ(cloud.blocks[i].frame_count(), want[i].frame_count);
    EXPECT_EQ(cloud.blocks[i].data(), want[i].data);
    EXPECT_EQ(cloud.blocks[i].compressed(), want[i].compressed);
    EXPECT_TRUE(cloud.blocks[i].compressed());
    EXPECT_EQ(cloud.blocks[i].block_size(), 4096u);
  }
  // Several blocks per hole, not the whole file; newest hole first: the
  // first block holds seq 2000, the last one seq 999, and within a hole the
  // blocks follow each other.
  EXPECT_GE(want.size(), 4u);
  EXPECT_LT(want.size(), blocks_in_file - 2);
  EXPECT_LE(cloud.blocks.front().base_seq(), 2000u);
  EXPECT_GT(cloud.blocks.front().base_seq() + cloud.blocks.front().frame_count(), 2000u);
  EXPECT_LT(cloud.blocks.back().base_seq(), 1000u);
  EXPECT_GE(cloud.blocks.back().base_seq() + cloud.blocks.back().frame_count(), 1000u);
  EXPECT_EQ(cloud.blocks[1].base_seq(), cloud.blocks[0].base_seq() + cloud.blocks[0].frame_count());
  EXPECT_EQ(client->Status().backfill_blocks_sent, want.size());
}

// ---- Backfill waits for the journal, sends each block once (issue 8) ----

// A journal writer in `dir` (prefix nmea2k) for the backfill tests.
std::unique_ptr<journal::JournalWriter> MakeWriter(const std::string& dir, uint32_t block_size = 4096,
                                                   journal::Compression compression = journal::Compression::kZstd) {
  journal::WriterOptions w;
  w.dir = dir;
  w.prefix = "nmea2k";
  w.block_size = block_size;
  w.compression = compression;
  w.flush_interval_us = 0;  // blocks are written when full, or when a test says so
  auto writer = journal::JournalWriter::Create(w);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  return writer.ok() ? std::move(writer).value() : nullptr;
}

// Appends the frames with seqs [from, to] (payloads PayloadFor(seq)).
void AppendSeqs(journal::JournalWriter& w, uint64_t from, uint64_t to) {
  for (uint64_t seq = from; seq <= to; ++seq) {
    const auto data = PayloadFor(seq);
    ASSERT_TRUE(w.Append(can::Frame{.timestamp_us = kT0 + static_cast<int64_t>(seq) * 1000,
                                    .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF},
                                    .data = data,
                                    .seq = seq})
                    .ok());
  }
}

// One past the last seq in the journal files of `dir` as a reader finds
// them now (0 = none).
uint64_t JournalEndOnDisk(const std::string& dir) {
  uint64_t end = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto r = journal::StoredBlockReader::OpenPath(e.path().string());
    if (!r.ok()) continue;
    for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
      auto blk = (*r)->ReadBackfillBlock(n);
      if (blk.ok()) end = std::max<uint64_t>(end, blk->base_seq + blk->frame_count);
    }
  }
  return end;
}

// The seqs the blocks sent cover, and whether any block was sent twice.
struct SentBlocks {
  std::set<uint64_t> seqs;
  bool duplicate = false;
};
SentBlocks Covered(const std::vector<testing::pb::Block>& blocks) {
  SentBlocks out;
  std::set<uint64_t> bases;
  for (const auto& b : blocks) {
    if (!bases.insert(b.base_seq()).second) out.duplicate = true;
    for (uint64_t s = b.base_seq(); s < b.base_seq() + b.frame_count(); ++s) out.seqs.insert(s);
  }
  return out;
}

bool CoversAll(const std::set<uint64_t>& seqs, uint64_t start, uint64_t end) {
  for (uint64_t s = start; s < end; ++s) {
    if (!seqs.count(s)) return false;
  }
  return true;
}

// A hole whose seqs are still in the journal's open block (not on disk
// until its flush interval) gets no block at first; the backfill stream
// stays open, looks again every recheck interval (fake clock) and sends the
// block once the journal has written it. Before, the stream ended with the
// hole unfilled for the rest of the session.
TEST(ReplicationClient, BackfillWaitsForAHoleStillInTheJournalsOpenBlockAndSendsItOnceWritten) {
  TempDir dir;
  auto writer = MakeWriter(dir.path());
  ASSERT_NE(writer, nullptr);
  AppendSeqs(*writer, 1, 1200);
  const uint64_t on_disk_end = JournalEndOnDisk(dir.path());
  ASSERT_GT(on_disk_end, 600u);
  ASSERT_LT(on_disk_end, 1190u) << "seqs 1190..1199 must still be in the open block";

  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 100, .holes = {{500, 600}, {1190, 1200}}, .live_start_from = 1201});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/1201);  // the head is 1200
  auto o = Options(target, b);
  o.clock = &clock;
  o.journal_dir = dir.path();
  o.journal_prefix = "nmea2k";
  o.backfill_recheck_interval_us = 5'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // the first pass is done; waiting for the journal
  ASSERT_TRUE(cloud.WaitFor([&] { return CoversAll(Covered(cloud.blocks).seqs, 500, 600); }));
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_FALSE(Covered(cloud.blocks).seqs.count(1190));
    EXPECT_EQ(cloud.backfill_streams_done, 0) << "the backfill stream ended with seqs 1190..1199 unsent";
  }
  ASSERT_TRUE(writer->WriteOpenBlock().ok());  // the journal's flush
  clock.Advance(4'999'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 2));  // not yet time to look again
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_FALSE(Covered(cloud.blocks).seqs.count(1190));
  }
  clock.Advance(1'000);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.backfill_streams_done == 1; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  const SentBlocks sent = Covered(cloud.blocks);
  EXPECT_TRUE(CoversAll(sent.seqs, 1190, 1200));
  EXPECT_FALSE(sent.duplicate) << "a block was sent twice";
  EXPECT_LE(cloud.blocks.back().base_seq(), 1190u);  // the late block comes last
  EXPECT_EQ(client->Status().backfill_blocks_sent, cloud.blocks.size());
}

// One journal block that holds four holes is sent once, not once per hole.
TEST(ReplicationClient, BackfillSendsABlockHoldingSeveralHolesOnce) {
  TempDir dir;
  {
    auto writer = MakeWriter(dir.path());
    ASSERT_NE(writer, nullptr);
    AppendSeqs(*writer, 1, 1000);
    ASSERT_TRUE(writer->Close().ok());
  }
  FakeCloud cloud;
  cloud.SetScript({.cursor = 9, .holes = {{10, 12}, {14, 16}, {18, 20}, {22, 24}}, .live_start_from = 1001});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/1001);
  auto o = Options(target, b);
  o.journal_dir = dir.path();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.backfill_streams_done == 1; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  ASSERT_EQ(cloud.blocks.size(), 1u);
  EXPECT_LE(cloud.blocks[0].base_seq(), 10u);
  EXPECT_GE(cloud.blocks[0].base_seq() + cloud.blocks[0].frame_count(), 24u);
  EXPECT_EQ(client->Status().backfill_blocks_sent, 1u);
}

// Seqs the boat can never send are named once in the log and not waited
// for: older than its journal, a gap in the journal (seqs the journal
// skipped), past its head. The backfill stream ends at once (no clock
// moves here).
TEST(ReplicationClient, BackfillDoesNotWaitForSeqsTheBoatNoLongerHas) {
  TempDir dir;
  {
    auto writer = MakeWriter(dir.path());
    ASSERT_NE(writer, nullptr);
    AppendSeqs(*writer, 100, 500);
    AppendSeqs(*writer, 700, 1000);  // 501..699 never journaled
    ASSERT_TRUE(writer->Close().ok());
  }
  FakeClock clock(kT0, 0);
  RecordingLogger log;
  FakeCloud cloud;
  cloud.SetScript({.cursor = 9, .holes = {{10, 50}, {550, 650}, {900, 910}, {1005, 1020}}, .live_start_from = 1001});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/1001);  // the head is 1000
  auto o = Options(target, b);
  o.clock = &clock;
  o.logger = &log;
  o.journal_dir = dir.path();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.backfill_streams_done == 1; }));
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    const SentBlocks sent = Covered(cloud.blocks);
    EXPECT_TRUE(CoversAll(sent.seqs, 900, 910));
    EXPECT_FALSE(sent.seqs.count(10));
  }
  EXPECT_TRUE(log.Contains("10..49 (40 seqs) are older than this boat's journal (it starts at seq 100)"))
      << log.Text();
  EXPECT_TRUE(log.Contains("550..649 (100 seqs) are not in this boat's journal")) << log.Text();
  EXPECT_TRUE(log.Contains("1005..1019 (15 seqs) are past this boat's head (seq 1000)")) << log.Text();
  size_t older_lines = 0;
  for (const std::string& m : log.messages()) {
    older_lines += m.find("older than this boat's journal") != std::string::npos;
  }
  EXPECT_EQ(older_lines, 1u) << log.Text();
  {
    // Seqs it can never send are named to the cloud (older than its journal,
    // never journaled), so the cloud stops owing them; the ones past its
    // head may still come and are not.
    std::lock_guard<std::mutex> lock(cloud.mu());
    auto named = cloud.unavailable;
    std::sort(named.begin(), named.end());
    EXPECT_EQ(named, (std::vector<std::pair<uint64_t, uint64_t>>{{10, 50}, {550, 650}}));
  }
  client->Stop();
}

// A journal file the boat could not read this pass may hold the seqs it
// would otherwise call unavailable: naming them then would make the cloud
// drop holes the boat can still fill.
TEST(ReplicationClient, UnreadableJournalFileKeepsTheBoatFromNamingSeqsUnavailable) {
  TempDir dir;
  {
    auto writer = MakeWriter(dir.path());
    ASSERT_NE(writer, nullptr);
    AppendSeqs(*writer, 100, 500);
    ASSERT_TRUE(writer->Close().ok());
  }
  std::ofstream(dir.path() + "/nmea2k-00000000T000000.000Z.lpj") << "unreadable: not a journal";
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 9, .holes = {{10, 50}, {200, 210}}, .live_start_from = 501});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto o = Options(target, MakeBroker(1024, /*initial_head=*/501));
  o.clock = &clock;
  o.journal_dir = dir.path();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.backfill_streams_done == 1; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_TRUE(CoversAll(Covered(cloud.blocks).seqs, 200, 210));
  EXPECT_TRUE(cloud.unavailable.empty()) << "named " << cloud.unavailable.size() << " range(s) unavailable";
}

TEST(ReplicationClient, StopWhileBackfillWaitsForTheJournalReturnsPromptly) {
  TempDir dir;
  auto writer = MakeWriter(dir.path());
  ASSERT_NE(writer, nullptr);
  AppendSeqs(*writer, 1, 1200);
  ASSERT_LT(JournalEndOnDisk(dir.path()), 1190u);
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 100, .holes = {{1190, 1200}}, .live_start_from = 1201});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto o = Options(target, MakeBroker(1024, 1201));
  o.clock = &clock;
  o.journal_dir = dir.path();
  o.backfill_recheck_interval_us = 60'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // waiting for the journal
  const auto t0 = std::chrono::steady_clock::now();
  client->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

// A live stream the cloud ends while the backfill is still sending: the
// boat cancels the backfill, and the session's error is the live stream's,
// not "backfill stream ... closed by the cloud" (the boat closed it).
TEST(ReplicationClient, FailedLiveStreamIsReportedNotTheBackfillItCancelled) {
  TempDir dir;
  {
    // Uncompressed 1 MiB blocks of a few frames each: 24 MiB to send, which
    // a cloud that reads nothing cannot take (flow control stalls the boat).
    auto writer = MakeWriter(dir.path(), 1 << 20, journal::Compression::kNone);
    ASSERT_NE(writer, nullptr);
    for (uint64_t seq = 1; seq <= 24 * 4; seq += 4) {
      AppendSeqs(*writer, seq, seq + 3);
      ASSERT_TRUE(writer->WriteOpenBlock().ok());
    }
    ASSERT_TRUE(writer->Close().ok());
  }
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0,
                   .holes = {{1, 97}},
                   .live_start_from = 97,
                   .drop_live_after = 3,
                   .hold_backfill = true});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/97);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.journal_dir = dir.path();
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // the session ended; in the backoff
  const std::string err = client->Status().last_error;
  EXPECT_NE(err.find("fake cloud drops the live stream"), std::string::npos) << err;
  EXPECT_EQ(err.find("backfill"), std::string::npos) << err;
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_EQ(cloud.backfill_streams_started, 1);
}

// P11 on a fake clock: backoff doubles across failures (1 s, 2 s), and after
// a session whose handshake succeeded it starts again at 1 s (the reference
// waited 60 s after every drop once it had backed off).
TEST(ReplicationClient, ReconnectsAfterTheCloudDropsTheStreamAndResetsBackoffAfterSuccess) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0, .live_start_from = 1, .fail_handshakes = 2, .drop_live_after = 3});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, 0);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.backoff_min_us = 1'000'000;
  o.backoff_max_us = 60'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  auto handshakes = [&] {
    std::lock_guard<std::mutex> lock(cloud.mu());
    return cloud.handshakes.size();
  };

  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // attempt 1 refused; waiting 1 s
  EXPECT_EQ(handshakes(), 1u);
  clock.Advance(1'000'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 2));  // attempt 2 refused; waiting 2 s
  EXPECT_EQ(handshakes(), 2u);
  clock.Advance(1'999'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 3));  // still waiting
  EXPECT_EQ(handshakes(), 2u);
  clock.Advance(1'000);
  // Attempt 3 succeeds; the cloud drops Live after 3 frames; waiting again.
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 4));
  EXPECT_EQ(handshakes(), 3u);
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_EQ(cloud.live_streams, 1);
  }
  EXPECT_FALSE(client->Status().connected);
  EXPECT_NE(client->Status().last_error.find("fake cloud drops the live stream"), std::string::npos)
      << client->Status().last_error;
  // Reset: 1 s later it is back (without the reset it would wait 4 s).
  clock.Advance(1'000'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 5));
  EXPECT_EQ(handshakes(), 4u);
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_EQ(cloud.live_streams, 2);
    EXPECT_EQ(cloud.FrameSeqs(), (std::vector<uint64_t>{1, 2, 3, 1, 2, 3}));
  }
  EXPECT_EQ(client->Status().reconnects, 3u);
}

// A cloud that answers the handshake and then fails every live stream
// before acknowledging anything is not a good session: resetting the
// backoff after each handshake would reconnect every second forever.
TEST(ReplicationClient, HandshakeFollowedByAFailingStreamDoesNotResetTheBackoff) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0, .live_start_from = 1, .drop_live_after = 3, .ack_every = 1000});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, 0);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.backoff_min_us = 1'000'000;
  o.backoff_max_us = 60'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  auto handshakes = [&] {
    std::lock_guard<std::mutex> lock(cloud.mu());
    return cloud.handshakes.size();
  };
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // session 1 dropped unacknowledged; waiting 1 s
  EXPECT_EQ(handshakes(), 1u);
  clock.Advance(1'000'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 2));  // session 2 the same; waiting 2 s, not 1 s
  EXPECT_EQ(handshakes(), 2u);
  clock.Advance(1'999'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 3));
  EXPECT_EQ(handshakes(), 2u) << "reconnected before the doubled backoff ran out";
  clock.Advance(1'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 4));
  EXPECT_EQ(handshakes(), 3u);
}

// A cloud whose rate limit is below the boat's bus rate ends every live
// stream after the burst; with the backoff reset by the acknowledged first
// frames the boat reconnected every second (29 times in 30 s).
TEST(ReplicationClient, StreamEndedOverTheRateLimitDoesNotResetTheBackoff) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0, .live_start_from = 1, .drop_live_after = 3, .drop_as_rate_limit = true});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, 0);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.backoff_min_us = 1'000'000;
  o.backoff_max_us = 60'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  auto handshakes = [&] {
    std::lock_guard<std::mutex> lock(cloud.mu());
    return cloud.handshakes.size();
  };
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // session 1 throttled; waiting 1 s
  clock.Advance(1'000'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 2));  // session 2 throttled; waiting 2 s
  EXPECT_EQ(handshakes(), 2u);
  clock.Advance(1'999'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 3));
  EXPECT_EQ(handshakes(), 2u) << "reconnected into the rate limit before the doubled backoff ran out";
  EXPECT_NE(client->Status().last_error.find("rate limit"), std::string::npos) << client->Status().last_error;
}

// A frame the cloud drops mid-session leaves its cursor stuck below it; the
// hole is only listed by a handshake. A cursor that stays put while the boat
// sends past it for ack_stall_reconnect restarts the session.
TEST(ReplicationClient, CursorStuckWhileFramesAreSentRestartsTheSessionForBackfill) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 0, .live_start_from = 1, .ack_every = 1000});  // never acknowledges
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, 0);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.status_interval_us = 5'000'000;
  o.ack_stall_reconnect_us = 60'000'000;
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.size() == 5; }));
  auto handshakes = [&] {
    std::lock_guard<std::mutex> lock(cloud.mu());
    return cloud.handshakes.size();
  };
  for (int i = 0; i < 11; ++i) {  // 55 s: not yet
    clock.Advance(5'000'000);
    ASSERT_TRUE(cloud.WaitFor([&] { return cloud.statuses.size() == static_cast<size_t>(i + 1); }));
  }
  EXPECT_EQ(handshakes(), 1u);
  clock.Advance(5'000'000);  // 60 s without an acknowledgement
  // The cloud's WaitFor only wakes on the cloud's own events: poll the client.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (client->Status().last_error.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_NE(client->Status().last_error.find("acknowledged nothing past seq 0"), std::string::npos)
      << client->Status().last_error;
  clock.Advance(1'000'000);  // the backoff
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.handshakes.size() == 2; }));  // WaitFor holds the lock
}

// A cursor parked at a hole the cloud already listed (here one the boat
// cannot fill: it keeps no journal) does not move however long the session
// runs; reconnecting would only list the same hole again, every
// ack_stall_reconnect, for ever.
TEST(ReplicationClient, CursorParkedAtAListedHoleDoesNotRestartTheSession) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.cursor = 10, .holes = {{11, 21}}, .live_start_from = 21, .ack_every = 1000});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker(1024, /*initial_head=*/21);
  IngestFrames(*b, 5);
  auto o = Options(target, b);
  o.clock = &clock;
  o.status_interval_us = 5'000'000;
  o.ack_stall_reconnect_us = 60'000'000;
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.size() == 5; }));
  for (int i = 0; i < 16; ++i) {  // 80 s
    clock.Advance(5'000'000);
    ASSERT_TRUE(cloud.WaitFor([&] { return cloud.statuses.size() == static_cast<size_t>(i + 1); }));
  }
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_EQ(cloud.handshakes.size(), 1u);
  EXPECT_EQ(cloud.live_streams, 1);
  EXPECT_TRUE(client->Status().connected) << client->Status().last_error;
}

// §1.5 step 5: every status interval (fake clock) the boat reports its
// head and journal size on the Live stream, even while the bus is quiet.
TEST(ReplicationClient, LiveSendsTheHeadEveryStatusInterval) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  IngestFrames(*b, 4);
  auto o = Options(target, b);
  o.clock = &clock;
  o.status_interval_us = 5'000'000;
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.size() == 4; }));
  clock.Advance(4'999'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // a few turns of the sender's 100 ms wait
  {
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_TRUE(cloud.statuses.empty());
  }
  IngestFrames(*b, 2);
  clock.Advance(1'000);
  ASSERT_TRUE(cloud.WaitFor([&] { return !cloud.statuses.empty(); }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  EXPECT_EQ(cloud.statuses[0].head_seq(), 6u);
}

// §6.1: a live stream more than max_live_lag seqs behind the head is
// restarted at once (no backoff), but lag restarts are at least
// min_lag_reconnect_interval apart.
TEST(ReplicationClient, LagReconnectsAtOnceButNotMoreOftenThanTheInterval) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  IngestFrames(*b, 100);
  auto o = Options(target, b);
  o.clock = &clock;
  o.max_live_lag = 10;
  o.lag_check_frames = 1;
  o.min_lag_reconnect_interval_us = 30'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  auto handshakes = [&] {
    std::lock_guard<std::mutex> lock(cloud.mu());
    return cloud.handshakes.size();
  };
  // The first lag restart waits for nothing; the second waits 30 s.
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));
  EXPECT_EQ(handshakes(), 2u);
  EXPECT_NE(client->Status().last_error.find("behind the head"), std::string::npos) << client->Status().last_error;
  clock.Advance(29'999'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 2));
  EXPECT_EQ(handshakes(), 2u);
  clock.Advance(1'000);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 3));
  EXPECT_EQ(handshakes(), 3u);
}

TEST(ReplicationClient, StopDuringBackoffReturnsPromptly) {
  FakeClock clock(kT0, 0);
  FakeCloud cloud;
  cloud.SetScript({.fail_handshakes = 1000});
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto o = Options(target, MakeBroker());
  o.clock = &clock;
  o.backoff_min_us = 60'000'000;
  const uint64_t b0 = clock.blocks();
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(clock.AwaitBlocks(b0 + 1));  // in a 60 s backoff
  const auto t0 = std::chrono::steady_clock::now();
  client->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_NE(client->Status().last_error.find("fake cloud refuses this handshake"), std::string::npos)
      << client->Status().last_error;
}

TEST(ReplicationClient, StopDuringLiveReturnsPromptly) {
  FakeCloud cloud;
  const std::string target = cloud.Listen();
  ASSERT_FALSE(target.empty());
  auto b = MakeBroker();
  IngestFrames(*b, 3);
  auto client = StartClient(Options(target, b));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return cloud.frames.size() >= 3; }));
  const auto t0 = std::chrono::steady_clock::now();
  client->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(ReplicationClient, CreateRejectsACertificateWithoutItsKey) {
  auto o = Options("localhost:1", MakeBroker());
  o.insecure = false;
  o.tls_cert_file = "/etc/boat.crt";
  auto c = ReplicationClient::Create(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/etc/boat.crt"), std::string::npos) << c.status().message();
  o.tls_cert_file.clear();
  o.instance_id = "../x";
  c = ReplicationClient::Create(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("../x"), std::string::npos) << c.status().message();
}

// ---- TLS with a private CA (P7) --------------------------------------------

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// A CA, a server certificate for localhost and a client certificate with
// CN boat-1, all signed by the CA, in `dir`.
bool MakePrivateCa(const std::string& d) {
  const std::string ssl = "openssl";
  return Shell(ssl + " req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " + d + "/ca.key -out " + d +
             "/ca.crt") &&
         Shell(ssl + " req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + d + "/server.key -out " + d +
             "/server.csr") &&
         Shell("printf 'subjectAltName=DNS:localhost\\n' > " + d + "/server.ext") &&
         Shell(ssl + " x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
             "/ca.key -CAcreateserial -days 2 -extfile " + d + "/server.ext -out " + d + "/server.crt") &&
         Shell(ssl + " req -newkey rsa:2048 -nodes -subj /CN=boat-1 -keyout " + d + "/client.key -out " + d +
             "/client.csr") &&
         Shell(ssl + " x509 -req -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " + d +
             "/ca.key -CAcreateserial -days 2 -out " + d + "/client.crt");
}

TEST(ReplicationClient, ConnectsToACloudWhoseCertificateIsSignedByAPrivateCa) {
  if (!Shell("command -v openssl")) GTEST_SKIP() << "openssl is not installed";
  TempDir dir;
  ASSERT_TRUE(MakePrivateCa(dir.path()));
  grpc::SslServerCredentialsOptions sopt(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  sopt.pem_root_certs = ReadAll(dir.path() + "/ca.crt");
  sopt.pem_key_cert_pairs.push_back({ReadAll(dir.path() + "/server.key"), ReadAll(dir.path() + "/server.crt")});
  FakeCloud cloud;
  std::string target = cloud.Listen(grpc::SslServerCredentials(sopt), "localhost");
  ASSERT_FALSE(target.empty());

  auto b = MakeBroker();
  IngestFrames(*b, 2);
  auto o = Options(target, b);
  o.insecure = false;
  o.tls_cert_file = dir.path() + "/client.crt";
  o.tls_key_file = dir.path() + "/client.key";

  // Without the CA file the server's certificate is not trusted: no
  // handshake reaches the cloud.
  {
    auto c = StartClient(o);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 100 && c->Status().last_error.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    c->Stop();
    EXPECT_NE(c->Status().last_error.find("handshake with " + target + " failed"), std::string::npos)
        << c->Status().last_error;
    std::lock_guard<std::mutex> lock(cloud.mu());
    EXPECT_TRUE(cloud.handshakes.empty());
  }

  o.tls_ca_file = dir.path() + "/ca.crt";
  auto client = StartClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(cloud.WaitFor([&] { return !cloud.frames.empty() && cloud.frames.back().seq() == 2; }));
  std::lock_guard<std::mutex> lock(cloud.mu());
  ASSERT_EQ(cloud.handshakes.size(), 1u);
  EXPECT_EQ(cloud.peer_common_names[0], "boat-1");  // mTLS: the cloud sees the boat's certificate
  EXPECT_TRUE(client->Status().connected);
}

}  // namespace
}  // namespace lplex::replication
