// JsonRef and JsonPool: the frame JSON buffers the ring holds 65,536 of
// (issue 7: the whole server within 40 MB). A buffer is sized to its text,
// a recycled buffer carries exactly the new text, and a buffer a reader
// still holds is never rewritten.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/json_buffer.h"
#include "broker_fixture.h"
#include "can/frame_json.h"

namespace lplex::broker::testing {
namespace {

// A frame JSON of `payload` bytes, as the broker writes it.
std::string FrameJson(uint64_t seq, size_t payload) {
  std::vector<uint8_t> data(payload, 0xA5);
  std::string out;
  can::AppendFrameJson(seq, kT0, can::CanHeader{.priority = 2, .pgn = 129025, .source = 10, .destination = 255},
                       data, &out);
  return out;
}

TEST(JsonRefTest, BufferIsSizedToItsTextNotToADoubledCapacity) {
  const std::string text = FrameJson(1234, 8);  // ~120 bytes, the common frame
  JsonRef r = JsonRef::Make(text);
  EXPECT_EQ(r.view(), text);
  EXPECT_GE(r.capacity(), text.size());
  EXPECT_LT(r.capacity(), text.size() + 16);
}

TEST(JsonPoolTest, GivenBackBufferIsReusedForATextOfTheSameSizeClass) {
  JsonPool pool;
  const std::string a = FrameJson(1000, 8);
  const std::string b = FrameJson(1001, 8);
  JsonRef r = pool.Take(a);
  const char* where = r.view().data();
  pool.Give(std::move(r));
  EXPECT_FALSE(r);
  JsonRef s = pool.Take(b);
  EXPECT_EQ(s.view().data(), where);
  EXPECT_EQ(s.view(), b);
  EXPECT_TRUE(s.unique());
}

TEST(JsonPoolTest, ShortTextNeverGetsTheBufferOfALongOne) {
  JsonPool pool;
  pool.Give(pool.Take(FrameJson(1, 223)));  // an AIS-sized fast-packet frame
  const std::string shorter = FrameJson(2, 8);
  JsonRef r = pool.Take(shorter);
  EXPECT_EQ(r.view(), shorter);
  EXPECT_LT(r.capacity(), shorter.size() + 16);
}

TEST(JsonPoolTest, BufferAReaderStillHoldsIsNeverRewritten) {
  JsonPool pool;
  const std::string first = FrameJson(7, 8);
  JsonRef ring = pool.Take(first);
  JsonRef reader = ring;  // a subscriber queue still holds the frame
  pool.Give(std::move(ring));
  EXPECT_EQ(pool.pooled_bytes(), 0u);
  JsonRef next = pool.Take(FrameJson(8, 8));
  EXPECT_NE(next.view().data(), reader.view().data());
  EXPECT_EQ(reader.view(), first);
  EXPECT_TRUE(reader.unique());
}

TEST(JsonPoolTest, PoolHoldsAtMostMaxPooledBytes) {
  JsonPool pool;
  std::vector<JsonRef> refs;
  for (int i = 0; i < 2000; ++i) refs.push_back(pool.Take(FrameJson(10000 + i, 8)));
  for (auto& r : refs) pool.Give(std::move(r));
  EXPECT_GT(pool.pooled_bytes(), JsonPool::kMaxPooledBytes / 2);
  EXPECT_LE(pool.pooled_bytes(), JsonPool::kMaxPooledBytes);
  pool.Clear();
  EXPECT_EQ(pool.pooled_bytes(), 0u);
}

TEST(JsonPoolTest, TextLongerThanThePooledMaximumStillRoundTrips) {
  JsonPool pool;
  const std::string big = FrameJson(3, 1785);  // the largest journaled payload
  ASSERT_GT(big.size(), JsonPool::kMaxPooledText);
  JsonRef r = pool.Take(big);
  EXPECT_EQ(r.view(), big);
  pool.Give(std::move(r));
  EXPECT_EQ(pool.pooled_bytes(), 0u);
}

// Through the broker: a ring slot reused by frames of other sizes holds
// exactly its own frame's JSON, sized to it, for consumers and subscribers.
TEST_F(BrokerTest, ReusedRingSlotHoldsExactlyTheNewFramesJsonSizedToIt) {
  BrokerOptions o;
  o.ring_capacity = 16;
  auto b = Make(o);
  auto sub = b->Subscribe({});
  std::vector<std::string> want;
  uint64_t seq = 1;
  for (size_t payload : {size_t{223}, size_t{8}, size_t{3}, size_t{0}, size_t{8}}) {
    for (int i = 0; i < 16; ++i, ++seq) {
      auto f = MakeFrame(129025, 10, std::vector<uint8_t>(payload, 0xA5));
      b->Ingest(f.get());
      want.push_back(FrameJson(seq, payload));
    }
  }
  EXPECT_EQ(DrainSubscriber(*sub), want);
  auto c = b->NewConsumer(seq - 16, {});
  auto items = DrainConsumer(*c);
  ASSERT_EQ(items.size(), 16u);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string expected = FrameJson(items[i].seq, 8);
    EXPECT_EQ(items[i].json.view(), expected);
    EXPECT_LT(items[i].json.capacity(), expected.size() + 16) << "seq " << items[i].seq;
  }
}

}  // namespace
}  // namespace lplex::broker::testing
