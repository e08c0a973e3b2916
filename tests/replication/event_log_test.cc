// EventLog: the reference's event log tests (spec/cloud.md §5, 30-33) as our
// own, the exact detail text of every type, the memory promise for idle
// instances, and concurrent use.
#include "replication/event_log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace lplex::replication {
namespace {

constexpr uint64_t kMax = UINT64_MAX;

// Records `n` checkpoints whose frames_received counts up from `first`, at
// time_us = frames_received, so each event says which one it is.
void RecordCheckpoints(EventLog& log, uint64_t first, uint64_t n) {
  for (uint64_t i = first; i < first + n; ++i) log.RecordCheckpoint(static_cast<int64_t>(i), i, 0, 0);
}

TEST(EventLog, NewLogIsEmptyAndAllocatesNothing) {
  EventLog log;
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.allocated(), 0u);  // 10,000 idle instances cost no ring
  EXPECT_TRUE(log.Recent(10).empty());
  EXPECT_TRUE(log.Recent(EventLog::kCapacity).empty());
}

TEST(EventLog, RecentZeroIsEmptyEvenWithEvents) {
  EventLog log;
  RecordCheckpoints(log, 1, 5);
  EXPECT_TRUE(log.Recent(0).empty());
}

TEST(EventLog, RecentReturnsNewestFirstWithDetailsIntact) {
  EventLog log;
  log.RecordLiveStart(100, 42);
  log.RecordCheckpoint(200, 50000, 41, 42);
  log.RecordLiveStop(300, 50001);

  const std::vector<EventLogEntry> got = log.Recent(10);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].time_us, 300);
  EXPECT_EQ(got[0].type, "live_stop");
  EXPECT_EQ(got[0].detail_json, R"({"frames_received":50001})");
  EXPECT_EQ(got[1].time_us, 200);
  EXPECT_EQ(got[1].type, "checkpoint");
  EXPECT_EQ(got[2].time_us, 100);
  EXPECT_EQ(got[2].type, "live_start");
  EXPECT_EQ(got[2].detail_json, R"({"boat_head_seq":42})");
}

TEST(EventLog, RecentOneReturnsOnlyTheNewest) {
  EventLog log;
  RecordCheckpoints(log, 1, 3);
  const std::vector<EventLogEntry> got = log.Recent(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].time_us, 3);
}

TEST(EventLog, SameTimeEventsKeepRecordingOrder) {
  EventLog log;
  log.RecordBackfillStart(7, 2);
  log.RecordBackfillStop(7, 9);
  const std::vector<EventLogEntry> got = log.Recent(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, "backfill_stop");
  EXPECT_EQ(got[1].type, "backfill_start");
}

TEST(EventLog, RingWrapsAt1024KeepingTheNewest) {
  EventLog log;
  RecordCheckpoints(log, 1, EventLog::kCapacity + 500);  // events 1..1524
  EXPECT_EQ(log.size(), EventLog::kCapacity);

  const std::vector<EventLogEntry> got = log.Recent(EventLog::kCapacity);
  ASSERT_EQ(got.size(), EventLog::kCapacity);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].time_us, static_cast<int64_t>(EventLog::kCapacity + 500 - i)) << "position " << i;
  }
  EXPECT_EQ(got.back().time_us, 501);  // 1..500 were overwritten
}

TEST(EventLog, RecentAboveCapacityReturnsAtMost1024) {
  EventLog log;
  RecordCheckpoints(log, 1, 3 * EventLog::kCapacity);
  EXPECT_EQ(log.Recent(5000).size(), EventLog::kCapacity);
  EXPECT_EQ(log.Recent(SIZE_MAX).size(), EventLog::kCapacity);
}

TEST(EventLog, RecentAboveWhatIsHeldReturnsEverything) {
  EventLog log;
  RecordCheckpoints(log, 1, 5);
  EXPECT_EQ(log.Recent(100).size(), 5u);
}

TEST(EventLog, RingAtExactlyCapacityHasNotWrapped) {
  EventLog log;
  RecordCheckpoints(log, 1, EventLog::kCapacity);
  const std::vector<EventLogEntry> got = log.Recent(EventLog::kCapacity);
  ASSERT_EQ(got.size(), EventLog::kCapacity);
  EXPECT_EQ(got.front().time_us, static_cast<int64_t>(EventLog::kCapacity));
  EXPECT_EQ(got.back().time_us, 1);
}

TEST(EventLog, RingGrowsWithUseAndNeverAllocatesPastCapacity) {
  EventLog log;
  log.RecordLiveStart(1, 1);
  EXPECT_GT(log.allocated(), 0u);
  EXPECT_LE(log.allocated(), 16u);  // one stream's first event does not buy the whole ring
  RecordCheckpoints(log, 1, 100);
  EXPECT_GE(log.allocated(), 101u);
  EXPECT_LT(log.allocated(), EventLog::kCapacity);
  RecordCheckpoints(log, 1, 5 * EventLog::kCapacity);
  EXPECT_EQ(log.allocated(), EventLog::kCapacity);
}

TEST(EventLog, IdleLogIsAFewWords) {
  // What an instance that never streams pays: the mutex, an empty vector
  // and an index.
  EXPECT_LE(sizeof(EventLog), 96u);
}

// --- The detail text of each type (the reference's exact bytes: compact,
// keys sorted).

TEST(EventLog, LiveStartDetailIsBoatHeadSeq) {
  EventLog log;
  log.RecordLiveStart(1, 0);
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"boat_head_seq":0})");
}

TEST(EventLog, LiveStopDetailIsFramesReceived) {
  EventLog log;
  log.RecordLiveStop(1, 123);
  EXPECT_EQ(log.Recent(1)[0].type, "live_stop");
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"frames_received":123})");
}

