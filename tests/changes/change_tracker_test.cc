// The change tracker and replayer (spec/boat.md §5.6; the reference's
// change_tracker_test.go, one test each, plus the memory bound, the idle
// timeout sources and the Tick fast path).
#include "changes/change_tracker.h"

#include <gtest/gtest.h>

#include <vector>

#include "changes/payloads.h"

namespace lplex::changes {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::VesselHeading;

constexpr int64_t kMs = 1000;
constexpr int64_t kT0 = 1'772'460'000'000'000;  // 2026-03-02T14:00:00Z
const Bytes kData{1, 2, 3, 4, 5, 6, 7, 8};

ChangeTrackerOptions WithDefaultIdle(int64_t us) {
  ChangeTrackerOptions o;
  o.default_idle_timeout_us = us;
  return o;
}

uint64_t RegisterSubKey(std::span<const uint8_t> data) {
  return data.size() < 4 ? 0 : uint64_t{data[2]} | (uint64_t{data[3]} << 8);
}

// 1.
TEST(ChangeTrackerTest, FirstFrameOfAKeyIsASnapshotWithFullDataAndMetadata) {
  ChangeTracker ct;
  std::optional<ChangeEvent> ev = ct.Process(kT0, 10, 127250, kData, 1);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kSnapshot);
  EXPECT_EQ(ev->data, kData);
  EXPECT_EQ(ev->src, 10);
  EXPECT_EQ(ev->pgn, 127250u);
  EXPECT_EQ(ev->seq, 1u);
  EXPECT_EQ(ev->time_us, kT0);
  EXPECT_EQ(ev->full_bytes, 8u);
}

// 2.
TEST(ChangeTrackerTest, IdenticalFrameGivesNoEvent) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, kData, 1));
  EXPECT_FALSE(ct.Process(kT0 + kMs, 10, 127250, kData, 2).has_value());
}

// 3.
TEST(ChangeTrackerTest, ChangedByteGivesADeltaCarryingTheNewSeq) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, kData, 1));
  std::optional<ChangeEvent> ev = ct.Process(kT0 + kMs, 10, 127250, Bytes{1, 0xFF, 3, 4, 5, 6, 7, 8}, 2);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kDelta);
  EXPECT_EQ(ev->seq, 2u);
  EXPECT_EQ(ev->data, (Bytes{0x02, 0xFF}));
  EXPECT_EQ(ev->full_bytes, 8u);
}

// 4.
TEST(ChangeTrackerTest, SamePgnFromTwoSourcesIsTrackedAsTwoKeys) {
  ChangeTracker ct;
  std::optional<ChangeEvent> a = ct.Process(kT0, 10, 127250, kData, 1);
  std::optional<ChangeEvent> b = ct.Process(kT0, 20, 127250, kData, 2);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->type, ChangeType::kSnapshot);
  EXPECT_EQ(b->type, ChangeType::kSnapshot);
  EXPECT_EQ(ct.tracked_keys(), 2u);
}

// 5.
TEST(ChangeTrackerTest, VictronRegistersKeyedBySubkeyAreTrackedIndependently) {
  ChangeTrackerOptions o;
  o.sub_keys[61184] = RegisterSubKey;
  ChangeTracker ct(o);
  const Bytes reg1{0, 0, 0x00, 0x01, 0xAA, 0xBB, 0xCC, 0xDD};
  const Bytes reg2{0, 0, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44};
  std::optional<ChangeEvent> e1 = ct.Process(kT0, 5, 61184, reg1, 1);
  std::optional<ChangeEvent> e2 = ct.Process(kT0, 5, 61184, reg2, 2);
  ASSERT_TRUE(e1 && e2);
  EXPECT_EQ(e1->type, ChangeType::kSnapshot);
  EXPECT_EQ(e1->subkey, 0x0100u);
  EXPECT_EQ(e2->type, ChangeType::kSnapshot);
  EXPECT_EQ(e2->subkey, 0x0200u);
  EXPECT_FALSE(ct.Process(kT0 + kMs, 5, 61184, reg1, 3).has_value());
  EXPECT_EQ(ct.tracked_keys(), 2u);
}

