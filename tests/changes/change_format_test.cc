// Output of change events (spec/boat.md §5.4 JSON keys, §5.3 terminal tags).
#include "changes/change_format.h"

#include <gtest/gtest.h>

namespace lplex::changes {
namespace {

constexpr int64_t kT0 = 1'772'460'000'000'000;  // 2026-03-02T14:00:00Z

FrameText Frame() {
  return FrameText{.seq = 42, .ts = "2026-03-02T14:00:00.25Z", .prio = 2, .pgn = 127250, .src = 10, .dst = 255,
                   .data = "0102030405060708"};
}

TEST(ChangeFormatTest, SnapshotJsonStartsWithChangeAndHasNoByteCounts) {
  ChangeEvent ev{.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .seq = 42,
                 .data = {1, 2, 3, 4, 5, 6, 7, 8}, .full_bytes = 8};
  std::string s;
  AppendChangeFrameJson(ev, Frame(), &s);
  EXPECT_EQ(s, R"({"change":"snapshot","seq":42,"ts":"2026-03-02T14:00:00.25Z","prio":2,"pgn":127250,"src":10,)"
               R"("dst":255,"data":"0102030405060708")");
}

TEST(ChangeFormatTest, DeltaJsonCarriesDiffAndFullBytesBeforeSeqAndTheFullData) {
  ChangeEvent ev{.type = ChangeType::kDelta, .src = 10, .pgn = 127250, .seq = 42, .data = {0x02, 0xFF},
                 .full_bytes = 8};
  std::string s = "prefix:";
  AppendChangeFrameJson(ev, Frame(), &s);
  EXPECT_EQ(s, R"(prefix:{"change":"delta","diff_bytes":2,"full_bytes":8,"seq":42,"ts":"2026-03-02T14:00:00.25Z",)"
               R"("prio":2,"pgn":127250,"src":10,"dst":255,"data":"0102030405060708")");
}

TEST(ChangeFormatTest, DeltaJsonLeavesOutAZeroFullBytes) {
  ChangeEvent ev{.type = ChangeType::kDelta, .data = {0x00}, .full_bytes = 0};
  std::string s;
  AppendChangeFrameJson(ev, FrameText{}, &s);
  EXPECT_EQ(s, R"({"change":"delta","diff_bytes":1,"seq":0,"ts":"","prio":0,"pgn":0,"src":0,"dst":0,"data":"")");
}

TEST(ChangeFormatTest, IdleJsonLineHasUtcRfc3339NanoTimeAndPgnThenSrc) {
  ChangeEvent ev{.type = ChangeType::kIdle, .time_us = kT0 + 500'123, .src = 10, .pgn = 127250};
  EXPECT_EQ(IdleJsonLine(ev), "{\"change\":\"idle\",\"ts\":\"2026-03-02T14:00:00.500123Z\",\"pgn\":127250,\"src\":10}\n");
  ev.time_us = kT0;
  EXPECT_EQ(IdleJsonLine(ev), "{\"change\":\"idle\",\"ts\":\"2026-03-02T14:00:00Z\",\"pgn\":127250,\"src\":10}\n");
}

TEST(ChangeFormatTest, TerminalTagsHaveTheirColoursAndWidths) {
  ChangeEvent snap{.type = ChangeType::kSnapshot, .data = {1, 2}, .full_bytes = 2};
  ChangeEvent delta{.type = ChangeType::kDelta, .data = {0x02, 0xFF}, .full_bytes = 8};
  ChangeEvent idle{.type = ChangeType::kIdle};
  EXPECT_EQ(ChangeTag(snap), "\x1b[32m[snapshot]\x1b[0m ");
  EXPECT_EQ(ChangeTag(delta), "\x1b[33m[delta 2/8B]\x1b[0m ");
  EXPECT_EQ(ChangeTag(idle), "\x1b[2m[idle]    \x1b[0m ");
  EXPECT_EQ(ChangeTag(snap, false), "[snapshot] ");
  EXPECT_EQ(ChangeTag(delta, false), "[delta 2/8B] ");
  EXPECT_EQ(ChangeTag(idle, false), "[idle]     ");
  EXPECT_EQ(ChangeTag(idle, false).size(), ChangeTag(snap, false).size());
}

TEST(ChangeFormatTest, ChangeTypeNamesAreTheJsonValues) {
  EXPECT_EQ(ChangeTypeName(ChangeType::kSnapshot), "snapshot");
  EXPECT_EQ(ChangeTypeName(ChangeType::kDelta), "delta");
  EXPECT_EQ(ChangeTypeName(ChangeType::kIdle), "idle");
  EXPECT_EQ(ChangeTypeName(static_cast<ChangeType>(9)), "unknown");
}

}  // namespace
}  // namespace lplex::changes
