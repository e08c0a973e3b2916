// Appending a frame to an open block must not allocate (DESIGN.md: no
// allocation per frame on hot paths). Global operator new is replaced in this
// binary to count allocations made by the current thread while armed.
#include <gtest/gtest.h>


#include "can/can_id.h"
#include "journal/frame_queue.h"
#include "journal/journal_sink.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

#include "support/allocation_counter.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using testutil::WFrame;

TEST(WriterAllocation, AppendWithinBlockDoesNotAllocate) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "sanitizer runtimes own operator new";
  lplex::testing::TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  o.compression = Compression::kZstd;
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t fast[43] = {};
  const uint32_t id = can::BuildCanId({2, 129025, 10, 255});
  const uint32_t fp_id = can::BuildCanId({3, 129029, 11, 255});
  ASSERT_TRUE((*w)->Append(WFrame(1000, id, 1, data)).ok());  // opens the block; allocations allowed
  ASSERT_TRUE((*w)->Append(WFrame(1001, fp_id, 2, fast)).ok());
  lplex::testing::AllocationCounter counter;
  for (uint64_t i = 0; i < 1000; ++i) {
    (void)(*w)->Append(WFrame(2000 + static_cast<int64_t>(i) * 1000, i % 2 ? id : fp_id, 3 + i,
                        i % 2 ? std::span<const uint8_t>(data) : std::span<const uint8_t>(fast)));
  }
  EXPECT_EQ(counter.count(), 0);
  EXPECT_EQ((*w)->stats().blocks_written, 0u) << "the frames should still be in the first block";
  ASSERT_TRUE((*w)->Close().ok());
}

// The broker's hot path: Offer copies the frame into the sink's ring and
// allocates nothing (the first Offer allocates the ring itself).
TEST(WriterAllocation, SinkOfferDoesNotAllocateAfterTheFirstFrame) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "sanitizer runtimes own operator new";
  lplex::testing::TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  auto sink = JournalSink::Create(std::move(w).value(), {});
  ASSERT_TRUE(sink.ok());
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t fast[223] = {};
  can::Frame f{.timestamp_us = 1'750'000'000'000'000, .header = {2, 129025, 10, 255}, .data = data, .seq = 1};
  ASSERT_TRUE((*sink)->Offer(f));
  lplex::testing::AllocationCounter counter;
  for (uint64_t i = 0; i < 1000; ++i) {
    f.seq = 2 + i;
    f.data = i % 2 ? std::span<const uint8_t>(data) : std::span<const uint8_t>(fast);
    (void)(*sink)->Offer(f);
  }
  EXPECT_EQ(counter.count(), 0);
}

// An idle sink costs its fields, not its queue: the ring is allocated by
// the first frame (a cloud node holds thousands of idle instances).
TEST(WriterAllocation, IdleFrameQueueAllocatesNoRing) {
  if (!lplex::testing::kCountsAllocations) GTEST_SKIP() << "sanitizer runtimes own operator new";
  uint8_t data[8] = {};
  const can::Frame f{.timestamp_us = 1, .header = {2, 129025, 10, 255}, .data = data, .seq = 1};
  long constructed = 0;
  {
    lplex::testing::AllocationCounter counter;
    FrameQueue q(64 << 20);
    can::Frame out;
    EXPECT_FALSE(q.Peek(&out));
    constructed = counter.count();
    EXPECT_TRUE(q.Push(f));
    EXPECT_EQ(counter.count(), constructed + 1) << "the first Push allocates the ring";
  }
  EXPECT_EQ(constructed, 0);
}

}  // namespace
}  // namespace lplex::journal
