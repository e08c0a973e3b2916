// Fast-packet reassembly and fragmentation (spec/boat.md §3.2, §3.3, §8
// fastpacket_test), plus the edge cases the reference leaves untested.
#include "can/fast_packet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "can/fast_packet_pgns.h"
#include "capture_lines.h"

namespace lplex::can {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kT0 = 1'700'000'000'000'000;  // an arbitrary epoch time in µs

RawFrame Frame(uint32_t pgn, uint8_t source, int64_t ts_us, std::vector<uint8_t> bytes, uint8_t priority = 6) {
  RawFrame f;
  f.timestamp_us = ts_us;
  f.id = BuildCanId({.priority = priority, .pgn = pgn, .source = source, .destination = kBroadcast});
  f.length = static_cast<uint8_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), f.data.begin());
  return f;
}

std::vector<uint8_t> Bytes(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> Counting(size_t n, uint8_t first = 1) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// The three frames of the reference's 20-byte transfer (counter 1).
const std::vector<uint8_t> kF0 = {0x20, 20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
const std::vector<uint8_t> kF1 = {0x21, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D};
const std::vector<uint8_t> kF2 = {0x22, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14};

// Feeds fragments built by FragmentFastPacket; returns the messages emitted.
std::vector<std::vector<uint8_t>> FeedFragments(FastPacketAssembler* a, uint32_t pgn, uint8_t source,
                                                const FastPacketFrames& frames, int64_t ts_us) {
  std::vector<std::vector<uint8_t>> out;
  for (int i = 0; i < frames.count; ++i) {
    const auto& d = frames.frames[static_cast<size_t>(i)];
    can::Frame m;
    if (a->Process(Frame(pgn, source, ts_us, {d.begin(), d.end()}), &m)) out.push_back(Bytes(m.data));
  }
  return out;
}

// --- The reference's nine tests -------------------------------------------

TEST(FastPacketTest, ThreeFramesReassembleInOrder) {
  FastPacketAssembler a;
  can::Frame m;
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, kF0), &m));
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, kF1), &m));
  ASSERT_TRUE(a.Process(Frame(126996, 35, kT0, kF2), &m));
  EXPECT_EQ(Bytes(m.data), Counting(20));
  EXPECT_EQ(m.header.pgn, 126996u);
  EXPECT_EQ(m.header.source, 35);
  EXPECT_EQ(a.in_progress(), 0u);
  EXPECT_EQ(a.stats().completed, 1u);
}

TEST(FastPacketTest, TimeoutDropsTransfer) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 200'000, kF1), &m));
  EXPECT_EQ(a.stats().late, 1u);
  // The transfer is gone: the final frame is now an orphan.
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 200'000, kF2), &m));
  EXPECT_EQ(a.stats().orphans, 1u);
}

TEST(FastPacketTest, MissingFrameDropsTransfer) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  std::vector<uint8_t> skip = kF1;
  skip[0] = 0x22;  // frame 2 where frame 1 was expected
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, skip), &m));
  EXPECT_EQ(a.stats().out_of_order, 1u);
  // No resync: the real frame 1 and 2 arriving later do not revive it.
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, kF1), &m));
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, kF2), &m));
  EXPECT_EQ(a.stats().completed, 0u);
}

TEST(FastPacketTest, SequenceCounterMismatchDropsTransfer) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  std::vector<uint8_t> other = kF1;
  other[0] = 0x41;  // counter 2, frame 1
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, other), &m));
  EXPECT_EQ(a.stats().sequence_mismatch, 1u);
  EXPECT_EQ(a.in_progress(), 0u);
}

TEST(FastPacketTest, FragmentTwentyBytesWithCounterThree) {
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(Counting(20), 3, &f).ok());
  ASSERT_EQ(f.count, 3);
  EXPECT_THAT(f.frames[0], ElementsAre(0x60, 20, 1, 2, 3, 4, 5, 6));
  EXPECT_THAT(f.frames[1], ElementsAre(0x61, 7, 8, 9, 10, 11, 12, 13));
  EXPECT_THAT(f.frames[2], ElementsAre(0x62, 14, 15, 16, 17, 18, 19, 20));
}

