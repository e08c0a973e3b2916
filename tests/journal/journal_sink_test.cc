// JournalSink / SinkRunner / FrameQueue: the queue in front of the writer.
// Time moves on a FakeClock and the runner is driven by hand (RunOnce), so
// nothing here sleeps to wait for a tick; the threaded tests use real threads
// (and are the ones to run under TSan).
#include "journal/journal_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/frame_queue.h"
#include "journal/reader.h"
#include "support/forwarding_file_system.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

namespace fsys = std::filesystem;
using lplex::testing::TempDir;

constexpr int64_t kT0 = 1'750'000'000'000'000;  // 2025-06-15T15:06:40Z

struct Got {
  int64_t ts;
  uint64_t seq;
  can::CanHeader header;
  std::vector<uint8_t> data;
};

std::vector<std::string> JournalFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (!fsys::exists(dir)) return out;
  for (const auto& e : fsys::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Got> ReadDir(const std::string& dir) {
  std::vector<Got> out;
  for (const std::string& p : JournalFiles(dir)) {
    auto r = JournalReader::OpenPath(p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) continue;
    while ((*r)->Next()) {
      const can::Frame& f = (*r)->frame();
      out.push_back({f.timestamp_us, f.seq, f.header, {f.data.begin(), f.data.end()}});
    }
    EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  }
  return out;
}

// A payload that says which seq it belongs to.
std::vector<uint8_t> Payload(uint64_t seq, size_t len) {
  std::vector<uint8_t> d(len);
  for (size_t i = 0; i < len; ++i) d[i] = static_cast<uint8_t>(seq * 7 + i);
  return d;
}

can::Frame MakeFrame(uint64_t seq, const std::vector<uint8_t>& data, int64_t ts) {
  return can::Frame{.timestamp_us = ts, .header = {2, 129025, 10, 255}, .data = data, .seq = seq};
}

class SinkTest : public ::testing::Test {
 protected:
  WriterOptions Writer() {
    WriterOptions o;
    o.dir = dir_.path() + "/journal";
    o.compression = Compression::kNone;
    o.block_size = 4096;
    o.clock = &clock_;
    o.on_rotate = [this](const RotatedFile& f) {
      std::lock_guard<std::mutex> lock(mu_);
      rotated_.push_back(f.path);
    };
    return o;
  }
  std::shared_ptr<JournalSink> Make(WriterOptions wo, SinkOptions so = {}) {
    if (so.clock == nullptr) so.clock = &clock_;
    auto w = JournalWriter::Create(std::move(wo));
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    auto s = JournalSink::Create(std::move(w).value(), so);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  std::vector<std::string> Rotated() {
    std::lock_guard<std::mutex> lock(mu_);
    return rotated_;
  }
  std::string journal_dir() const { return dir_.path() + "/journal"; }

  TempDir dir_;
  FakeClock clock_{kT0, 1'000'000};
  std::mutex mu_;
  std::vector<std::string> rotated_;
};

// The broker's promise: a full queue costs the producer a counter bump,
// never a wait. Frames past the queue's capacity are dropped and counted;
// the ones that got in are all written, in order.
TEST_F(SinkTest, SinkNeverBlocksWhenQueueFull) {
  SinkOptions so;
  so.queue_bytes = FrameQueue::kMinCapacityBytes;  // 102 eight-byte frames
  auto sink = Make(Writer(), so);
  const std::vector<uint8_t> data = Payload(1, 8);
  const uint64_t n = 1000;
  uint64_t accepted = 0;
  for (uint64_t seq = 1; seq <= n; ++seq) {
    if (sink->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq)))) ++accepted;
  }
  const uint64_t capacity = FrameQueue::kMinCapacityBytes / FrameQueue::RecordSize(8);
  EXPECT_EQ(accepted, capacity);
  SinkMetrics m = sink->metrics();
  EXPECT_EQ(m.frames_queued, capacity);
  EXPECT_EQ(m.frames_dropped, n - capacity);
  EXPECT_EQ(m.queue_depth, capacity);
  EXPECT_EQ(m.queue_capacity_bytes, FrameQueue::kMinCapacityBytes);

  SinkCloseReport r = sink->Close();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.frames_drained, capacity);
  auto got = ReadDir(journal_dir());
  ASSERT_EQ(got.size(), capacity);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].seq, i + 1);
  EXPECT_EQ(sink->metrics().frames_written, capacity);
  EXPECT_EQ(sink->metrics().queue_depth, 0u);
}