TEST(EventLog, LiveStopOverTheRateLimitNamesTheReason) {
  EventLog log;
  log.RecordLiveStop(1, 501, LiveStopReason::kRateLimitExceeded, /*lag ignored*/ 99);
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"frames_received":501,"reason":"rate_limit_exceeded"})");
}

TEST(EventLog, LiveStopOverTheLagLimitNamesTheReasonAndTheLag) {
  EventLog log;
  log.RecordLiveStop(1, 7, LiveStopReason::kCloudLagExceeded, 10001);
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"frames_received":7,"lag":10001,"reason":"cloud_lag_exceeded"})");
}

TEST(EventLog, BackfillStartDetailIsHoles) {
  EventLog log;
  log.RecordBackfillStart(1, 3);
  EXPECT_EQ(log.Recent(1)[0].type, "backfill_start");
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"holes":3})");
}

TEST(EventLog, BackfillStopDetailIsBlocksReceived) {
  EventLog log;
  log.RecordBackfillStop(1, 17);
  EXPECT_EQ(log.Recent(1)[0].type, "backfill_stop");
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"blocks_received":17})");
}

TEST(EventLog, BlockReceivedDetailHasItsFourFieldsSorted) {
  EventLog log;
  log.RecordBlockReceived(1, 101, 50, 4096, false);
  log.RecordBlockReceived(2, 151, 4294967295u, 2000, true);
  const std::vector<EventLogEntry> got = log.Recent(2);
  EXPECT_EQ(got[1].type, "block_received");
  EXPECT_EQ(got[1].detail_json, R"({"base_seq":101,"bytes":4096,"compressed":false,"frame_count":50})");
  EXPECT_EQ(got[0].detail_json, R"({"base_seq":151,"bytes":2000,"compressed":true,"frame_count":4294967295})");
}

TEST(EventLog, CheckpointDetailKeepsEachNumberInItsKey) {
  EventLog log;
  log.RecordCheckpoint(1, /*frames_received=*/50000, /*cursor=*/49990, /*boat_head_seq=*/50010);
  EXPECT_EQ(log.Recent(1)[0].type, "checkpoint");
  EXPECT_EQ(log.Recent(1)[0].detail_json, R"({"boat_head_seq":50010,"cursor":49990,"frames_received":50000})");
}

TEST(EventLog, LargestSeqsRenderExactlyNotRounded) {
  // A double would print 18446744073709551615 as 1.8446744073709552e19.
  EventLog log;
  log.RecordCheckpoint(-1, kMax, kMax, kMax);
  const EventLogEntry e = log.Recent(1)[0];
  EXPECT_EQ(e.time_us, -1);
  EXPECT_EQ(e.detail_json,
            R"({"boat_head_seq":18446744073709551615,"cursor":18446744073709551615,"frames_received":18446744073709551615})");
}

TEST(EventLog, EveryDetailIsAJsonObject) {
  EventLog log;
  log.RecordLiveStart(1, 1);
  log.RecordLiveStop(2, 1);
  log.RecordLiveStop(3, 1, LiveStopReason::kRateLimitExceeded);
  log.RecordLiveStop(4, 1, LiveStopReason::kCloudLagExceeded, 5);
  log.RecordBackfillStart(5, 1);
  log.RecordBackfillStop(6, 1);
  log.RecordBlockReceived(7, 1, 1, 1, true);
  log.RecordCheckpoint(8, 1, 1, 1);
  const std::vector<EventLogEntry> got = log.Recent(EventLog::kCapacity);
  ASSERT_EQ(got.size(), 8u);
  for (const EventLogEntry& e : got) {
    const nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << e.type << ": " << e.detail_json;
  }
}

// --- Concurrency (meant to be clean under TSan too).

TEST(EventLog, ConcurrentRecordAndRecentSeeEachWriterInOrder) {
  EventLog log;
  constexpr int kWriters = 3;
  constexpr int kSnapshots = 300;
  constexpr int kShift = 40;  // time_us = writer << kShift | counter
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<uint64_t> snapshots_with_events{0};

  // The writers record until the reader has taken all its snapshots, so
  // reads and writes really overlap.
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&log, &done, w] {
      for (int64_t i = 0; !done.load(std::memory_order_relaxed); ++i) {
        log.RecordBlockReceived((static_cast<int64_t>(w) << kShift) | i, static_cast<uint64_t>(i), 1, 1, false);
      }
    });
  }
  // The ring is full before the first snapshot, however the threads are
  // scheduled (a loaded machine may start the writers late).
  while (log.size() < EventLog::kCapacity) std::this_thread::yield();
  // Each snapshot: at most kCapacity events, and within one writer newest
  // first (strictly decreasing counter).
  for (int s = 0; s < kSnapshots; ++s) {
    const std::vector<EventLogEntry> got = log.Recent(EventLog::kCapacity);
    if (got.size() > EventLog::kCapacity) bad.fetch_add(1);
    if (!got.empty()) snapshots_with_events.fetch_add(1);
    std::vector<int64_t> last(kWriters, INT64_MAX);
    for (const EventLogEntry& e : got) {
      const int64_t w = e.time_us >> kShift;
      const int64_t i = e.time_us & ((int64_t{1} << kShift) - 1);
      if (w < 0 || w >= kWriters || i >= last[w]) {
        bad.fetch_add(1);
        break;
      }
      last[w] = i;
    }
  }
  done.store(true);
  for (std::thread& t : writers) t.join();

  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(snapshots_with_events.load(), 0u);
  EXPECT_EQ(log.size(), EventLog::kCapacity);
  EXPECT_EQ(log.Recent(EventLog::kCapacity).size(), EventLog::kCapacity);
}

}  // namespace
}  // namespace lplex::replication
