// Diff methods (spec/boat.md §5.6 "Diff methods"; the reference's
// change_diff_test.go, one test each, plus the malformed-diff cases Apply
// must survive).
#include "changes/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numbers>
#include <random>
#include <vector>

#include "changes/payloads.h"
#include "pgn/decoder.h"

namespace lplex::changes {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::VesselHeading;
using testing::WindData;
using testing::kWindApparent;
using testing::kWindTrueNorth;

Bytes Apply(const Bytes& prev, const Bytes& diff) {
  Result<Bytes> r = ApplyByteMaskDiff(prev, diff);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Bytes{};
}

std::string ApplyError(const Bytes& prev, const Bytes& diff) {
  Result<Bytes> r = ApplyByteMaskDiff(prev, diff);
  return r.ok() ? "<applied>" : r.status().message();
}

// 1.
TEST(ByteMaskDiffTest, IdenticalPayloadsAreNotSignificantAndGiveNoDiff) {
  ByteMaskDiff d;
  const Bytes data{1, 2, 3, 4, 5, 6, 7, 8};
  Bytes diff{9};
  EXPECT_FALSE(d.Diff(data, data, &diff));
  EXPECT_TRUE(diff.empty());
}

// 2.
TEST(ByteMaskDiffTest, SingleChangedByteGivesShortFormMaskAndByte) {
  ByteMaskDiff d;
  Bytes diff;
  ASSERT_TRUE(d.Diff(Bytes{1, 2, 3, 4, 5, 6, 7, 8}, Bytes{1, 0xFF, 3, 4, 5, 6, 7, 8}, &diff));
  EXPECT_EQ(diff, (Bytes{0x02, 0xFF}));
}

// 3.
TEST(ByteMaskDiffTest, MultipleChangedBytesGiveMask0x85AndThemInOrder) {
  ByteMaskDiff d;
  Bytes diff;
  ASSERT_TRUE(d.Diff(Bytes{1, 2, 3, 4, 5, 6, 7, 8}, Bytes{0xAA, 2, 0xBB, 4, 5, 6, 7, 0xCC}, &diff));
  EXPECT_EQ(diff, (Bytes{0x85, 0xAA, 0xBB, 0xCC}));
}

// 4.
TEST(ByteMaskDiffTest, AllEightBytesChangedGiveMask0xFFAndAllBytes) {
  ByteMaskDiff d;
  const Bytes curr{1, 2, 3, 4, 5, 6, 7, 8};
  Bytes diff;
  ASSERT_TRUE(d.Diff(Bytes(8, 0), curr, &diff));
  ASSERT_EQ(diff.size(), 9u);
  EXPECT_EQ(diff[0], 0xFF);
  EXPECT_EQ(Bytes(diff.begin() + 1, diff.end()), curr);
}

// 5.
TEST(ByteMaskDiffTest, ApplyOfDiffRestoresTheCurrentPayload) {
  ByteMaskDiff d;
  const Bytes prev{1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes curr{1, 0xFF, 3, 0xEE, 5, 6, 0xDD, 8};
  Bytes diff;
  ASSERT_TRUE(d.Diff(prev, curr, &diff));
  Result<Bytes> applied = d.Apply(prev, diff);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, curr);
}

// 6.
TEST(ByteMaskDiffTest, ThreeBytePayloadUsesTheShortForm) {
  const Bytes prev{1, 2, 3};
  const Bytes curr{1, 0xFF, 3};
  Bytes diff;
  ASSERT_TRUE(ByteMaskDiffOf(prev, curr, &diff));
  EXPECT_EQ(diff, (Bytes{0x02, 0xFF}));
  EXPECT_EQ(Apply(prev, diff), curr);
}

// 7.
TEST(ByteMaskDiffTest, TwentyBytePayloadUsesExtendedFormWithMaskLengthThree) {
  const Bytes prev(20, 0);
  Bytes curr = prev;
  curr[0] = 0xAA;
  curr[9] = 0xBB;
  curr[19] = 0xCC;
  Bytes diff;
  ASSERT_TRUE(ByteMaskDiffOf(prev, curr, &diff));
  // [3, 0] mask length, mask bytes 0x01 (byte 0), 0x02 (byte 9), 0x08 (byte 19), then the bytes.
  EXPECT_EQ(diff, (Bytes{0x03, 0x00, 0x01, 0x02, 0x08, 0xAA, 0xBB, 0xCC}));
  EXPECT_EQ(diff.size(), 8u);
}

// 8.
TEST(ByteMaskDiffTest, FiftyBytePayloadRoundTripsThroughExtendedForm) {
  Bytes prev(50);
  for (size_t i = 0; i < prev.size(); ++i) prev[i] = static_cast<uint8_t>(i);
  Bytes curr = prev;
  for (size_t i : {0, 15, 31, 49}) curr[i] = 0xFF;
  Bytes diff;
  ASSERT_TRUE(ByteMaskDiffOf(prev, curr, &diff));
  EXPECT_EQ(diff.size(), 2u + 7u + 4u);
  EXPECT_EQ(Apply(prev, diff), curr);
}

// 9.
TEST(ByteMaskDiffTest, LengthChangeIsSignificantWithNoDiff) {
  Bytes diff{1};
  EXPECT_TRUE(ByteMaskDiffOf(Bytes{1, 2, 3}, Bytes{1, 2, 3, 4}, &diff));
  EXPECT_TRUE(diff.empty());
}

// Exactly 8 bytes is still the short form; 9 is the first extended one.
TEST(ByteMaskDiffTest, NineBytePayloadIsTheFirstToUseTheExtendedForm) {
  Bytes diff;
  ASSERT_TRUE(ByteMaskDiffOf(Bytes(9, 0), Bytes{0, 0, 0, 0, 0, 0, 0, 0, 7}, &diff));
  EXPECT_EQ(diff, (Bytes{0x02, 0x00, 0x00, 0x01, 0x07}));
  ASSERT_TRUE(ByteMaskDiffOf(Bytes(8, 0), Bytes{0, 0, 0, 0, 0, 0, 0, 7}, &diff));
  EXPECT_EQ(diff, (Bytes{0x80, 0x07}));
}

// Apply: errors as values for diffs that do not fit the payload.
TEST(ByteMaskApplyTest, EmptyDiffIsAnErrorNamingThePayloadLength) {
  EXPECT_EQ(ApplyError(Bytes{1, 2, 3}, Bytes{}),
            "empty diff for a 3-byte payload (valid: a mask byte, then the changed bytes)");
}

TEST(ByteMaskApplyTest, MaskBitPastAShortPayloadIsAnError) {
  EXPECT_EQ(ApplyError(Bytes{1, 2, 3}, Bytes{0x08, 0xFF}), "diff mask 0x08 names bytes past the 3-byte payload");
}

TEST(ByteMaskApplyTest, FewerChangedBytesThanMaskBitsIsAnError) {
  EXPECT_EQ(ApplyError(Bytes{1, 2, 3, 4}, Bytes{0x03, 0xFF}), "diff mask marks 2 changed bytes but 1 follow it");
}

TEST(ByteMaskApplyTest, MoreChangedBytesThanMaskBitsIsAnError) {
  EXPECT_EQ(ApplyError(Bytes{1, 2, 3, 4}, Bytes{0x01, 0xFF, 0xEE}), "diff mask marks 1 changed bytes but 2 follow it");
}

TEST(ByteMaskApplyTest, ShortFormDiffForALongPayloadIsAnError) {
  EXPECT_EQ(ApplyError(Bytes(20, 0), Bytes{0x02}),
            "1-byte diff for a 20-byte payload (valid: a 2-byte mask length, 3 mask bytes, then the changed bytes)");
}

TEST(ByteMaskApplyTest, WrongMaskLengthForALongPayloadIsAnError) {
  EXPECT_EQ(ApplyError(Bytes(20, 0), Bytes{0x02, 0x00, 0x01, 0x00, 0xAA}),
            "diff mask length 2 (3 bytes present) does not fit a 20-byte payload (valid: 3)");
  EXPECT_EQ(ApplyError(Bytes(20, 0), Bytes{0x03, 0x00, 0x01}),
            "diff mask length 3 (1 bytes present) does not fit a 20-byte payload (valid: 3)");
}

TEST(ByteMaskApplyTest, MaskBitPastALongPayloadIsAnError) {
  // 20 bytes: the last mask byte may only use bits 0..3.
  EXPECT_EQ(ApplyError(Bytes(20, 0), Bytes{0x03, 0x00, 0x00, 0x00, 0x10, 0xAA}),
            "diff mask byte 2 (0x10) names bytes past the 20-byte payload");
}

TEST(ByteMaskApplyTest, RandomBytesAreSafeInputAndValidDiffsAlwaysRoundTrip) {
  std::mt19937 rng(9);
  for (int round = 0; round < 20000; ++round) {
    Bytes prev(rng() % 40);
    for (uint8_t& b : prev) b = static_cast<uint8_t>(rng());
    Bytes junk(rng() % 12);
    for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
    (void)ApplyByteMaskDiff(prev, junk);  // must not crash or read out of bounds (ASan)
    Bytes curr = prev;
    for (uint8_t& b : curr) {
      if (rng() % 3 == 0) b = static_cast<uint8_t>(rng());
    }
    Bytes diff;
    if (ByteMaskDiffOf(prev, curr, &diff)) {
      ASSERT_EQ(Apply(prev, diff), curr) << "round " << round;
    } else {
      ASSERT_EQ(prev, curr);
    }
  }
}

// FieldToleranceDiff, with the reference's explicit tolerances.

// 10.
TEST(FieldToleranceDiffTest, WindAngleChangeWithinToleranceIsSuppressed) {
  FieldToleranceDiff d(130306, {{"wind_angle", 0.001}, {"wind_speed", 0.1}});
  Bytes diff;
  EXPECT_FALSE(d.Diff(WindData(5.0, 1.0000, kWindApparent), WindData(5.0, 1.0001, kWindApparent), &diff));
  EXPECT_TRUE(diff.empty());
}

// 11.
TEST(FieldToleranceDiffTest, WindAngleChangePastToleranceIsSignificantAndItsDiffRoundTrips) {
  FieldToleranceDiff d(130306, {{"wind_angle", 0.001}});
  const Bytes prev = WindData(5.0, 1.0, kWindApparent);
  const Bytes curr = WindData(5.0, 1.5, kWindApparent);
  Bytes diff;
  ASSERT_TRUE(d.Diff(prev, curr, &diff));
  Result<Bytes> applied = d.Apply(prev, diff);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, curr);
}