// A file system whose file creation waits until the test opens the gate: a
// disk that has stopped answering.
class StuckDisk final : public lplex::testing::ForwardingFileSystem {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool waiting() const { return waiting_.load(); }

  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& path) override {
    waiting_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
    return base()->NewExclusiveFile(path);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<bool> waiting_{false};
};

// The same with the runner's thread stuck inside a disk call: the producer
// goes on at full speed, dropping (and counting) what does not fit.
TEST_F(SinkTest, SinkNeverBlocksWhileTheDiskIsStuck) {
  StuckDisk disk;
  WriterOptions wo = Writer();
  wo.fs = &disk;
  SinkOptions so;
  so.queue_bytes = 64 << 10;
  auto sink = Make(wo, so);
  SinkRunner runner({.poll_interval_us = 1000});
  runner.Add(sink);
  runner.Start();
  const std::vector<uint8_t> data = Payload(1, 8);
  uint64_t seq = 1;
  // Fill a block (about 250 frames) so the runner has to write, and wait
  // until it is stuck creating the file.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!disk.waiting() && std::chrono::steady_clock::now() < give_up) {
    sink->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq)));
    ++seq;
    if (seq % 256 == 0) std::this_thread::yield();
  }
  ASSERT_TRUE(disk.waiting()) << "the runner never tried to create the file";
  const SinkMetrics before = sink->metrics();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100'000; ++i, ++seq) sink->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq)));
  const auto took = std::chrono::steady_clock::now() - start;
  const SinkMetrics after = sink->metrics();
  EXPECT_LT(took, std::chrono::seconds(5)) << "Offer waited for the disk";
  EXPECT_GT(after.frames_dropped, before.frames_dropped);
  EXPECT_EQ(after.frames_queued + after.frames_dropped + after.frames_refused, seq - 1);
  disk.Open();
  runner.Stop();
  SinkCloseReport r = sink->Close();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  const SinkMetrics m = sink->metrics();
  EXPECT_EQ(m.frames_written, m.frames_queued);
  EXPECT_EQ(ReadDir(journal_dir()).size(), m.frames_queued);
}

// Tick runs from the runner once tick_interval of monotonic time passed:
// the writer's flush_interval writes a quiet bus's block, and its
// rotate_duration finishes the file (on_rotate fires) — all on fake time.
TEST_F(SinkTest, SinkTicksFlushAndRotateOnTime) {
  WriterOptions wo = Writer();
  wo.flush_interval_us = 5'000'000;
  wo.rotate_duration_us = 60'000'000;
  auto sink = Make(wo);
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data = Payload(1, 8);
  for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(sink->Offer(MakeFrame(seq, data, kT0)));
  runner.RunOnce();
  EXPECT_EQ(sink->metrics().frames_written, 10u);
  EXPECT_TRUE(JournalFiles(journal_dir()).empty()) << "the block is still open: nothing on disk yet";

  clock_.Advance(4'000'000);
  runner.RunOnce();
  EXPECT_TRUE(JournalFiles(journal_dir()).empty()) << "flushed before flush_interval";
  clock_.Advance(1'000'000);  // 5 s since the block opened
  runner.RunOnce();
  ASSERT_EQ(JournalFiles(journal_dir()).size(), 1u);
  EXPECT_EQ(ReadDir(journal_dir()).size(), 10u) << "a quiet bus's frames are on disk after flush_interval";
  EXPECT_TRUE(Rotated().empty());

  clock_.Advance(55'000'000);  // 60 s since the file started
  runner.RunOnce();
  ASSERT_EQ(Rotated().size(), 1u);
  EXPECT_EQ(sink->metrics().files_finished, 1u);

  // No tick between ticks: a pass within tick_interval does not call Tick.
  for (uint64_t seq = 11; seq <= 12; ++seq) ASSERT_TRUE(sink->Offer(MakeFrame(seq, data, kT0 + 61'000'000)));
  runner.RunOnce();
  clock_.Advance(60'000'000);
  runner.RunOnce();
  EXPECT_EQ(Rotated().size(), 2u);
  sink->Close();
  EXPECT_EQ(Rotated().size(), 2u) << "nothing was open any more";
}

