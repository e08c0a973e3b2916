// ListJournalSpans / SelectSpansForSeqRange: files ordered by first seq,
// not by name (P15), and a seq range chooses files without opening the
// ones outside it (P12).
#include "journal/journal_spans.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "journal/journal_test_util.h"
#include "journal/stored_blocks.h"
#include "journal/stored_blocks_test_util.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

using lplex::testing::TempDir;
using stored_test::CountingFileSystem;
using stored_test::JournalSpec;
using stored_test::WriteCaptureJournal;

std::vector<std::string> Paths(const std::vector<JournalSpan>& spans) {
  std::vector<std::string> out;
  for (const auto& s : spans) out.push_back(s.path);
  return out;
}

TEST(JournalSpans, FilesAreOrderedByFirstSeqNotByName) {
  TempDir tmp;
  // By name: backfill-2026 < nmea2k-2025 < nmea2k-2027. By seq: the nmea2k
  // file of 2025 holds the oldest seqs, the backfill file the middle ones.
  const std::string live_old = WriteCaptureJournal(
      {.dir = tmp.path(), .prefix = "nmea2k", .first_seq = 1, .frames = 500, .start_us = 1'735'000'000'000'000});
  const std::string backfill = WriteCaptureJournal(
      {.dir = tmp.path(), .prefix = "backfill", .first_seq = 501, .frames = 500, .start_us = 1'770'000'000'000'000});
  const std::string live_new = WriteCaptureJournal(
      {.dir = tmp.path(), .prefix = "nmea2k", .first_seq = 1001, .frames = 500, .start_us = 1'800'000'000'000'000});
  std::vector<std::string> by_name = {live_old, backfill, live_new};
  std::sort(by_name.begin(), by_name.end());
  ASSERT_EQ(by_name, (std::vector<std::string>{backfill, live_old, live_new}));

  std::vector<std::string> skipped;
  auto spans = ListJournalSpans(tmp.path(), "", nullptr, &skipped);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(Paths(*spans), (std::vector<std::string>{live_old, backfill, live_new}));
  EXPECT_EQ((*spans)[0].first_seq, 1u);
  EXPECT_EQ((*spans)[1].first_seq, 501u);
  EXPECT_EQ((*spans)[2].first_seq, 1001u);
  for (const JournalSpan& s : *spans) {
    EXPECT_GT(s.last_base_seq, s.first_seq);
    EXPECT_LT(s.last_base_seq, s.first_seq + 500);
    EXPECT_EQ(s.compression, Compression::kZstd);
    EXPECT_EQ(s.block_size, 4096u);
  }
}

TEST(JournalSpans, PrefixKeepsOnlyThatWritersFiles) {
  TempDir tmp;
  WriteCaptureJournal({.dir = tmp.path(), .prefix = "nmea2k", .first_seq = 1, .frames = 100});
  const std::string b = WriteCaptureJournal({.dir = tmp.path(), .prefix = "backfill", .first_seq = 200, .frames = 100});
  auto spans = ListJournalSpans(tmp.path(), "backfill");
  ASSERT_TRUE(spans.ok());
  EXPECT_EQ(Paths(*spans), std::vector<std::string>{b});
}

TEST(JournalSpans, SeqRangeSelectsOnlyFilesThatOverlapIt) {
  TempDir tmp;
  // Three files far enough apart that a block's largest frame count
  // (MaxFramesPerBlock(4096) = 678) cannot bridge them.
  const std::string a = WriteCaptureJournal({.dir = tmp.path(), .first_seq = 1, .frames = 2000});
  const std::string b = WriteCaptureJournal(
      {.dir = tmp.path(), .first_seq = 5001, .frames = 2000, .start_us = stored_test::kT0 + 10'000'000});
  const std::string c = WriteCaptureJournal(
      {.dir = tmp.path(), .first_seq = 10001, .frames = 2000, .start_us = stored_test::kT0 + 20'000'000});
  ASSERT_EQ(MaxFramesPerBlock(4096), 678u);
  CountingFileSystem fs;
  auto spans = ListJournalSpans(tmp.path(), "", &fs);
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(Paths(*spans), (std::vector<std::string>{a, b, c}));
  fs.opened.clear();

  EXPECT_EQ(Paths(SelectSpansForSeqRange(*spans, 5500, 6000)), std::vector<std::string>{b});
  EXPECT_EQ(Paths(SelectSpansForSeqRange(*spans, 1990, 5002)), (std::vector<std::string>{a, b}));
  EXPECT_EQ(Paths(SelectSpansForSeqRange(*spans, 1, 100000)), (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(Paths(SelectSpansForSeqRange(*spans, 11000, 11001)), std::vector<std::string>{c});
  EXPECT_TRUE(SelectSpansForSeqRange(*spans, 3000, 5001).empty());  // the gap between a and b (end exclusive)
  EXPECT_TRUE(SelectSpansForSeqRange(*spans, 20000, 30000).empty());
  EXPECT_TRUE(SelectSpansForSeqRange(*spans, 6000, 6000).empty());
  EXPECT_TRUE(fs.opened.empty()) << "selection opened " << fs.opened.front();

  // Backfill of [5500, 6000): only b is opened, and only the blocks that
  // can hold the range are read.
  const auto chosen = SelectSpansForSeqRange(*spans, 5500, 6000);
  auto rd = StoredBlockReader::OpenPath(chosen[0].path, &fs);
  ASSERT_TRUE(rd.ok());
  auto range = (*rd)->BlocksForSeqRange(5500, 6000);
  ASSERT_TRUE(range.ok());
  ASSERT_FALSE(range->empty());
  EXPECT_LT(range->size(), (*rd)->block_count());
  uint64_t covered_from = 0, covered_to = 0;
  for (uint64_t n = range->first; n < range->end; ++n) {
    auto blk = (*rd)->ReadBackfillBlock(n);
    ASSERT_TRUE(blk.ok()) << blk.status().ToString();
    if (n == range->first) covered_from = blk->base_seq;
    covered_to = blk->base_seq + blk->frame_count;
  }
  EXPECT_LE(covered_from, 5500u);
  EXPECT_GE(covered_to, 6000u);
  EXPECT_EQ(fs.opened, std::vector<std::string>{b});
}

TEST(JournalSpans, InterleavedFilesAreBothSelected) {
  // The cloud: a live file with a gap [300, 600) that a backfill file fills.
  TempDir tmp;
  const std::string live =
      WriteCaptureJournal({.dir = tmp.path(), .prefix = "nmea2k", .first_seq = 1, .frames = 900, .gaps = {{300, 600}}});
  const std::string fill = WriteCaptureJournal(
      {.dir = tmp.path(), .prefix = "backfill", .first_seq = 300, .frames = 300, .start_us = stored_test::kT0 + 5'000'000});
  auto spans = ListJournalSpans(tmp.path());
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(Paths(*spans), (std::vector<std::string>{live, fill}));
  EXPECT_EQ(Paths(SelectSpansForSeqRange(*spans, 400, 450)), (std::vector<std::string>{live, fill}));
  // Inside the live file only the block before the gap and after it can match.
  auto rd = StoredBlockReader::OpenPath(live);
  ASSERT_TRUE(rd.ok());
  auto range = (*rd)->BlocksForSeqRange(400, 450);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 1u);
  auto blk = (*rd)->ReadBackfillBlock(range->first);
  ASSERT_TRUE(blk.ok());
  EXPECT_LE(blk->base_seq + blk->frame_count, 300u);  // the writer ended the block at the gap (P5)
}

TEST(JournalSpans, FilesWithoutSeqsAreLeftOutWithAReason) {
  TempDir tmp;
  const std::string good = WriteCaptureJournal({.dir = tmp.path(), .first_seq = 10, .frames = 100});
  // A v1 file, a v2 file whose blocks carry no seqs, a file that is not a journal.
  testutil::VectorJournal v1(kVersion1, 4096, Compression::kNone);
  testutil::VectorBlock b;
  b.base_time_us = stored_test::kT0;
  b.frames = testutil::VectorFrames(0, 5, 1000);
  v1.AddBlock(b);
  stored_test::WriteFileBytes(tmp.Sub("old-20200101T000000.000Z.lpj"), v1.bytes());
  testutil::VectorJournal noseq(kVersion2, 4096, Compression::kNone);
  noseq.AddBlock(b);  // base seq 0
  stored_test::WriteFileBytes(tmp.Sub("noseq-20200101T000000.000Z.lpj"), noseq.bytes());
  stored_test::WriteFileBytes(tmp.Sub("junk-20200101T000000.000Z.lpj"), {'n', 'o', 'p', 'e'});
  std::vector<std::string> skipped;
  auto spans = ListJournalSpans(tmp.path(), "", nullptr, &skipped);
  ASSERT_TRUE(spans.ok());
  EXPECT_EQ(Paths(*spans), std::vector<std::string>{good});
  ASSERT_EQ(skipped.size(), 3u);
  std::sort(skipped.begin(), skipped.end());
  EXPECT_NE(skipped[0].find("junk-20200101T000000.000Z.lpj"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("noseq-20200101T000000.000Z.lpj: no block carries a seq"),
            std::string::npos)
      << skipped[1];
  EXPECT_NE(skipped[2].find("old-20200101T000000.000Z.lpj: journal v1 carries no seqs"), std::string::npos)
      << skipped[2];
}

TEST(JournalSpans, MissingDirectoryIsAnEmptyList) {
  TempDir tmp;
  auto spans = ListJournalSpans(tmp.Sub("nope"));
  ASSERT_TRUE(spans.ok());
  EXPECT_TRUE(spans->empty());
}

TEST(JournalSpans, EndSeqBoundSaturatesInsteadOfWrapping) {
  JournalSpan s;
  s.block_size = 4096;
  s.last_base_seq = UINT64_MAX - 10;
  EXPECT_EQ(s.end_seq_bound(), UINT64_MAX);
  s.last_base_seq = 100;
  EXPECT_EQ(s.end_seq_bound(), 100u + 678u);
}

}  // namespace
}  // namespace lplex::journal
