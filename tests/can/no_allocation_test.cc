// The steady-state paths of the CAN layer must not allocate (DESIGN.md: no
// allocation per frame on hot paths). Global operator new is replaced in this
// binary to count allocations made by the current thread while armed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "can/device_registry.h"
#include "can/fast_packet.h"
#include "core/endian.h"

#include "support/allocation_counter.h"

namespace lplex::can {
namespace {

using lplex::testing::AllocationCounter;

RawFrame Frame(uint32_t pgn, uint8_t source, int64_t ts_us, std::span<const uint8_t> bytes) {
  RawFrame f;
  f.timestamp_us = ts_us;
  f.id = BuildCanId({.priority = 6, .pgn = pgn, .source = source});
  f.length = static_cast<uint8_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), f.data.begin());
  return f;
}

TEST(NoAllocationTest, AssemblerFragmenterAndRegistrySteadyState) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "allocation counting is off under sanitizers";
  std::vector<uint8_t> payload(134);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> claim(8);
  le::Store64(claim.data(), 0xc0a0a0001cbea005);
  const std::vector<uint8_t> position = {1, 2, 3, 4, 5, 6, 7, 8};

  FastPacketAssembler assembler;
  FastPacketFragmenter fragmenter;
  DeviceRegistry registry;
  TxFrames tx;
  can::Frame m;
  auto round = [&](int64_t ts) {
    int messages = 0;
    for (uint8_t src : {1, 2, 3}) {
      EXPECT_TRUE(fragmenter.Fragment({.priority = 6, .pgn = 126996, .source = src}, payload, &tx).ok());
      for (const RawFrame& f : tx.view()) {
        RawFrame r = f;
        r.timestamp_us = ts;
        if (assembler.Process(r, &m)) {
          registry.Observe(m);
          ++messages;
        }
      }
      if (assembler.Process(Frame(129025, src, ts, position), &m)) {
        registry.Observe(m);
        ++messages;
      }
      if (assembler.Process(Frame(60928, src, ts, claim), &m)) {
        registry.Observe(m);
        ++messages;
      }
    }
    assembler.PurgeStale(ts);
    return messages;
  };
  round(0);  // warm-up: slots, registry entries, product strings

  {
    AllocationCounter self_check;  // the counter does see allocations
    // A direct call, escaped, so the compiler cannot elide it the way it may
    // elide a new-expression.
    void* p = ::operator new(16);
    asm volatile("" : : "r"(p) : "memory");
    ::operator delete(p);
    ASSERT_EQ(self_check.count(), 1);
  }
  AllocationCounter counter;
  int messages = 0;
  for (int i = 1; i <= 200; ++i) messages += round(i * 1'000);
  EXPECT_EQ(counter.count(), 0);
  EXPECT_EQ(messages, 200 * 9);
}

}  // namespace
}  // namespace lplex::can