// Shutdown: Close writes every queued frame, finishes the file (on_rotate
// fires before Close returns), reports what it did, and refuses later frames.
TEST_F(SinkTest, SinkCloseDrainsQueueAndFinishesFile) {
  auto sink = Make(Writer());
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data = Payload(3, 8);
  for (uint64_t seq = 1; seq <= 500; ++seq) {
    ASSERT_TRUE(sink->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq) * 1000)));
  }
  SinkCloseReport r = sink->Close();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.frames_drained, 500u);
  EXPECT_EQ(r.frames_abandoned, 0u);
  ASSERT_EQ(Rotated().size(), 1u) << "on_rotate fires before Close returns";
  EXPECT_EQ(ReadDir(journal_dir()).size(), 500u);
  EXPECT_EQ(sink->metrics().files_finished, 1u);

  EXPECT_FALSE(sink->Offer(MakeFrame(501, data, kT0)));
  EXPECT_EQ(sink->metrics().frames_refused, 1u);
  EXPECT_EQ(sink->Close().frames_drained, 0u) << "a second Close does nothing";
  runner.RunOnce();
  EXPECT_EQ(runner.sink_count(), 0u) << "a closed sink leaves its runner";
}

// A clock that moves 1 ms every time it is read: a disk so slow that the
// close budget runs out.
class SlowClock final : public Clock {
 public:
  int64_t NowMicros() const override { return kT0 + (mono_ += 1000); }
  int64_t MonotonicMicros() const override { return mono_ += 1000; }

 private:
  mutable std::atomic<int64_t> mono_{0};
};

// Close is bounded: frames still queued when close_budget_us runs out are
// abandoned and counted (in the report and the metrics), and the file is
// still finished.
TEST_F(SinkTest, SinkCloseStopsDrainingWhenItsBudgetRunsOut) {
  SlowClock slow;
  SinkOptions so;
  so.clock = &slow;
  so.close_budget_us = 50'000;  // about 50 frames at 1 ms a frame
  auto sink = Make(Writer(), so);
  const std::vector<uint8_t> data = Payload(3, 8);
  for (uint64_t seq = 1; seq <= 1000; ++seq) ASSERT_TRUE(sink->Offer(MakeFrame(seq, data, kT0)));
  SinkCloseReport r = sink->Close();
  EXPECT_GT(r.frames_drained, 10u);
  EXPECT_LT(r.frames_drained, 100u);
  EXPECT_EQ(r.frames_drained + r.frames_abandoned, 1000u);
  EXPECT_GE(r.elapsed_us, 50'000);
  EXPECT_EQ(sink->metrics().frames_abandoned, r.frames_abandoned);
  EXPECT_EQ(sink->metrics().queue_depth, 0u);
  EXPECT_EQ(Rotated().size(), 1u);
  EXPECT_EQ(ReadDir(journal_dir()).size(), r.frames_drained);
}

// Every field survives the queue — payloads from 0 to 1785 bytes, seq gaps
// (which start a new block in the writer), headers, time — through many
// wraps of a small ring.
TEST_F(SinkTest, SinkFramesArriveInOrderWithTheirSeq) {
  WriterOptions wo = Writer();
  wo.block_size = 1 << 16;
  SinkOptions so;
  so.queue_bytes = 8192;
  auto sink = Make(wo, so);
  SinkRunner runner;
  runner.Add(sink);
  const size_t sizes[] = {0, 1, 8, 9, 43, 223, 500, 1785, 8, 8, 8, 17};
  std::vector<Got> want;
  uint64_t seq = 100;
  for (int i = 0; i < 600; ++i) {
    seq += (i % 50 == 49) ? 5 : 1;  // a gap now and then
    const size_t len = sizes[i % std::size(sizes)];
    const std::vector<uint8_t> data = Payload(seq, len);
    const can::CanHeader h{static_cast<uint8_t>(i % 8), i % 3 ? 129029u : 59904u, static_cast<uint8_t>(i % 250),
                           static_cast<uint8_t>(i % 3 ? 255 : 7)};
    const can::Frame f{.timestamp_us = kT0 + i * 1000, .header = h, .data = data, .seq = seq};
    ASSERT_TRUE(sink->Offer(f)) << "frame " << i;
    want.push_back({f.timestamp_us, seq, h, data});
    if (i % 3 == 2) runner.RunOnce();  // keep the small ring from filling
  }
  ASSERT_TRUE(sink->Close().status.ok());
  auto got = ReadDir(journal_dir());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, want[i].seq) << i;
    EXPECT_EQ(got[i].ts, want[i].ts) << i;
    EXPECT_EQ(got[i].header, want[i].header) << i;
    EXPECT_EQ(got[i].data, want[i].data) << i;
  }
}