// 6.
TEST(ChangeTrackerTest, PayloadLengthChangeGivesANewSnapshot) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, Bytes{1, 2, 3}, 1));
  std::optional<ChangeEvent> ev = ct.Process(kT0 + kMs, 10, 127250, Bytes{1, 2, 3, 4}, 2);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kSnapshot);
  EXPECT_EQ(ev->data, (Bytes{1, 2, 3, 4}));
}

// 7.
TEST(ChangeTrackerTest, IdleFiresAfterTheDefaultTimeoutNotBefore) {
  ChangeTracker ct(WithDefaultIdle(100 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 10, 99999, kData, 1));
  EXPECT_TRUE(ct.Tick(kT0 + 50 * kMs).empty());
  std::vector<ChangeEvent> idle = ct.Tick(kT0 + 150 * kMs);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].type, ChangeType::kIdle);
  EXPECT_EQ(idle[0].src, 10);
  EXPECT_EQ(idle[0].pgn, 99999u);
  EXPECT_EQ(idle[0].time_us, kT0 + 150 * kMs);
  EXPECT_TRUE(idle[0].data.empty());
}

// 8.
TEST(ChangeTrackerTest, IdleIsReportedOncePerSilence) {
  ChangeTracker ct(WithDefaultIdle(100 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 10, 99999, kData, 1));
  EXPECT_EQ(ct.Tick(kT0 + 150 * kMs).size(), 1u);
  EXPECT_TRUE(ct.Tick(kT0 + 200 * kMs).empty());
  EXPECT_TRUE(ct.Tick(kT0 + 60'000 * kMs).empty());
}

// 9.
TEST(ChangeTrackerTest, NewFrameReArmsIdle) {
  ChangeTracker ct(WithDefaultIdle(100 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 10, 99999, kData, 1));
  EXPECT_EQ(ct.Tick(kT0 + 150 * kMs).size(), 1u);
  // An unchanged frame (no event) still counts as activity.
  EXPECT_FALSE(ct.Process(kT0 + 200 * kMs, 10, 99999, kData, 2).has_value());
  EXPECT_TRUE(ct.Tick(kT0 + 250 * kMs).empty());
  EXPECT_EQ(ct.Tick(kT0 + 350 * kMs).size(), 1u);
}

// 10.
TEST(ChangeTrackerTest, IdleTimeoutOf127250IsItsRegistryInterval100msTimes3) {
  ChangeTracker ct(WithDefaultIdle(10'000 * kMs));
  EXPECT_EQ(ct.IdleTimeoutUs(127250), 300 * kMs);
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, VesselHeading(1.0), 1));
  EXPECT_TRUE(ct.Tick(kT0 + 200 * kMs).empty());
  EXPECT_EQ(ct.Tick(kT0 + 350 * kMs).size(), 1u);
}

// 11.
TEST(ChangeTrackerTest, PerPgnIdleOverrideTakesPriorityOverTheRegistry) {
  ChangeTrackerOptions o = WithDefaultIdle(10'000 * kMs);
  o.idle_timeouts_us[127250] = 50 * kMs;
  ChangeTracker ct(o);
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, VesselHeading(1.0), 1));
  EXPECT_EQ(ct.Tick(kT0 + 60 * kMs).size(), 1u);
}

// 12.
TEST(ChangeTrackerTest, UnregisteredPgnUsesTheDefaultIdleTimeout) {
  ChangeTracker ct(WithDefaultIdle(200 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 10, 99999, kData, 1));
  EXPECT_TRUE(ct.Tick(kT0 + 150 * kMs).empty());
  EXPECT_EQ(ct.Tick(kT0 + 250 * kMs).size(), 1u);
  EXPECT_EQ(ChangeTracker().IdleTimeoutUs(99999), 5'000 * kMs);
}

// 13.
TEST(ChangeTrackerTest, ResetForgetsEverySoTheNextFrameIsASnapshot) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, kData, 1));
  EXPECT_EQ(ct.tracked_keys(), 1u);
  ct.Reset();
  EXPECT_EQ(ct.tracked_keys(), 0u);
  std::optional<ChangeEvent> ev = ct.Process(kT0 + 1000 * kMs, 10, 127250, kData, 2);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kSnapshot);
}

