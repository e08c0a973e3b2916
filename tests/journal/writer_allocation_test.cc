// Appending a frame to an open block must not allocate (DESIGN.md: no
// allocation per frame on hot paths). Global operator new is replaced in this
// binary to count allocations made by the current thread while armed.
#include <gtest/gtest.h>


#include "can/can_id.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

#include "support/allocation_counter.h"

namespace lplex::journal {
namespace {

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
  ASSERT_TRUE((*w)->Append({1000, id, 1, data}).ok());  // opens the block; allocations allowed
  ASSERT_TRUE((*w)->Append({1001, fp_id, 2, fast}).ok());
  lplex::testing::AllocationCounter counter;
  for (uint64_t i = 0; i < 1000; ++i) {
    (void)(*w)->Append({2000 + static_cast<int64_t>(i) * 1000, i % 2 ? id : fp_id, 3 + i,
                        i % 2 ? std::span<const uint8_t>(data) : std::span<const uint8_t>(fast)});
  }
  EXPECT_EQ(counter.count(), 0);
  EXPECT_EQ((*w)->stats().blocks_written, 0u) << "the frames should still be in the first block";
  ASSERT_TRUE((*w)->Close().ok());
}

}  // namespace
}  // namespace lplex::journal