// A producer thread against the runner's thread (run this one under TSan):
// every frame is either written or counted as dropped, and what is written
// comes out in seq order with its own bytes.
TEST_F(SinkTest, SinkProducerAndRunnerThreadsAgreeOnEveryFrame) {
  WriterOptions wo = Writer();
  wo.block_size = 1 << 16;
  SinkOptions so;
  so.queue_bytes = 32 << 10;
  auto sink = Make(wo, so);
  SinkRunner runner({.poll_interval_us = 200});
  runner.Add(sink);
  runner.Start();
  constexpr uint64_t kFrames = 100'000;
  std::thread producer([&] {
    for (uint64_t seq = 1; seq <= kFrames; ++seq) {
      const std::vector<uint8_t> data = Payload(seq, seq % 5 == 0 ? 20 : 8);
      sink->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq)));
      if (seq % 1000 == 0) std::this_thread::yield();
    }
  });
  // Metrics are read while both threads run.
  for (int i = 0; i < 50; ++i) {
    const SinkMetrics m = sink->metrics();
    EXPECT_LE(m.queue_bytes, m.queue_capacity_bytes);
    std::this_thread::yield();
  }
  producer.join();
  runner.Stop();
  SinkCloseReport r = sink->Close();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const SinkMetrics m = sink->metrics();
  EXPECT_EQ(m.frames_queued + m.frames_dropped, kFrames);
  EXPECT_EQ(m.frames_written, m.frames_queued);
  auto got = ReadDir(journal_dir());
  ASSERT_EQ(got.size(), m.frames_written);
  uint64_t last = 0;
  for (const Got& g : got) {
    ASSERT_GT(g.seq, last);
    last = g.seq;
    ASSERT_EQ(g.data, Payload(g.seq, g.seq % 5 == 0 ? 20 : 8)) << "seq " << g.seq;
  }
}

// One runner serves several sinks (the cloud's shape): each journal gets
// exactly its own frames.
TEST_F(SinkTest, OneRunnerServesManySinksEachIntoItsOwnJournal) {
  SinkRunner runner;
  std::vector<std::shared_ptr<JournalSink>> sinks;
  for (int i = 0; i < 5; ++i) {
    WriterOptions wo = Writer();
    wo.dir = dir_.path() + "/boat" + std::to_string(i);
    sinks.push_back(Make(wo));
    runner.Add(sinks.back());
  }
  for (uint64_t seq = 1; seq <= 300; ++seq) {
    for (size_t i = 0; i < sinks.size(); ++i) {
      const std::vector<uint8_t> data = Payload(seq * 10 + i, 8);
      ASSERT_TRUE(sinks[i]->Offer(MakeFrame(seq, data, kT0 + static_cast<int64_t>(seq))));
    }
    if (seq % 50 == 0) runner.RunOnce();
  }
  for (auto& s : sinks) ASSERT_TRUE(s->Close().status.ok());
  for (size_t i = 0; i < sinks.size(); ++i) {
    auto got = ReadDir(dir_.path() + "/boat" + std::to_string(i));
    ASSERT_EQ(got.size(), 300u) << "sink " << i;
    EXPECT_EQ(got[299].data, Payload(300 * 10 + i, 8)) << "sink " << i;
  }
}

