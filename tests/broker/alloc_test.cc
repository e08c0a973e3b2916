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
  auto warm = MakeFrame(129025, 10);
  JsonRef m;
  for (int i = 0; i < 64; ++i) {
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

}  // namespace
}  // namespace lplex::broker::testing