// 14.
TEST(ChangeTrackerTest, ConfiguredToleranceDiffSuppresses0_001AndReports0_5) {
  ChangeTrackerOptions o;
  o.methods[127250] = std::make_shared<FieldToleranceDiff>(127250, std::vector<FieldTolerance>{{"heading", 0.01}});
  ChangeTracker ct(o);
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, VesselHeading(1.0), 1));
  EXPECT_FALSE(ct.Process(kT0 + kMs, 10, 127250, VesselHeading(1.001), 2).has_value());
  std::optional<ChangeEvent> ev = ct.Process(kT0 + 2 * kMs, 10, 127250, VesselHeading(1.5), 3);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kDelta);
}

// 15.
TEST(ChangeReplayerTest, SnapshotReturnsAndStoresItsData) {
  ChangeReplayer r;
  ChangeEvent snap{.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = kData};
  Result<std::optional<Bytes>> out = r.Apply(snap);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, kData);
  EXPECT_EQ(r.State(10, 127250, 0), kData);
}

// 16.
TEST(ChangeReplayerTest, DeltaReconstructsThePayload) {
  ChangeReplayer r;
  const Bytes next{1, 0xFF, 3, 4, 5, 6, 7, 8};
  Bytes diff;
  ASSERT_TRUE(ByteMaskDiffOf(kData, next, &diff));
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = kData}).ok());
  Result<std::optional<Bytes>> out = r.Apply({.type = ChangeType::kDelta, .src = 10, .pgn = 127250, .data = diff});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, next);
  EXPECT_EQ(r.State(10, 127250, 0), next);
}

// 17.
TEST(ChangeReplayerTest, DeltaWithoutPriorSnapshotIsAnErrorNamingTheKey) {
  ChangeReplayer r;
  Result<std::optional<Bytes>> out =
      r.Apply({.type = ChangeType::kDelta, .src = 10, .pgn = 127250, .seq = 7, .data = {0x02, 0xFF}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(out.status().message(), "delta for src 10 pgn 127250 subkey 0 (seq 7) without a prior snapshot");
}

// 18.
TEST(ChangeReplayerTest, IdleReturnsNothingAndKeepsTheState) {
  ChangeReplayer r;
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = kData}).ok());
  Result<std::optional<Bytes>> out = r.Apply({.type = ChangeType::kIdle, .src = 10, .pgn = 127250});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->has_value());
  EXPECT_EQ(r.State(10, 127250, 0), kData);
}

// 19.
TEST(ChangeTrackerTest, EndToEndEventsReplayIntoExactlyTheOriginalPayloads) {
  ChangeTracker ct;
  ChangeReplayer r;
  const std::vector<Bytes> frames{VesselHeading(1.0), VesselHeading(1.0), VesselHeading(1.5),
                                  VesselHeading(2.0), VesselHeading(2.0), VesselHeading(3.14)};
  int events = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    std::optional<ChangeEvent> ev = ct.Process(kT0 + int64_t(i) * 100 * kMs, 10, 127250, frames[i], i + 1);
    if (!ev) continue;
    ++events;
    Result<std::optional<Bytes>> out = r.Apply(*ev);
    ASSERT_TRUE(out.ok()) << "frame " << i << ": " << out.status().ToString();
    EXPECT_EQ(**out, frames[i]) << "frame " << i;
  }
  EXPECT_EQ(events, 4);  // snapshot + three deltas; the repeats give nothing
}

// 20.
TEST(ChangeTrackerTest, EndToEndRoundTripKeepsSubkeyedRegistersSeparate) {
  ChangeTrackerOptions o;
  o.sub_keys[61184] = RegisterSubKey;
  ChangeTracker ct(o);
  ChangeReplayer r;
  const Bytes r1v1{0, 0, 0x00, 0x01, 0xAA, 0xBB, 0xCC, 0xDD};
  const Bytes r2v1{0, 0, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44};
  const Bytes r1v2{0, 0, 0x00, 0x01, 0xFF, 0xBB, 0xCC, 0xDD};
  for (const Bytes* p : {&r1v1, &r2v1}) {
    std::optional<ChangeEvent> ev = ct.Process(kT0, 5, 61184, *p, 1);
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(**r.Apply(*ev), *p);
  }
  std::optional<ChangeEvent> ev = ct.Process(kT0 + kMs, 5, 61184, r1v2, 3);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kDelta);
  EXPECT_EQ(**r.Apply(*ev), r1v2);
  EXPECT_EQ(r.State(5, 61184, 0x0200), r2v1);
  EXPECT_EQ(r.State(5, 61184, 0x0100), r1v2);
}