// Frames the writer refuses (a time outside years 0001..9999) are counted
// as refused and do not stop the sink.
TEST_F(SinkTest, SinkCountsFramesTheWriterRefuses) {
  auto sink = Make(Writer());
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data = Payload(1, 8);
  ASSERT_TRUE(sink->Offer(MakeFrame(1, data, kMaxTimestampUs + 1)));
  ASSERT_TRUE(sink->Offer(MakeFrame(2, data, kT0)));
  runner.RunOnce();
  const SinkMetrics m = sink->metrics();
  EXPECT_EQ(m.frames_refused, 1u);
  EXPECT_EQ(m.frames_written, 1u);
  EXPECT_EQ(m.frames_lost, 0u);
  EXPECT_NE(sink->last_error().message().find(std::to_string(kMaxTimestampUs + 1)), std::string::npos)
      << sink->last_error().ToString();
  const std::vector<uint8_t> huge(kMaxFrameDataLen + 1, 0);
  EXPECT_FALSE(sink->Offer(MakeFrame(3, huge, kT0))) << "a payload over 1785 bytes can never be journaled";
  EXPECT_EQ(sink->metrics().frames_refused, 2u);
}

// ---------------------------------------------------------------------------
// FrameQueue

TEST(FrameQueueTest, RecordsWrapAroundTheRingWithoutSplitting) {
  FrameQueue q(FrameQueue::kMinCapacityBytes);
  uint64_t next_in = 0, next_out = 0;
  can::Frame f;
  for (int round = 0; round < 2000; ++round) {
    // Sizes chosen so records end at every 8-byte offset of the ring.
    const size_t len = static_cast<size_t>(round * 37) % 300;
    const std::vector<uint8_t> data = Payload(next_in, len);
    if (q.Push(MakeFrame(next_in, data, kT0))) ++next_in;
    if (round % 2 == 1) {
      ASSERT_TRUE(q.Peek(&f));
      ASSERT_EQ(f.seq, next_out);
      ASSERT_EQ(std::vector<uint8_t>(f.data.begin(), f.data.end()), Payload(next_out, f.data.size()));
      q.Pop();
      ++next_out;
    }
  }
  while (q.Peek(&f)) {
    ASSERT_EQ(f.seq, next_out++);
    q.Pop();
  }
  EXPECT_EQ(next_in, next_out);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes_used(), 0u);
}

TEST(FrameQueueTest, LargestPayloadAlwaysFitsAnEmptyQueue) {
  FrameQueue q(1);  // rounded up to the minimum
  EXPECT_EQ(q.capacity_bytes(), FrameQueue::kMinCapacityBytes);
  const std::vector<uint8_t> big(kMaxFrameDataLen, 0xAB);
  const std::vector<uint8_t> small(8, 1);
  can::Frame f;
  for (int i = 0; i < 50; ++i) {
    // Move the ring position by an odd amount, then the largest record.
    for (int k = 0; k < i % 7; ++k) {
      ASSERT_TRUE(q.Push(MakeFrame(0, small, kT0)));
      ASSERT_TRUE(q.Peek(&f));
      q.Pop();
    }
    ASSERT_TRUE(q.Push(MakeFrame(1, big, kT0))) << "round " << i;
    ASSERT_TRUE(q.Peek(&f));
    EXPECT_EQ(f.data.size(), kMaxFrameDataLen);
    q.Pop();
  }
  const std::vector<uint8_t> too_big(kMaxFrameDataLen + 1, 0);
  EXPECT_FALSE(q.Push(MakeFrame(2, too_big, kT0)));
}

}  // namespace
}  // namespace lplex::journal