// 12.
TEST(FieldToleranceDiffTest, OneFieldPastItsToleranceMakesTheChangeSignificant) {
  FieldToleranceDiff d(130306, {{"wind_angle", 0.001}, {"wind_speed", 0.1}});
  Bytes diff;
  EXPECT_TRUE(d.Diff(WindData(5.0, 1.0, kWindApparent), WindData(10.0, 1.0001, kWindApparent), &diff));
  EXPECT_FALSE(diff.empty());
}

// 13.
TEST(FieldToleranceDiffTest, UndecodablePgnFallsBackToTheByteDiff) {
  pgn::DecodedMessage msg;
  const Bytes prev{1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes curr{1, 0xFF, 3, 4, 5, 6, 7, 8};
  ASSERT_FALSE(pgn::Decode(1, std::nullopt, prev, &msg)) << "PGN 1 must have no definition for this test";
  FieldToleranceDiff d(1, {{"x", 100}});
  Bytes diff;
  ASSERT_TRUE(d.Diff(prev, curr, &diff));
  EXPECT_EQ(diff, (Bytes{0x02, 0xFF}));
  Result<Bytes> applied = d.Apply(prev, diff);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, curr);
}

TEST(FieldToleranceDiffTest, ExplicitToleranceOnAKeyTheDefinitionLacksComparesBytes) {
  // 99999 decodes with canboat's generic proprietary-range definition, which
  // has no field "x": the tolerance cannot suppress anything.
  pgn::DecodedMessage msg;
  const Bytes prev{1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes curr{1, 2, 3, 4, 5, 6, 7, 9};
  ASSERT_TRUE(pgn::Decode(99999, std::nullopt, prev, &msg));
  FieldToleranceDiff d(99999, {{"x", 100}});
  Bytes diff;
  ASSERT_TRUE(d.Diff(prev, curr, &diff));
  EXPECT_EQ(diff, (Bytes{0x80, 0x09}));
}

// 14.
TEST(FieldToleranceDiffTest, EnumChangeIsSignificantOnlyWhenThatFieldHasATolerance) {
  const Bytes prev = WindData(5.0, 1.0, kWindApparent);
  const Bytes curr = WindData(5.0, 1.0, kWindTrueNorth);
  Bytes diff;
  FieldToleranceDiff with_reference(130306, {{"wind_speed", 1.0}, {"wind_reference", 0}});
  EXPECT_TRUE(with_reference.Diff(prev, curr, &diff));
  FieldToleranceDiff without_reference(130306, {{"wind_speed", 1.0}});
  EXPECT_FALSE(without_reference.Diff(prev, curr, &diff));
}

// 15.
TEST(FieldToleranceDiffTest, LengthChangeIsSignificantWithNoDiff) {
  FieldToleranceDiff d(130306, {{"wind_speed", 100}});
  Bytes prev = WindData(5.0, 1.0, kWindApparent);
  Bytes curr = prev;
  curr.push_back(0xFF);
  Bytes diff{1};
  EXPECT_TRUE(d.Diff(prev, curr, &diff));
  EXPECT_TRUE(diff.empty());
  EXPECT_TRUE(ByteMaskDiffOf(Bytes{1, 2, 3}, Bytes{1, 2, 3, 4}, &diff));
  EXPECT_TRUE(diff.empty());
}

// 16.
TEST(FieldToleranceDiffTest, VesselHeadingSuppresses0_0001RadAndReports0_05Rad) {
  FieldToleranceDiff d(127250, {{"heading", 0.01}});
  const Bytes h1 = VesselHeading(std::numbers::pi);
  Bytes diff;
  EXPECT_FALSE(d.Diff(h1, VesselHeading(std::numbers::pi + 0.0001), &diff));
  EXPECT_TRUE(d.Diff(h1, VesselHeading(std::numbers::pi + 0.05), &diff));
}

// Beyond the reference: tolerances from lplex's profile, and edge cases of
// the field comparison.

TEST(FieldToleranceDiffTest, ProfileTolerancesApplyWithoutConfiguration) {
  // lplex's profile: wind_speed 0.5 m/s, wind_angle 0.05 rad; the SID has none.
  FieldToleranceDiff d(130306);
  Bytes diff;
  EXPECT_FALSE(d.Diff(WindData(5.0, 1.0, kWindApparent, 1), WindData(5.4, 1.04, kWindApparent, 2), &diff));
  EXPECT_TRUE(d.Diff(WindData(5.0, 1.0, kWindApparent), WindData(5.6, 1.0, kWindApparent), &diff));
  EXPECT_TRUE(d.Diff(WindData(5.0, 1.0, kWindApparent), WindData(5.0, 1.06, kWindApparent), &diff));
}

TEST(FieldToleranceDiffTest, SidOnlyChangeIsSuppressed) {
  FieldToleranceDiff d(127250);
  Bytes diff;
  EXPECT_FALSE(d.Diff(VesselHeading(1.0, 0, 0, 1), VesselHeading(1.0, 0, 0, 2), &diff));
}

TEST(FieldToleranceDiffTest, FieldBecomingNotAvailableIsSignificant) {
  FieldToleranceDiff d(127250);
  Bytes unavailable = VesselHeading(1.0);
  unavailable[1] = 0xFF;  // heading raw 0xFFFF: not available, so the key is absent
  unavailable[2] = 0xFF;
  Bytes diff;
  EXPECT_TRUE(d.Diff(VesselHeading(1.0), unavailable, &diff));
  EXPECT_TRUE(d.Diff(unavailable, VesselHeading(1.0), &diff));
}

TEST(FieldToleranceDiffTest, PgnWithoutToleranceFieldsComparesBytes) {
  // 129025 Position Rapid Update decodes, but declares no tolerance.
  ASSERT_FALSE(HasFieldTolerances(129025));
  FieldToleranceDiff d(129025);
  Bytes diff;
  EXPECT_TRUE(d.Diff(Bytes{1, 0, 0, 0, 1, 0, 0, 0}, Bytes{2, 0, 0, 0, 1, 0, 0, 0}, &diff));
  EXPECT_EQ(diff, (Bytes{0x01, 0x02}));
}

TEST(FieldToleranceDiffTest, PgnsWithTolerancesAreThoseOfLplexProfile) {
  const std::vector<uint32_t> pgns = PgnsWithFieldTolerances();
  for (uint32_t p : {127250u, 127251u, 127257u, 128267u, 129026u, 130306u, 130310u, 130311u, 130316u}) {
    EXPECT_NE(std::find(pgns.begin(), pgns.end(), p), pgns.end()) << p;
  }
  EXPECT_EQ(std::find(pgns.begin(), pgns.end(), 129025u), pgns.end());
  EXPECT_TRUE(std::is_sorted(pgns.begin(), pgns.end()));
}

}  // namespace
}  // namespace lplex::changes
