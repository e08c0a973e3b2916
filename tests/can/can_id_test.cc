// The 29-bit identifier: spec/boat.md §3.1 vectors and real bus identifiers.
#include "can/can_id.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace lplex::can {
namespace {

TEST(CanIdTest, ParseVectorsAcrossPdu1Pdu2AndDataPage) {
  // PDU2 with DP = 1: 129025 Position Rapid Update.
  CanHeader h = ParseCanId(0x09F80123);
  EXPECT_EQ(h.priority, 2);
  EXPECT_EQ(h.pgn, 129025u);
  EXPECT_EQ(h.source, 0x23);
  EXPECT_EQ(h.destination, 255);

  h = ParseCanId(0x0DF11923);
  EXPECT_EQ(h.priority, 3);
  EXPECT_EQ(h.pgn, 0x1F119u);

  // PDU1 sent to the global address.
  h = ParseCanId(0x18EAFF00);
  EXPECT_EQ(h.pgn, 0xEA00u);
  EXPECT_EQ(h.pgn, 59904u);
  EXPECT_EQ(h.destination, 255);

  // PDU1 addressed: PS is the destination and not part of the PGN.
  h = ParseCanId(0x18EA0501);
  EXPECT_EQ(h.pgn, 59904u);
  EXPECT_EQ(h.source, 1);
  EXPECT_EQ(h.destination, 5);

  h = ParseCanId(0x18EEFF01);
  EXPECT_EQ(h.pgn, 60928u);
}

TEST(CanIdTest, ReservedBit25IsIgnored) {
  EXPECT_EQ(ParseCanId(0x09F80123 | 1u << 25), ParseCanId(0x09F80123));
}

TEST(CanIdTest, BuildPdu2TakesPsFromPgnAndIgnoresDestination) {
  EXPECT_EQ(BuildCanId({.priority = 2, .pgn = 129025, .source = 0x23, .destination = 7}), 0x09F80123u);
}

TEST(CanIdTest, BuildAddressedPdu1PutsDestinationInPs) {
  EXPECT_EQ(BuildCanId({.priority = 6, .pgn = 59904, .source = 1, .destination = 5}), 0x18EA0501u);
}

TEST(CanIdTest, BuildBroadcastPdu1) {
  EXPECT_EQ(BuildCanId({.priority = 6, .pgn = 59904, .source = 254, .destination = 255}), 0x18EAFFFEu);
}

TEST(CanIdTest, RealIdsRoundTripExactly) {
  // Identifiers seen in candumpSample1.txt (PDU2 with both data pages, and
  // addressed / broadcast PDU1).
  const uint32_t ids[] = {0x19FA0400, 0x09F80100, 0x1DEFFF00, 0x0DF80500,
                          0x15FD0723, 0x0DED2301, 0x1CEF0100, 0x18EA2301};
  for (uint32_t id : ids) {
    EXPECT_EQ(BuildCanId(ParseCanId(id)), id) << std::hex << id;
  }
}

}  // namespace
}  // namespace lplex::can
