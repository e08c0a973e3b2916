// Pins the replication protocol's wire format to what the Go lplex sends and
// expects (docs/replication.md, "Wire protocol"). Every expected byte string
// below was worked out by hand from the field table, not produced by protoc:
// a tag byte is (field number << 3) | wire type, with wire type 0 for varint
// integers and bools and 2 for strings, bytes and nested messages. A field
// that is renumbered, retyped (say int64 -> sint64 or fixed64) or moved into
// another message changes these bytes and fails here.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

#include "lplex/replication/v1/replication.pb.h"

namespace lplex::replication::v1 {
namespace {

// The C++ accessor types follow the .proto scalar types; these fail to
// compile if a field's declared type drifts (uint64 <-> int64, uint32 <->
// uint64, bool -> int).
static_assert(std::is_same_v<decltype(HandshakeRequest().head_seq()), uint64_t>);
static_assert(std::is_same_v<decltype(HandshakeRequest().journal_bytes()), uint64_t>);
static_assert(std::is_same_v<decltype(HandshakeResponse().cursor()), uint64_t>);
static_assert(std::is_same_v<decltype(HandshakeResponse().live_start_from()), uint64_t>);
static_assert(std::is_same_v<decltype(SeqRange().start()), uint64_t>);
static_assert(std::is_same_v<decltype(SeqRange().end()), uint64_t>);
static_assert(std::is_same_v<decltype(LiveFrame().seq()), uint64_t>);
static_assert(std::is_same_v<decltype(LiveFrame().timestamp_us()), int64_t>);
static_assert(std::is_same_v<decltype(LiveFrame().can_id()), uint32_t>);
static_assert(std::is_same_v<decltype(LiveStatus().head_seq()), uint64_t>);
static_assert(std::is_same_v<decltype(LiveStatus().journal_bytes()), uint64_t>);
static_assert(std::is_same_v<decltype(LiveDownstream().acked_through()), uint64_t>);
static_assert(std::is_same_v<decltype(Block().base_seq()), uint64_t>);
static_assert(std::is_same_v<decltype(Block().base_time_us()), int64_t>);
static_assert(std::is_same_v<decltype(Block().frame_count()), uint32_t>);
static_assert(std::is_same_v<decltype(Block().compressed()), bool>);
static_assert(std::is_same_v<decltype(Block().block_size()), uint32_t>);
static_assert(std::is_same_v<decltype(BackfillDownstream().continuous_through()), uint64_t>);

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

// Failures print both sides as hex, so the differing tag is easy to spot.
std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

template <typename Message>
std::string Encode(const Message& m) {
  std::string out;
  EXPECT_TRUE(m.SerializeToString(&out));
  return out;
}

template <typename Message>
Message Decode(const std::string& bytes) {
  Message m;
  EXPECT_TRUE(m.ParseFromString(bytes)) << Hex(bytes);
  return m;
}

// Varints used below (little-endian base-128):
//   300               -> ac 02
//   1000              -> e8 07
//   4096              -> 80 20
//   65536             -> 80 80 04
//   262144            -> 80 80 10
//   0x09F80503        -> 83 8a e0 4f
//   1700000000000000  -> 80 80 f9 c0 c1 c4 82 03   (2023-11-14 in Unix us)
const std::string kSeqRange10To20 = Bytes({0x08, 0x0a, 0x10, 0x14});
const std::string kLiveFrame = Bytes({
    0x08, 0xe8, 0x07,                                            // 1 seq = 1000
    0x10, 0x80, 0x80, 0xf9, 0xc0, 0xc1, 0xc4, 0x82, 0x03,        // 2 timestamp_us
    0x18, 0x83, 0x8a, 0xe0, 0x4f,                                // 3 can_id
    0x22, 0x03, 0xde, 0xad, 0xbe,                                // 4 data
});
const std::string kLiveStatus = Bytes({0x08, 0xac, 0x02, 0x10, 0x80, 0x20});
const std::string kBlock = Bytes({
    0x08, 0xac, 0x02,                                            // 1 base_seq = 300
    0x10, 0x80, 0x80, 0xf9, 0xc0, 0xc1, 0xc4, 0x82, 0x03,        // 2 base_time_us
    0x18, 0x0c,                                                  // 3 frame_count = 12
    0x22, 0x04, 0x01, 0x02, 0x03, 0x04,                          // 4 data
    0x28, 0x01,                                                  // 5 compressed = true
    0x30, 0x80, 0x80, 0x10,                                      // 6 block_size = 262144
});

LiveFrame SampleFrame() {
  LiveFrame f;
  f.set_seq(1000);
  f.set_timestamp_us(1700000000000000);
  f.set_can_id(0x09F80503);
  f.set_data(Bytes({0xde, 0xad, 0xbe}));
  return f;
}

Block SampleBlock() {
  Block b;
  b.set_base_seq(300);
  b.set_base_time_us(1700000000000000);
  b.set_frame_count(12);
  b.set_data(Bytes({0x01, 0x02, 0x03, 0x04}));
  b.set_compressed(true);
  b.set_block_size(262144);
  return b;
}

TEST(ReplicationWire, HandshakeRequestMatchesGoWireBytes) {
  HandshakeRequest m;
  m.set_instance_id("boat-1");
  m.set_head_seq(300);
  m.set_journal_bytes(65536);
  const std::string want = Bytes({0x0a, 0x06, 'b', 'o', 'a', 't', '-', '1',  // 1 instance_id
                                  0x10, 0xac, 0x02,                          // 2 head_seq
                                  0x18, 0x80, 0x80, 0x04});                  // 3 journal_bytes
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<HandshakeRequest>(want);
  EXPECT_EQ(back.instance_id(), "boat-1");
  EXPECT_EQ(back.head_seq(), 300u);
  EXPECT_EQ(back.journal_bytes(), 65536u);
}

TEST(ReplicationWire, HandshakeResponseMatchesGoWireBytes) {
  HandshakeResponse m;
  m.set_cursor(300);
  auto* h = m.add_holes();
  h->set_start(10);
  h->set_end(20);
  h = m.add_holes();
  h->set_start(40);
  h->set_end(45);
  m.set_live_start_from(1000);
  const std::string want = Bytes({0x08, 0xac, 0x02,                          // 1 cursor
                                  0x12, 0x04, 0x08, 0x0a, 0x10, 0x14,        // 2 holes[0]
                                  0x12, 0x04, 0x08, 0x28, 0x10, 0x2d,        // 2 holes[1]
                                  0x18, 0xe8, 0x07});                        // 3 live_start_from
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<HandshakeResponse>(want);
  EXPECT_EQ(back.cursor(), 300u);
  ASSERT_EQ(back.holes_size(), 2);
  EXPECT_EQ(back.holes(0).start(), 10u);
  EXPECT_EQ(back.holes(0).end(), 20u);
  EXPECT_EQ(back.holes(1).start(), 40u);
  EXPECT_EQ(back.holes(1).end(), 45u);
  EXPECT_EQ(back.live_start_from(), 1000u);
}

TEST(ReplicationWire, SeqRangeMatchesGoWireBytes) {
  SeqRange m;
  m.set_start(10);
  m.set_end(20);
  EXPECT_EQ(Hex(Encode(m)), Hex(kSeqRange10To20));

  auto back = Decode<SeqRange>(kSeqRange10To20);
  EXPECT_EQ(back.start(), 10u);
  EXPECT_EQ(back.end(), 20u);
}

TEST(ReplicationWire, LiveFrameMatchesGoWireBytes) {
  EXPECT_EQ(Hex(Encode(SampleFrame())), Hex(kLiveFrame));

  auto back = Decode<LiveFrame>(kLiveFrame);
  EXPECT_EQ(back.seq(), 1000u);
  EXPECT_EQ(back.timestamp_us(), 1700000000000000);
  EXPECT_EQ(back.can_id(), 0x09F80503u);
  EXPECT_EQ(back.data(), Bytes({0xde, 0xad, 0xbe}));
}

TEST(ReplicationWire, LiveStatusMatchesGoWireBytes) {
  LiveStatus m;
  m.set_head_seq(300);
  m.set_journal_bytes(4096);
  EXPECT_EQ(Hex(Encode(m)), Hex(kLiveStatus));

  auto back = Decode<LiveStatus>(kLiveStatus);
  EXPECT_EQ(back.head_seq(), 300u);
  EXPECT_EQ(back.journal_bytes(), 4096u);
}

TEST(ReplicationWire, LiveUpstreamFrameIsField1) {
  LiveUpstream m;
  *m.mutable_frame() = SampleFrame();
  const std::string want = Bytes({0x0a, 0x16}) + kLiveFrame;
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<LiveUpstream>(want);
  ASSERT_EQ(back.msg_case(), LiveUpstream::kFrame);
  EXPECT_EQ(back.frame().seq(), 1000u);
  EXPECT_EQ(back.frame().can_id(), 0x09F80503u);
}

TEST(ReplicationWire, LiveUpstreamStatusIsField2) {
  LiveUpstream m;
  m.mutable_status()->set_head_seq(300);
  m.mutable_status()->set_journal_bytes(4096);
  const std::string want = Bytes({0x12, 0x06}) + kLiveStatus;
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<LiveUpstream>(want);
  ASSERT_EQ(back.msg_case(), LiveUpstream::kStatus);
  EXPECT_EQ(back.status().head_seq(), 300u);
  EXPECT_EQ(back.status().journal_bytes(), 4096u);
}

TEST(ReplicationWire, LiveDownstreamMatchesGoWireBytes) {
  LiveDownstream m;
  m.set_acked_through(300);
  const std::string want = Bytes({0x08, 0xac, 0x02});
  EXPECT_EQ(Hex(Encode(m)), Hex(want));
  EXPECT_EQ(Decode<LiveDownstream>(want).acked_through(), 300u);
}

TEST(ReplicationWire, BlockMatchesGoWireBytes) {
  EXPECT_EQ(Hex(Encode(SampleBlock())), Hex(kBlock));

  auto back = Decode<Block>(kBlock);
  EXPECT_EQ(back.base_seq(), 300u);
  EXPECT_EQ(back.base_time_us(), 1700000000000000);
  EXPECT_EQ(back.frame_count(), 12u);
  EXPECT_EQ(back.data(), Bytes({0x01, 0x02, 0x03, 0x04}));
  EXPECT_TRUE(back.compressed());
  EXPECT_EQ(back.block_size(), 262144u);
}

TEST(ReplicationWire, BackfillUpstreamBlockIsField1) {
  BackfillUpstream m;
  *m.mutable_block() = SampleBlock();
  const std::string want = Bytes({0x0a, 0x1a}) + kBlock;
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<BackfillUpstream>(want);
  ASSERT_TRUE(back.has_block());
  EXPECT_EQ(back.block().base_seq(), 300u);
  EXPECT_EQ(back.block().block_size(), 262144u);
}

TEST(ReplicationWire, BackfillDownstreamMatchesGoWireBytes) {
  BackfillDownstream m;
  m.set_continuous_through(300);
  *m.add_remaining() = Decode<SeqRange>(kSeqRange10To20);
  const std::string want = Bytes({0x08, 0xac, 0x02, 0x12, 0x04}) + kSeqRange10To20;
  EXPECT_EQ(Hex(Encode(m)), Hex(want));

  auto back = Decode<BackfillDownstream>(want);
  EXPECT_EQ(back.continuous_through(), 300u);
  ASSERT_EQ(back.remaining_size(), 1);
  EXPECT_EQ(back.remaining(0).start(), 10u);
  EXPECT_EQ(back.remaining(0).end(), 20u);
}

// int64 (what Go declares) puts a negative value on the wire as a 10-byte
// two's-complement varint; sint64 would send zigzag "03" and fixed64 would
// use wire type 1. A pre-1970 timestamp is the only way to see the difference.
TEST(ReplicationWire, NegativeTimestampIsTenByteVarintNotZigzag) {
  LiveFrame f;
  f.set_timestamp_us(-2);
  const std::string want =
      Bytes({0x10, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  EXPECT_EQ(Hex(Encode(f)), Hex(want));
  EXPECT_EQ(Decode<LiveFrame>(want).timestamp_us(), -2);

  Block b;
  b.set_base_time_us(-2);
  EXPECT_EQ(Hex(Encode(b)), Hex(want));  // also field 2, also int64
}

// proto3 sends nothing for zero, empty and false; a cloud that sees a new
// instance's handshake (head_seq 0, no journal) gets only the id.
TEST(ReplicationWire, ZeroValuedFieldsAreNotSent) {
  HandshakeRequest m;
  m.set_instance_id("b");
  EXPECT_EQ(Hex(Encode(m)), Hex(Bytes({0x0a, 0x01, 'b'})));
  EXPECT_EQ(Encode(LiveDownstream()), "");
  EXPECT_EQ(Encode(Block()), "");
}

// Setting the status of a LiveUpstream drops a frame set before it: a
// message carries one or the other, as Go's oneof does.
TEST(ReplicationWire, LiveUpstreamCarriesFrameOrStatusNeverBoth) {
  LiveUpstream m;
  *m.mutable_frame() = SampleFrame();
  m.mutable_status()->set_head_seq(7);
  EXPECT_EQ(m.msg_case(), LiveUpstream::kStatus);
  EXPECT_FALSE(m.has_frame());
  EXPECT_EQ(Hex(Encode(m)), Hex(Bytes({0x12, 0x02, 0x08, 0x07})));
}

// An empty BackfillUpstream (no block) is zero bytes and parses back without
// a block: the cloud must be able to tell and skip it.
TEST(ReplicationWire, BackfillUpstreamWithoutBlockHasNoBlock) {
  EXPECT_EQ(Encode(BackfillUpstream()), "");
  EXPECT_FALSE(Decode<BackfillUpstream>("").has_block());
  // An empty block that is present is still present (tag + zero length).
  BackfillUpstream m;
  m.mutable_block();
  EXPECT_EQ(Hex(Encode(m)), Hex(Bytes({0x0a, 0x00})));
  EXPECT_TRUE(Decode<BackfillUpstream>(Encode(m)).has_block());
}

// Our extension: the seqs a boat can never send go as field 15 of a
// BackfillUpstream without a block. A reference cloud knows only field 1:
// to it the message has no block, so it skips it (spec/cloud.md §1.6).
TEST(ReplicationWire, UnavailableSeqsAreField15OfABlocklessBackfillUpstream) {
  BackfillUpstream m;
  *m.add_unavailable() = Decode<SeqRange>(kSeqRange10To20);
  const std::string want = Bytes({0x7a, 0x04}) + kSeqRange10To20;
  EXPECT_EQ(Hex(Encode(m)), Hex(want));
  auto back = Decode<BackfillUpstream>(want);
  EXPECT_FALSE(back.has_block());
  ASSERT_EQ(back.unavailable_size(), 1);
  EXPECT_EQ(back.unavailable(0).start(), 10u);
  EXPECT_EQ(back.unavailable(0).end(), 20u);
}

// A newer peer may add fields; an older reader keeps the fields it knows.
TEST(ReplicationWire, UnknownFieldFromNewerPeerIsSkipped) {
  // LiveDownstream{acked_through=300} followed by a field 9 string "x".
  const std::string bytes = Bytes({0x08, 0xac, 0x02, 0x4a, 0x01, 'x'});
  EXPECT_EQ(Decode<LiveDownstream>(bytes).acked_through(), 300u);
}

// The widest values each field can hold survive encode and decode, including
// a full 223-byte fast-packet payload and a multi-MiB block body.
TEST(ReplicationWire, ExtremeValuesRoundTrip) {
  constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
  constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();
  constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();

  LiveFrame f;
  f.set_seq(kMaxU64);
  f.set_timestamp_us(kMinI64);
  f.set_can_id(0x1FFFFFFF);
  f.set_data(std::string(223, '\xa5'));
  auto fb = Decode<LiveFrame>(Encode(f));
  EXPECT_EQ(fb.seq(), kMaxU64);
  EXPECT_EQ(fb.timestamp_us(), kMinI64);
  EXPECT_EQ(fb.can_id(), 0x1FFFFFFFu);
  EXPECT_EQ(fb.data(), std::string(223, '\xa5'));

  Block b;
  b.set_base_seq(kMaxU64);
  b.set_base_time_us(std::numeric_limits<int64_t>::max());
  b.set_frame_count(kMaxU32);
  b.set_block_size(kMaxU32);
  b.set_data(std::string(4 << 20, '\x5a'));
  auto bb = Decode<Block>(Encode(b));
  EXPECT_EQ(bb.base_seq(), kMaxU64);
  EXPECT_EQ(bb.base_time_us(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(bb.frame_count(), kMaxU32);
  EXPECT_EQ(bb.block_size(), kMaxU32);
  EXPECT_EQ(bb.data().size(), size_t{4} << 20);
  EXPECT_FALSE(bb.compressed());

  HandshakeResponse r;
  r.set_cursor(kMaxU64);
  r.set_live_start_from(kMaxU64);
  auto* h = r.add_holes();
  h->set_start(kMaxU64 - 1);
  h->set_end(kMaxU64);
  auto rb = Decode<HandshakeResponse>(Encode(r));
  EXPECT_EQ(rb.cursor(), kMaxU64);
  EXPECT_EQ(rb.live_start_from(), kMaxU64);
  ASSERT_EQ(rb.holes_size(), 1);
  EXPECT_EQ(rb.holes(0).start(), kMaxU64 - 1);
  EXPECT_EQ(rb.holes(0).end(), kMaxU64);

  LiveStatus s;
  s.set_head_seq(kMaxU64);
  s.set_journal_bytes(kMaxU64);
  auto sb = Decode<LiveStatus>(Encode(s));
  EXPECT_EQ(sb.head_seq(), kMaxU64);
  EXPECT_EQ(sb.journal_bytes(), kMaxU64);

  BackfillDownstream d;
  d.set_continuous_through(kMaxU64);
  EXPECT_EQ(Decode<BackfillDownstream>(Encode(d)).continuous_through(), kMaxU64);
  LiveDownstream l;
  l.set_acked_through(kMaxU64);
  EXPECT_EQ(Decode<LiveDownstream>(Encode(l)).acked_through(), kMaxU64);
  HandshakeRequest q;
  q.set_instance_id(std::string(1000, 'i'));
  q.set_head_seq(kMaxU64);
  q.set_journal_bytes(kMaxU64);
  auto qb = Decode<HandshakeRequest>(Encode(q));
  EXPECT_EQ(qb.instance_id(), std::string(1000, 'i'));
  EXPECT_EQ(qb.head_seq(), kMaxU64);
  EXPECT_EQ(qb.journal_bytes(), kMaxU64);
}

}  // namespace
}  // namespace lplex::replication::v1