// 21.
TEST(ChangeTrackerTest, RemoveDropsOneKeySoItsNextFrameIsASnapshot) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, kData, 1));
  ASSERT_TRUE(ct.Process(kT0, 11, 127250, kData, 2));
  ct.Remove(10, 127250, 0);
  ct.Remove(10, 127250, 99);  // unknown key: no-op
  EXPECT_EQ(ct.tracked_keys(), 1u);
  std::optional<ChangeEvent> ev = ct.Process(kT0 + 1000 * kMs, 10, 127250, kData, 3);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kSnapshot);
  EXPECT_FALSE(ct.Process(kT0 + 1000 * kMs, 11, 127250, kData, 4).has_value());
}

// Beyond the reference.

TEST(ChangeTrackerTest, VesselHeadingUsesProfileToleranceWithoutConfiguration) {
  ChangeTracker ct;  // 127250's heading has tolerance 0.01 rad in lplex's profile
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, VesselHeading(1.0, 0, 0, 1), 1));
  EXPECT_FALSE(ct.Process(kT0 + kMs, 10, 127250, VesselHeading(1.005, 0, 0, 2), 2).has_value());
  EXPECT_TRUE(ct.Process(kT0 + 2 * kMs, 10, 127250, VesselHeading(1.02, 0, 0, 3), 3).has_value());
}

TEST(ChangeTrackerTest, SuppressedChangesDoNotMoveTheBaselineSoValuesCannotCreep) {
  ChangeTracker ct;
  ASSERT_TRUE(ct.Process(kT0, 10, 127250, VesselHeading(1.000), 1));
  EXPECT_FALSE(ct.Process(kT0 + kMs, 10, 127250, VesselHeading(1.006), 2).has_value());
  // 0.006 from the last frame but 0.012 from the baseline: reported.
  std::optional<ChangeEvent> ev = ct.Process(kT0 + 2 * kMs, 10, 127250, VesselHeading(1.012), 3);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->type, ChangeType::kDelta);
  // The delta is against the baseline 1.000, so a replayer holding 1.000 rebuilds 1.012.
  ChangeReplayer r;
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = VesselHeading(1.000)}).ok());
  EXPECT_EQ(**r.Apply(*ev), VesselHeading(1.012));
}

TEST(ChangeTrackerTest, IdleTimeoutFromCanboatIntervalWhenLplexHasNone) {
  // 65302 is not in lplex's profile; canboat gives it a 1000 ms interval.
  EXPECT_EQ(ChangeTracker().IdleTimeoutUs(65302), 3'000 * kMs);
}

TEST(ChangeTrackerTest, IdleTimeoutFromLplexIntervalWhenCanboatHasNone) {
  // 127513: lplex 10000 ms, canboat none.
  EXPECT_EQ(ChangeTracker().IdleTimeoutUs(127513), 30'000 * kMs);
}

TEST(ChangeTrackerTest, IdleMultiplierScalesTheRegistryInterval) {
  ChangeTrackerOptions o;
  o.idle_multiplier = 5;
  EXPECT_EQ(ChangeTracker(o).IdleTimeoutUs(127250), 500 * kMs);
}

TEST(ChangeTrackerTest, IdleEventsComeInSourceThenPgnOrder) {
  ChangeTracker ct(WithDefaultIdle(100 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 30, 99999, kData, 1));
  ASSERT_TRUE(ct.Process(kT0, 10, 99998, kData, 2));
  ASSERT_TRUE(ct.Process(kT0, 10, 99997, kData, 3));
  std::vector<ChangeEvent> idle = ct.Tick(kT0 + 100 * kMs);  // exactly the timeout counts
  ASSERT_EQ(idle.size(), 3u);
  EXPECT_EQ(std::make_pair(idle[0].src, idle[0].pgn), std::make_pair(uint8_t{10}, 99997u));
  EXPECT_EQ(std::make_pair(idle[1].src, idle[1].pgn), std::make_pair(uint8_t{10}, 99998u));
  EXPECT_EQ(std::make_pair(idle[2].src, idle[2].pgn), std::make_pair(uint8_t{30}, 99999u));
}

TEST(ChangeTrackerTest, KeysWithDifferentTimeoutsGoIdleAtTheirOwnDeadlines) {
  // Exercises the Tick fast path: after a scan only the next deadline matters.
  ChangeTracker ct(WithDefaultIdle(1'000 * kMs));
  ASSERT_TRUE(ct.Process(kT0, 1, 127250, VesselHeading(1.0), 1));  // 300 ms
  ASSERT_TRUE(ct.Process(kT0, 2, 99999, kData, 2));                // 1000 ms
  for (int64_t t = 0; t < 300; t += 10) ASSERT_TRUE(ct.Tick(kT0 + t * kMs).empty()) << t;
  std::vector<ChangeEvent> idle = ct.Tick(kT0 + 300 * kMs);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].src, 1);
  for (int64_t t = 310; t < 500; t += 10) ASSERT_TRUE(ct.Tick(kT0 + t * kMs).empty()) << t;
  // Re-armed after the scan: its new deadline (800 ms) is earlier than the
  // one the scan found (1000 ms), and must still be met.
  ASSERT_FALSE(ct.Process(kT0 + 500 * kMs, 1, 127250, VesselHeading(1.0), 3).has_value());
  EXPECT_TRUE(ct.Tick(kT0 + 790 * kMs).empty());
  idle = ct.Tick(kT0 + 800 * kMs);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].src, 1);
  idle = ct.Tick(kT0 + 1000 * kMs);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].src, 2);
}

