// "No allocation per frame on hot paths": once the ring is warm, Ingest
// (with a subscriber that keeps up and a consumer) allocates nothing.
#include "support/allocation_counter.h"

#include "broker_fixture.h"

namespace lplex::broker::testing {
namespace {

TEST_F(BrokerTest, WarmIngestAllocatesNothing) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "allocation counting is off under sanitizers";
  BrokerOptions o;
  o.ring_capacity = 16;
  auto b = Make(o);
  auto sub = b->Subscribe({});
  // Warm = the ring has turned over with the JSON sizes of the measured
  // frames: their 4-digit seqs (a JSON that grows into another buffer size
  // class takes new buffers once, for one turn of the ring) and a full
  // period of their timestamps (RFC 3339 drops trailing zeros, so the text
  // is shorter on whole milliseconds and seconds).
  auto warm = MakeFrame(129025, 10);
  JsonRef m;
  for (int i = 0; i < 3000; ++i) {
    warm.frame.timestamp_us = kT0 + i * 1000;
    b->Ingest(warm.get());
    while (sub->TryPop(&m)) {
    }
  }
  m.Reset();
  auto f = MakeFrame(129025, 10);
  lplex::testing::AllocationCounter counter;
  for (int i = 0; i < 1000; ++i) {
    f.frame.timestamp_us = kT0 + i * 1000;
    b->Ingest(f.get());
    while (sub->TryPop(&m)) {
    }
    m.Reset();
  }
  EXPECT_EQ(counter.count(), 0);
}

// A bus mixes payload sizes (single frames, fast-packet of several
// lengths) and a slot is reused by a frame of another size 65,536 frames
// later. Buffers sized to their text are recycled through the pool by size
// class, so once the ring has turned over ingest still allocates nothing.
TEST_F(BrokerTest, WarmIngestOfMixedPayloadSizesAllocatesNothing) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "allocation counting is off under sanitizers";
  BrokerOptions o;
  o.ring_capacity = 16;
  auto b = Make(o);
  auto sub = b->Subscribe({});
  // A cycle of 5 sizes against a ring of 16: each slot sees every size.
  std::vector<TestFrame> frames;
  for (size_t payload : {size_t{8}, size_t{3}, size_t{21}, size_t{134}, size_t{43}}) {
    frames.push_back(MakeFrame(129025, 10, std::vector<uint8_t>(payload, 0x5A)));
  }
  JsonRef m;
  auto run = [&](int n, int from) {
    for (int i = from; i < from + n; ++i) {
      auto& f = frames[static_cast<size_t>(i) % frames.size()];
      f.frame.timestamp_us = kT0 + i * 1000;
      b->Ingest(f.get());
      while (sub->TryPop(&m)) {
      }
      m.Reset();
    }
  };
  run(3000, 0);  // seqs 1..3000: the last 2,000 have the measured frames' sizes
  lplex::testing::AllocationCounter counter;
  run(1000, 3000);  // seqs 3001..4000
  EXPECT_EQ(counter.count(), 0);
}

}  // namespace
}  // namespace lplex::broker::testing
