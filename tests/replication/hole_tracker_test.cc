// HoleTracker: the reference's range semantics (spec/cloud.md §1.7, the
// HoleTracker tests of §5 restated as our own), the edges the reference never
// tried (0 and UINT64_MAX bounds), and a model check against a plain bitmap.
#include "replication/hole_tracker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace lplex::replication {
namespace {

using Ranges = std::vector<SeqRange>;
constexpr uint64_t kMax = UINT64_MAX;

HoleTracker With(const Ranges& holes) {
  HoleTracker t;
  for (const SeqRange& h : holes) t.Add(h.start, h.end);
  return t;
}

TEST(HoleTracker, NewTrackerHasNoHoles) {
  HoleTracker t;
  EXPECT_TRUE(t.Holes().empty());
  EXPECT_EQ(t.Len(), 0u);
  EXPECT_EQ(t.TotalMissing(), 0u);
}

TEST(HoleTracker, DisjointRangesAddedOutOfOrderStaySorted) {
  HoleTracker t;
  t.Add(100, 200);
  t.Add(300, 400);  // after
  t.Add(10, 20);    // before
  EXPECT_EQ(t.Holes(), (Ranges{{10, 20}, {100, 200}, {300, 400}}));
}

TEST(HoleTracker, RangeBridgingTwoHolesMergesThemIntoOne) {
  HoleTracker t = With({{10, 20}, {30, 40}});
  t.Add(15, 35);
  EXPECT_EQ(t.Holes(), (Ranges{{10, 40}}));
}

TEST(HoleTracker, TouchingRangesMergeIntoOne) {
  HoleTracker t = With({{10, 20}});
  t.Add(20, 30);
  EXPECT_EQ(t.Holes(), (Ranges{{10, 30}}));
  t.Add(5, 10);  // touching on the left too
  EXPECT_EQ(t.Holes(), (Ranges{{5, 30}}));
}

TEST(HoleTracker, EmptyAndInvertedAddsChangeNothing) {
  HoleTracker t;
  t.Add(10, 10);
  t.Add(20, 10);
  t.Add(kMax, 0);
  EXPECT_TRUE(t.Holes().empty());
}

TEST(HoleTracker, RangeInsideAHoleChangesNothing) {
  HoleTracker t = With({{10, 40}});
  t.Add(15, 25);
  t.Add(10, 40);
  EXPECT_EQ(t.Holes(), (Ranges{{10, 40}}));
}

TEST(HoleTracker, RangeCoveringSeveralHolesSwallowsThem) {
  HoleTracker t = With({{10, 20}, {30, 40}, {50, 60}});
  t.Add(5, 65);
  EXPECT_EQ(t.Holes(), (Ranges{{5, 65}}));
}

TEST(HoleTracker, FillOnAnEmptyTrackerReturnsFalse) {
  HoleTracker t;
  EXPECT_FALSE(t.Fill(1, 100));
}

TEST(HoleTracker, FillMissingEveryHoleReturnsFalseAndKeepsThem) {
  HoleTracker t = With({{10, 20}, {30, 40}});
  EXPECT_FALSE(t.Fill(20, 30));  // exactly the gap between them
  EXPECT_FALSE(t.Fill(0, 10));
  EXPECT_FALSE(t.Fill(40, 50));
  EXPECT_EQ(t.Holes(), (Ranges{{10, 20}, {30, 40}}));
}

TEST(HoleTracker, FillingExactlyAHoleRemovesIt) {
  HoleTracker t = With({{10, 20}, {30, 40}});
  EXPECT_TRUE(t.Fill(10, 20));
  EXPECT_EQ(t.Holes(), (Ranges{{30, 40}}));
}

TEST(HoleTracker, FillingTheMiddleSplitsAHole) {
  HoleTracker t = With({{10, 40}});
  EXPECT_TRUE(t.Fill(20, 25));
  EXPECT_EQ(t.Holes(), (Ranges{{10, 20}, {25, 40}}));
}

TEST(HoleTracker, FillingTheLeftSideTrimsAHole) {
  HoleTracker t = With({{10, 30}});
  EXPECT_TRUE(t.Fill(10, 20));
  EXPECT_EQ(t.Holes(), (Ranges{{20, 30}}));
}

TEST(HoleTracker, FillingTheRightSideTrimsAHole) {
  HoleTracker t = With({{10, 30}});
  EXPECT_TRUE(t.Fill(20, 30));
  EXPECT_EQ(t.Holes(), (Ranges{{10, 20}}));
}

TEST(HoleTracker, FillSpanningThreeHolesTrimsTheOuterOnesAndDropsTheMiddle) {
  HoleTracker t = With({{10, 20}, {30, 40}, {50, 60}});
  EXPECT_TRUE(t.Fill(15, 55));
  EXPECT_EQ(t.Holes(), (Ranges{{10, 15}, {55, 60}}));
}

TEST(HoleTracker, EmptyAndInvertedFillsReturnFalseAndChangeNothing) {
  HoleTracker t = With({{10, 20}});
  EXPECT_FALSE(t.Fill(15, 15));
  EXPECT_FALSE(t.Fill(18, 12));
  EXPECT_EQ(t.Holes(), (Ranges{{10, 20}}));
}

TEST(HoleTracker, ContinuousThroughWithNoHolesIsUnbounded) {
  HoleTracker t;
  EXPECT_EQ(t.ContinuousThrough(0), kMax);
  EXPECT_EQ(t.ContinuousThrough(12345), kMax);
}

TEST(HoleTracker, ContinuousThroughStopsJustBelowAHoleAfterTheCursor) {
  HoleTracker t = With({{200, 300}});
  EXPECT_EQ(t.ContinuousThrough(100), 199u);
}

TEST(HoleTracker, ContinuousThroughAtAHoleStartIsTheSeqBeforeTheCursor) {
  HoleTracker t = With({{100, 200}});
  EXPECT_EQ(t.ContinuousThrough(100), 99u);
  EXPECT_EQ(t.ContinuousThrough(150), 149u);  // inside the hole: the same rule
}

TEST(HoleTracker, ContinuousThroughIgnoresHolesEndingAtOrBeforeTheCursor) {
  HoleTracker t = With({{10, 20}, {30, 40}});
  EXPECT_EQ(t.ContinuousThrough(40), kMax);
  EXPECT_EQ(t.ContinuousThrough(500), kMax);
}

TEST(HoleTracker, ContinuousThroughOfCursorZeroInsideAHoleIsZero) {
  HoleTracker t = With({{0, 10}});
  EXPECT_EQ(t.ContinuousThrough(0), 0u);  // no wrap to UINT64_MAX
}

TEST(HoleTracker, TotalMissingSumsTheHoleLengths) {
  HoleTracker t;
  EXPECT_EQ(t.TotalMissing(), 0u);
  t.Add(10, 20);
  t.Add(30, 50);
  EXPECT_EQ(t.TotalMissing(), 30u);
}

// The reference's "realistic reconnect": the cloud had 1..5000, the boat is at
// 7001; backfill arrives newest half first (the boat sends holes newest first).
TEST(HoleTracker, ReconnectHoleFilledNewestHalfFirstLeavesNothing) {
  HoleTracker t = With({{5001, 7001}});
  EXPECT_EQ(t.ContinuousThrough(1), 5000u);
  EXPECT_TRUE(t.Fill(6001, 7001));
  EXPECT_EQ(t.Holes(), (Ranges{{5001, 6001}}));
  EXPECT_EQ(t.ContinuousThrough(1), 5000u);
  EXPECT_TRUE(t.Fill(5001, 6001));
  EXPECT_TRUE(t.Holes().empty());
  EXPECT_EQ(t.ContinuousThrough(1), kMax);
}

TEST(HoleTracker, RangesAtTheTopOfTheSeqSpaceNeitherWrapNorOverflow) {
  HoleTracker t;
  t.Add(kMax - 10, kMax);
  t.Add(0, 5);
  EXPECT_EQ(t.Holes(), (Ranges{{0, 5}, {kMax - 10, kMax}}));
  EXPECT_EQ(t.TotalMissing(), 15u);
  EXPECT_TRUE(t.Contains(kMax - 1));
  EXPECT_FALSE(t.Contains(kMax));
  EXPECT_TRUE(t.Fill(kMax - 5, kMax));
  EXPECT_EQ(t.Holes(), (Ranges{{0, 5}, {kMax - 10, kMax - 5}}));
  t.Add(0, kMax);  // everything representable
  EXPECT_EQ(t.Holes(), (Ranges{{0, kMax}}));
  EXPECT_EQ(t.TotalMissing(), kMax);
  EXPECT_TRUE(t.Fill(0, kMax));
  EXPECT_TRUE(t.Holes().empty());
}

TEST(HoleTracker, CoarseningMergesTheClosestNeighboursAndNeverForgetsAMissingSeq) {
  HoleTracker t = With({{10, 20}, {22, 30}, {100, 110}, {111, 120}, {500, 501}});
  const HoleTracker before = t;
  t.CoarsenTo(3);
  // The gaps of 1 (110..111) and 2 (20..22) are the smallest.
  EXPECT_EQ(t.Holes(), (Ranges{{10, 30}, {100, 120}, {500, 501}}));
  for (const SeqRange& h : before.ranges()) {
    for (uint64_t s = h.start; s < h.end; ++s) EXPECT_TRUE(t.Contains(s)) << s;
  }
  t.CoarsenTo(0);  // treated as 1
  EXPECT_EQ(t.Holes(), (Ranges{{10, 501}}));
}

// Any sequence of Add/Fill gives the maximal runs of a plain bitmap, and
// Fill reports exactly whether a missing seq was in its range.
TEST(HoleTracker, RandomAddsAndFillsMatchABitmapModel) {
  constexpr uint64_t kSpace = 96;
  std::mt19937_64 rng(8);
  for (int round = 0; round < 200; ++round) {
    HoleTracker t;
    std::vector<bool> missing(kSpace, false);
    for (int op = 0; op < 60; ++op) {
      const uint64_t a = rng() % (kSpace + 1);
      const uint64_t b = rng() % (kSpace + 1);  // inverted and empty ranges included
      if (rng() % 2 == 0) {
        t.Add(a, b);
        for (uint64_t s = a; s < b; ++s) missing[s] = true;
      } else {
        bool any = false;
        for (uint64_t s = a; s < b; ++s) {
          any = any || missing[s];
          missing[s] = false;
        }
        ASSERT_EQ(t.Fill(a, b), any) << "round " << round << " op " << op;
      }
      Ranges want;
      uint64_t total = 0;
      for (uint64_t s = 0; s < kSpace; ++s) {
        if (!missing[s]) continue;
        ++total;
        if (!want.empty() && want.back().end == s) want.back().end = s + 1;
        else want.push_back({s, s + 1});
      }
      ASSERT_EQ(t.Holes(), want) << "round " << round << " op " << op;
      ASSERT_EQ(t.TotalMissing(), total);
      const uint64_t c = rng() % kSpace;
      uint64_t expect = kMax;
      for (const SeqRange& h : want) {
        if (h.end > c) {
          expect = h.start <= c ? (c == 0 ? 0 : c - 1) : h.start - 1;
          break;
        }
      }
      ASSERT_EQ(t.ContinuousThrough(c), expect);
    }
  }
}

}  // namespace
}  // namespace lplex::replication