TEST(FastPacketTest, FragmentSixBytesFitsFrameZero) {
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(std::vector<uint8_t>{0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}, 0, &f).ok());
  ASSERT_EQ(f.count, 1);
  EXPECT_THAT(f.frames[0], ElementsAre(0x00, 6, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF));
}

TEST(FastPacketTest, FiftyBytesRoundTrip) {
  std::vector<uint8_t> original(50);
  for (size_t i = 0; i < original.size(); ++i) original[i] = static_cast<uint8_t>(i * 3);
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(original, 5, &f).ok());
  FastPacketAssembler a(1s);
  const auto out = FeedFragments(&a, 129794, 1, f, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], original);
}

TEST(FastPacketTest, PurgeStaleRemovesTimedOutTransfer) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  EXPECT_EQ(a.in_progress(), 1u);
  EXPECT_EQ(a.PurgeStale(kT0 + 200'000), 1u);
  EXPECT_EQ(a.in_progress(), 0u);
  EXPECT_EQ(a.stats().purged, 1u);
}

TEST(FastPacketTest, IsFastPacketMatchesReference) {
  EXPECT_TRUE(IsFastPacket(129029));
  EXPECT_TRUE(IsFastPacket(126996));
  EXPECT_FALSE(IsFastPacket(129025));
  EXPECT_FALSE(IsFastPacket(127250));
}

// --- The fast-packet table -------------------------------------------------

TEST(FastPacketTableTest, HoldsExactlyTheSpecList) {
  const auto pgns = FastPacketPgns();
  ASSERT_EQ(pgns.size(), 74u);
  EXPECT_TRUE(std::is_sorted(pgns.begin(), pgns.end()));
  // Spot checks of every range in spec/boat.md §6.3.
  for (uint32_t p = 126983; p <= 126988; ++p) EXPECT_TRUE(IsFastPacket(p)) << p;
  for (uint32_t p = 129792; p <= 129810; ++p) EXPECT_TRUE(IsFastPacket(p)) << p;
  for (uint32_t p = 130064; p <= 130074; ++p) EXPECT_TRUE(IsFastPacket(p)) << p;
  for (uint32_t p : {127489u, 127506u, 127509u, 127513u, 128275u, 129540u, 130578u}) {
    EXPECT_TRUE(IsFastPacket(p)) << p;
  }
  for (size_t i = 0; i < pgns.size(); ++i) EXPECT_EQ(FastPacketIndex(pgns[i]), static_cast<int>(i));
}

TEST(FastPacketTableTest, NeighboursAndExtremesAreNotFastPacket) {
  for (uint32_t p : {0u, 59904u, 60928u, 126207u, 126209u, 126989u, 129791u, 129811u, 130075u, 130306u, 130579u,
                     0x1FFFFu, 0xFFFFFFFFu}) {
    EXPECT_FALSE(IsFastPacket(p)) << p;
    EXPECT_EQ(FastPacketIndex(p), -1) << p;
  }
}

// --- Reassembly edge cases ---------------------------------------------------

TEST(FastPacketTest, NewFrameZeroReplacesTransferInProgress) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  a.Process(Frame(126996, 35, kT0 + 1'000, kF1), &m);
  // A new transfer (counter 2, 9 bytes) starts before the old one ended.
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 2'000, {0x40, 9, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}), &m));
  EXPECT_EQ(a.stats().replaced, 1u);
  // A straggler from the old transfer (counter 1) is a sequence mismatch,
  // which drops the new transfer as well: there is no resync.
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 3'000, kF2), &m));
  EXPECT_EQ(a.stats().sequence_mismatch, 1u);
  EXPECT_EQ(a.in_progress(), 0u);
  // The sender's next attempt goes through.
  a.Process(Frame(126996, 35, kT0 + 4'000, {0x40, 9, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}), &m);
  ASSERT_TRUE(a.Process(Frame(126996, 35, kT0 + 5'000, {0x41, 0xA6, 0xA7, 0xA8, 0xFF, 0xFF, 0xFF, 0xFF}), &m));
  EXPECT_THAT(Bytes(m.data), ElementsAre(0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8));
}

TEST(FastPacketTest, DroppedTransfersCountTheirFrames) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  a.Process(Frame(126996, 35, kT0 + 1'000, kF1), &m);
  // Replaced after two frames, then the new one (one frame) dropped by a straggler.
  a.Process(Frame(126996, 35, kT0 + 2'000, {0x40, 9, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}), &m);
  EXPECT_EQ(a.stats().discarded_fragments, 2u);
  a.Process(Frame(126996, 35, kT0 + 3'000, kF2), &m);
  EXPECT_EQ(a.stats().discarded_fragments, 3u);
  EXPECT_EQ(a.stats().discarded(), 2u);
}

TEST(FastPacketTest, FlushDropsTransferCutOffByEndOfInput) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  a.Process(Frame(126996, 35, kT0 + 1'000, kF1), &m);
  EXPECT_EQ(a.stats().discarded(), 0u);
  EXPECT_EQ(a.Flush(), 1u);
  EXPECT_EQ(a.in_progress(), 0u);
  EXPECT_EQ(a.stats().unfinished, 1u);
  EXPECT_EQ(a.stats().discarded(), 1u);
  EXPECT_EQ(a.stats().discarded_fragments, 2u);
  // The key is free again: a later transfer starts cleanly.
  a.Process(Frame(126996, 35, kT0 + 2'000, kF0), &m);
  a.Process(Frame(126996, 35, kT0 + 2'000, kF1), &m);
  EXPECT_TRUE(a.Process(Frame(126996, 35, kT0 + 2'000, kF2), &m));
  EXPECT_EQ(a.Flush(), 0u);
}

TEST(FastPacketTest, PartialTransferIsNeverEmitted) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  int emitted = 0;
  emitted += a.Process(Frame(126996, 35, kT0, kF0), &m);
  emitted += a.Process(Frame(126996, 35, kT0 + 1'000, kF1), &m);
  a.PurgeStale(kT0 + 500'000);
  // Anything after the purge starts from nothing: continuations are orphans.
  emitted += a.Process(Frame(126996, 35, kT0 + 501'000, kF2), &m);
  EXPECT_EQ(emitted, 0);
  EXPECT_EQ(a.stats().completed, 0u);
  EXPECT_EQ(a.stats().discarded(), 1u);
}

TEST(FastPacketTest, TimeoutRunsFromFrameZeroNotBetweenFrames) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 60'000, kF1), &m));
  // Only 60 ms since frame 1, but 120 ms since frame 0.
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0 + 120'000, kF2), &m));
  EXPECT_EQ(a.stats().late, 1u);
}

TEST(FastPacketTest, FrameExactlyAtTimeoutIsAccepted) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  a.Process(Frame(126996, 35, kT0 + 50'000, kF1), &m);
  EXPECT_TRUE(a.Process(Frame(126996, 35, kT0 + 100'000, kF2), &m));
  EXPECT_EQ(a.PurgeStale(kT0 + 100'000), 0u);
}

TEST(FastPacketTest, MessageCarriesLastFragmentTimestampAndHeader) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0, 6), &m);
  a.Process(Frame(126996, 35, kT0 + 1'000, kF1, 6), &m);
  ASSERT_TRUE(a.Process(Frame(126996, 35, kT0 + 2'500, kF2, 3), &m));
  EXPECT_EQ(m.timestamp_us, kT0 + 2'500);
  EXPECT_EQ(m.header.priority, 3);
}

TEST(FastPacketTest, MaximumPayloadOf223BytesCompletes) {
  FastPacketFrames f;
  const auto payload = Counting(223, 0);
  ASSERT_TRUE(FragmentFastPacket(payload, 7, &f).ok());
  ASSERT_EQ(f.count, 32);
  EXPECT_EQ(f.frames[31][0], 0xFF);  // counter 7, frame 31
  FastPacketAssembler a;
  const auto out = FeedFragments(&a, 130323, 9, f, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], payload);
}

TEST(FastPacketTest, TotalOver223NeverCompletesAndIsPurged) {
  FastPacketAssembler a(100ms);
  can::Frame m;
  int emitted = a.Process(Frame(129038, 4, kT0, {0x00, 250, 1, 2, 3, 4, 5, 6}), &m);
  for (uint8_t n = 1; n <= 31; ++n) {
    emitted += a.Process(Frame(129038, 4, kT0 + n, {n, 7, 7, 7, 7, 7, 7, 7}), &m);
  }
  EXPECT_EQ(a.in_progress(), 1u);  // 223 of 250 bytes, and no frame number 32 exists
  EXPECT_EQ(a.stats().fragments, 32u);
  EXPECT_EQ(a.PurgeStale(kT0 + 200'000), 1u);
  EXPECT_EQ(emitted, 0);
  EXPECT_EQ(a.in_progress(), 0u);
}

TEST(FastPacketTest, TwoSourcesInterleavedOnOnePgn) {
  FastPacketAssembler a;
  can::Frame m;
  std::vector<std::vector<uint8_t>> got;
  std::vector<uint8_t> sources;
  auto feed = [&](uint8_t src, std::vector<uint8_t> d) {
    if (a.Process(Frame(129029, src, kT0, std::move(d)), &m)) {
      got.push_back(Bytes(m.data));
      sources.push_back(m.header.source);
    }
  };
  feed(1, kF0);
  feed(2, {0xE0, 10, 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5});
  feed(1, kF1);
  feed(2, {0xE1, 0xB6, 0xB7, 0xB8, 0xB9, 0xFF, 0xFF, 0xFF});
  feed(1, kF2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(sources, (std::vector<uint8_t>{2, 1}));
  EXPECT_THAT(got[0], ElementsAre(0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9));
  EXPECT_EQ(got[1], Counting(20));
}

TEST(FastPacketTest, SameSourceTwoPgnsAreSeparateTransfers) {
  FastPacketAssembler a;
  can::Frame m;
  EXPECT_FALSE(a.Process(Frame(129029, 7, kT0, kF0), &m));
  EXPECT_FALSE(a.Process(Frame(129038, 7, kT0, kF0), &m));
  EXPECT_EQ(a.in_progress(), 2u);
  EXPECT_FALSE(a.Process(Frame(129029, 7, kT0, kF1), &m));
  EXPECT_FALSE(a.Process(Frame(129038, 7, kT0, kF1), &m));
  ASSERT_TRUE(a.Process(Frame(129038, 7, kT0, kF2), &m));
  EXPECT_EQ(m.header.pgn, 129038u);
  ASSERT_TRUE(a.Process(Frame(129029, 7, kT0, kF2), &m));
  EXPECT_EQ(m.header.pgn, 129029u);
}

TEST(FastPacketTest, DestinationIsNotPartOfTheKey) {
  // 126208 is PDU1: the same transfer sent with a different destination on
  // each frame still reassembles (the reference keys on PGN and source only).
  FastPacketAssembler a;
  can::Frame m;
  auto addressed = [](uint8_t dst, std::vector<uint8_t> d) {
    RawFrame f = Frame(126208, 3, kT0, std::move(d));
    f.id = BuildCanId({.priority = 3, .pgn = 126208, .source = 3, .destination = dst});
    return f;
  };
  a.Process(addressed(10, kF0), &m);
  a.Process(addressed(11, kF1), &m);
  ASSERT_TRUE(a.Process(addressed(12, kF2), &m));
  EXPECT_EQ(m.header.destination, 12);
}

TEST(FastPacketTest, StandardFramesAreRejected) {
  FastPacketAssembler a;
  can::Frame m;
  RawFrame f = Frame(129025, 1, kT0, {1, 2, 3, 4, 5, 6, 7, 8});
  f.extended = false;
  f.id = 0x123;
  EXPECT_FALSE(a.Process(f, &m));
  EXPECT_EQ(a.stats().standard_frames, 1u);
  EXPECT_EQ(a.stats().single_frame, 0u);
}

TEST(FastPacketTest, LengthAboveEightIsRejected) {
  FastPacketAssembler a;
  can::Frame m;
  RawFrame f = Frame(129025, 1, kT0, {1, 2, 3, 4, 5, 6, 7, 8});
  f.length = 9;
  EXPECT_FALSE(a.Process(f, &m));
  EXPECT_EQ(a.stats().invalid_length, 1u);
}

TEST(FastPacketTest, SingleFramePgnPassesThroughAsCopy) {
  FastPacketAssembler a;
  can::Frame m;
  RawFrame f = Frame(129025, 0x23, kT0 + 7, {0x30, 0x21, 0x60, 0x1c, 0x58, 0x9a, 0x15, 0xb7}, 2);
  ASSERT_TRUE(a.Process(f, &m));
  f.data.fill(0);  // the message does not point into the caller's frame
  EXPECT_THAT(Bytes(m.data), ElementsAre(0x30, 0x21, 0x60, 0x1c, 0x58, 0x9a, 0x15, 0xb7));
  EXPECT_EQ(m.timestamp_us, kT0 + 7);
  EXPECT_EQ(m.header, ParseCanId(0x09F80123));
  // Short and empty single-frame messages keep their length.
  ASSERT_TRUE(a.Process(Frame(59904, 1, kT0, {0x00, 0xEE, 0x00}), &m));
  EXPECT_THAT(Bytes(m.data), ElementsAre(0x00, 0xEE, 0x00));
  ASSERT_TRUE(a.Process(Frame(127250, 1, kT0, {}), &m));
  EXPECT_TRUE(m.data.empty());
  EXPECT_EQ(a.stats().single_frame, 3u);
}

TEST(FastPacketTest, FastPacketFrameShorterThanTwoBytesIsIgnored) {
  FastPacketAssembler a;
  can::Frame m;
  EXPECT_FALSE(a.Process(Frame(129029, 1, kT0, {0x20}), &m));
  EXPECT_FALSE(a.Process(Frame(129029, 1, kT0, {}), &m));
  EXPECT_EQ(a.stats().too_short, 2u);
}

TEST(FastPacketTest, ZeroTotalIsIgnoredAndKeepsTransferInProgress) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(126996, 35, kT0, kF0), &m);
  EXPECT_FALSE(a.Process(Frame(126996, 35, kT0, {0x60, 0, 1, 2, 3, 4, 5, 6}), &m));
  EXPECT_EQ(a.stats().zero_total, 1u);
  a.Process(Frame(126996, 35, kT0, kF1), &m);
  EXPECT_TRUE(a.Process(Frame(126996, 35, kT0, kF2), &m));
}

TEST(FastPacketTest, FrameZeroCoveringTheTotalCompletesAtOnce) {
  FastPacketAssembler a;
  can::Frame m;
  // A fast-packet PGN sent with its framing but only 4 payload bytes: the
  // padding after them is not part of the message.
  ASSERT_TRUE(a.Process(Frame(129029, 1, kT0, {0x80, 4, 0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF}), &m));
  EXPECT_THAT(Bytes(m.data), ElementsAre(0xDE, 0xAD, 0xBE, 0xEF));
  EXPECT_EQ(a.in_progress(), 0u);
}

TEST(FastPacketTest, LastFramePaddingIsClippedToTotal) {
  FastPacketAssembler a;
  can::Frame m;
  a.Process(Frame(129029, 1, kT0, {0x00, 8, 1, 2, 3, 4, 5, 6}), &m);
  ASSERT_TRUE(a.Process(Frame(129029, 1, kT0, {0x01, 7, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), &m));
  EXPECT_EQ(Bytes(m.data), Counting(8));
}

TEST(FastPacketTest, SlotsAreRecycledAfterCompletion) {
  FastPacketAssembler a;
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(Counting(30), 1, &f).ok());
  // Many transfers one after another, each from a different source, never
  // more than one at a time in progress.
  for (int src = 0; src < 256; ++src) {
    ASSERT_EQ(FeedFragments(&a, 129029, static_cast<uint8_t>(src), f, kT0).size(), 1u);
  }
  EXPECT_EQ(a.in_progress(), 0u);
  EXPECT_EQ(a.stats().completed, 256u);
}

// --- Real captures ----------------------------------------------------------

TEST(FastPacketCaptureTest, CandumpFastHasFiveCompleteTransfersAndOneCutShort) {
  const auto frames = testing::ReadCandumpLog(testing::CapturePath("candump-fast.txt"));
  ASSERT_EQ(frames.size(), 23u);
  FastPacketAssembler a;
  std::vector<int64_t> stamps;
  std::vector<std::vector<uint8_t>> payloads;
  for (const RawFrame& f : frames) {
    can::Frame m;
    if (a.Process(f, &m)) {
      EXPECT_EQ(m.header.pgn, 127489u);  // Engine Parameters, Dynamic
      EXPECT_EQ(m.header.source, 1);
      stamps.push_back(m.timestamp_us);
      payloads.push_back(Bytes(m.data));
    }
  }
  // The sixth transfer stops after frame 2 of 3 and must not come out.
  EXPECT_THAT(stamps, ElementsAre(355'000, 454'000, 862'000, 954'000, 1'407'000));
  for (const auto& p : payloads) EXPECT_EQ(p.size(), 26u);
  EXPECT_THAT(std::vector<uint8_t>(payloads[0].begin(), payloads[0].begin() + 8),
              ElementsAre(0x00, 0xB7, 0x06, 0x67, 0x0D, 0x0B, 0x86, 0xBA));
  EXPECT_EQ(a.in_progress(), 1u);
  EXPECT_EQ(a.stats().discarded(), 0u);
  // At the end of the input the cut-off transfer and its three frames are counted as dropped.
  EXPECT_EQ(a.Flush(), 1u);
  EXPECT_EQ(a.stats().discarded(), 1u);
  EXPECT_EQ(a.stats().discarded_fragments, 3u);
  EXPECT_EQ(a.stats().fragments - a.stats().discarded_fragments, 20u);
}

TEST(FastPacketCaptureTest, CandumpSample1ProductInfoReassembles) {
  const auto frames = testing::ReadAngleBracketCandump(testing::CapturePath("candumpSample1.txt"), kT0, 1'000);
  ASSERT_GT(frames.size(), 6000u);
  FastPacketAssembler a;
  std::vector<std::vector<uint8_t>> product_infos;
  for (const RawFrame& f : frames) {
    can::Frame m;
    if (a.Process(f, &m) && m.header.pgn == 126996) product_infos.push_back(Bytes(m.data));
  }
  ASSERT_FALSE(product_infos.empty());
  for (const auto& p : product_infos) EXPECT_EQ(p.size(), 134u);
  // A clean bus: every transfer that starts also completes.
  EXPECT_EQ(a.stats().frames, frames.size());
  EXPECT_EQ(a.stats().completed, 405u);
  EXPECT_EQ(a.stats().discarded(), 0u);
  EXPECT_EQ(a.stats().orphans, 0u);
  EXPECT_EQ(a.in_progress(), 0u);
}

// --- Fragmentation for TX ---------------------------------------------------

TEST(FragmentTest, FrameZeroUnusedBytesAreZeroAndLaterFramesPadFF) {
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(std::vector<uint8_t>{1, 2, 3}, 2, &f).ok());
  ASSERT_EQ(f.count, 1);
  EXPECT_THAT(f.frames[0], ElementsAre(0x40, 3, 1, 2, 3, 0x00, 0x00, 0x00));
  ASSERT_TRUE(FragmentFastPacket(Counting(8), 2, &f).ok());
  ASSERT_EQ(f.count, 2);
  EXPECT_THAT(f.frames[1], ElementsAre(0x41, 7, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF));
}

TEST(FragmentTest, CounterUsesLowThreeBits) {
  FastPacketFrames f;
  ASSERT_TRUE(FragmentFastPacket(Counting(10), 9, &f).ok());
  EXPECT_EQ(f.frames[0][0], 0x20);
  EXPECT_EQ(f.frames[1][0], 0x21);
}

TEST(FragmentTest, PayloadOver223BytesIsRefusedWithItsSize) {
  FastPacketFrames f;
  const Status s = FragmentFastPacket(std::vector<uint8_t>(224, 0), 0, &f);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("224"));
  EXPECT_THAT(s.message(), HasSubstr("223"));
  EXPECT_EQ(f.count, 0);
}

TEST(FragmentTest, EmptyPayloadIsRefused) {
  FastPacketFrames f;
  EXPECT_FALSE(FragmentFastPacket({}, 0, &f).ok());
  EXPECT_EQ(f.count, 0);
}

TEST(FragmenterTest, FastPacketPgnWithEightBytesGoesOutRaw) {
  FastPacketFragmenter w;
  TxFrames out;
  const CanHeader h{.priority = 6, .pgn = 126996, .source = 254, .destination = kBroadcast};
  ASSERT_TRUE(w.Fragment(h, Counting(8), &out).ok());
  ASSERT_EQ(out.count, 1);
  EXPECT_EQ(out.frames[0].id, BuildCanId(h));
  EXPECT_TRUE(out.frames[0].extended);
  EXPECT_EQ(out.frames[0].length, 8);
  EXPECT_EQ(Bytes(out.frames[0].payload()), Counting(8));
  EXPECT_EQ(w.next_seq_counter(), 0);  // raw sends do not use the counter
}

TEST(FragmenterTest, SingleFramePgnKeepsItsLength) {
  FastPacketFragmenter w;
  TxFrames out;
  const CanHeader h{.priority = 6, .pgn = 59904, .source = 254, .destination = 10};
  ASSERT_TRUE(w.Fragment(h, std::vector<uint8_t>{0x14, 0xF0, 0x01}, &out).ok());
  ASSERT_EQ(out.count, 1);
  EXPECT_EQ(out.frames[0].id, 0x18EA0AFEu);
  EXPECT_THAT(Bytes(out.frames[0].payload()), ElementsAre(0x14, 0xF0, 0x01));
}

TEST(FragmenterTest, NineBytesFragmentIntoTwoFramesOfEight) {
  FastPacketFragmenter w;
  TxFrames out;
  const CanHeader h{.priority = 3, .pgn = 129029, .source = 7, .destination = kBroadcast};
  ASSERT_TRUE(w.Fragment(h, Counting(9), &out).ok());
  ASSERT_EQ(out.count, 2);
  for (const RawFrame& f : out.view()) {
    EXPECT_EQ(f.length, 8);
    EXPECT_EQ(f.id, BuildCanId(h));
  }
  EXPECT_THAT(out.frames[0].data, ElementsAre(0x00, 9, 1, 2, 3, 4, 5, 6));
  EXPECT_THAT(out.frames[1].data, ElementsAre(0x01, 7, 8, 9, 0xFF, 0xFF, 0xFF, 0xFF));
}

TEST(FragmenterTest, CounterIsSharedByAllPgnsAndWraps) {
  FastPacketFragmenter w;
  TxFrames out;
  std::vector<uint8_t> counters;
  for (int i = 0; i < 9; ++i) {
    const uint32_t pgn = i % 2 == 0 ? 129029 : 129794;
    ASSERT_TRUE(w.Fragment({.priority = 6, .pgn = pgn, .source = 1}, Counting(20), &out).ok());
    counters.push_back(static_cast<uint8_t>(out.frames[0].data[0] >> 5));
  }
  EXPECT_THAT(counters, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 0));
}

TEST(FragmenterTest, OversizeFastPacketIsRefusedAndCounterStays) {
  FastPacketFragmenter w;
  TxFrames out;
  const Status s = w.Fragment({.priority = 6, .pgn = 126996, .source = 1}, std::vector<uint8_t>(300, 1), &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("126996"));
  EXPECT_THAT(s.message(), HasSubstr("300"));
  EXPECT_EQ(out.count, 0);
  EXPECT_EQ(w.next_seq_counter(), 0);
}

TEST(FragmenterTest, SingleFramePgnOverEightBytesIsRefused) {
  FastPacketFragmenter w;
  TxFrames out;
  const Status s = w.Fragment({.priority = 2, .pgn = 129025, .source = 1}, Counting(9), &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("129025"));
  EXPECT_THAT(s.message(), HasSubstr("9-byte"));
  EXPECT_EQ(out.count, 0);
}

TEST(FragmenterTest, FragmentsReassembleToTheOriginal) {
  FastPacketFragmenter w;
  FastPacketAssembler a;
  TxFrames out;
  const auto payload = Counting(134, 0x30);
  ASSERT_TRUE(w.Fragment({.priority = 6, .pgn = 126996, .source = 42}, payload, &out).ok());
  std::vector<std::vector<uint8_t>> got;
  for (const RawFrame& f : out.view()) {
    can::Frame m;
    if (a.Process(f, &m)) got.push_back(Bytes(m.data));
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], payload);
}

}  // namespace
}  // namespace lplex::can