TEST(ChangeTrackerTest, AtTheKeyCapTheLeastRecentlySeenKeyIsForgotten) {
  ChangeTrackerOptions o;
  o.max_keys = 2;
  ChangeTracker ct(o);
  ASSERT_TRUE(ct.Process(kT0, 1, 99999, kData, 1));      // A
  ASSERT_TRUE(ct.Process(kT0, 2, 99999, kData, 2));      // B
  ASSERT_FALSE(ct.Process(kT0, 1, 99999, kData, 3));     // A again: B is now least recent
  ASSERT_TRUE(ct.Process(kT0, 3, 99999, kData, 4));      // C evicts B
  EXPECT_EQ(ct.tracked_keys(), 2u);
  EXPECT_FALSE(ct.Process(kT0, 1, 99999, kData, 5).has_value());  // A kept its baseline
  std::optional<ChangeEvent> b = ct.Process(kT0, 2, 99999, kData, 6);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->type, ChangeType::kSnapshot);  // B starts over
  EXPECT_EQ(ct.tracked_keys(), 2u);
}

TEST(ChangeTrackerTest, FloodOfNewKeysStaysWithinTheCap) {
  ChangeTrackerOptions o;
  o.max_keys = 1000;
  ChangeTracker ct(o);
  for (uint32_t i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(ct.Process(kT0 + i, static_cast<uint8_t>(i), 60000 + i % 5000, kData, i));
  }
  EXPECT_EQ(ct.tracked_keys(), 1000u);
  EXPECT_EQ(ct.Tick(kT0 + 3'600'000 * kMs).size(), 1000u);
}

TEST(ChangeReplayerTest, MalformedDeltaIsAnErrorAndLeavesTheStateAlone) {
  ChangeReplayer r;
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = kData}).ok());
  Result<std::optional<Bytes>> out =
      r.Apply({.type = ChangeType::kDelta, .src = 10, .pgn = 127250, .seq = 4, .data = {0x03, 0xFF}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "delta for src 10 pgn 127250 subkey 0 (seq 4): diff mask marks 2 changed bytes but 1 follow it");
  EXPECT_EQ(r.State(10, 127250, 0), kData);
}

TEST(ChangeReplayerTest, SnapshotWithANewLengthReplacesTheState) {
  ChangeReplayer r;
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = kData}).ok());
  ASSERT_TRUE(r.Apply({.type = ChangeType::kSnapshot, .src = 10, .pgn = 127250, .data = {1, 2, 3}}).ok());
  EXPECT_EQ(r.State(10, 127250, 0), (Bytes{1, 2, 3}));
  EXPECT_FALSE(r.State(10, 127250, 1).has_value());
}

}  // namespace
}  // namespace lplex::changes
