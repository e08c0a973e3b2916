// RecoverNextSeq: seq continues after a restart from the newest journal
// block (spec/cloud.md P2), files ordered by first seq (P15).
#include "journal/seq_recovery.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "journal/reader.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

namespace fsys = std::filesystem;
using lplex::testing::TempDir;

constexpr int64_t kT0 = 1'750'000'000'000'000;

// Writes seqs [first, last] (1 ms apart from `ts`) into one file; returns its path.
std::string WriteJournal(const std::string& dir, const std::string& prefix, uint64_t first, uint64_t last, int64_t ts,
                         Compression c = Compression::kNone) {
  WriterOptions o;
  o.dir = dir;
  o.prefix = prefix;
  o.compression = c;
  o.block_size = 4096;
  std::string path;
  o.on_rotate = [&](const RotatedFile& f) { path = f.path; };
  auto w = JournalWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (uint64_t s = first; s <= last; ++s) {
    const can::Frame f{.timestamp_us = ts + static_cast<int64_t>(s - first) * 1000,
                       .header = {2, 129025, 10, 255},
                       .data = data,
                       .seq = s};
    EXPECT_TRUE((*w)->Append(f).ok());
  }
  EXPECT_TRUE((*w)->Close().ok());
  return path;
}

struct BlockSpan {
  uint64_t count;
  uint64_t last_base_seq;
  uint32_t last_frames;
};

BlockSpan Blocks(const std::string& path) {
  auto r = JournalReader::OpenPath(path);
  EXPECT_TRUE(r.ok());
  BlockSpan b{(*r)->block_count(), 0, 0};
  auto info = (*r)->InspectBlock(b.count - 1);
  EXPECT_TRUE(info.ok());
  b.last_base_seq = info->base_seq;
  b.last_frames = info->frame_count;
  return b;
}

void Overwrite(const std::string& path, uint64_t offset, size_t n, uint8_t byte) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  for (size_t i = 0; i < n; ++i) f.put(static_cast<char>(byte));
}

TEST(SeqRecovery, EmptyOrMissingDirectoryStartsAtOne) {
  TempDir tmp;
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->next_seq, 1u);
  EXPECT_EQ(r->path, "");
  auto missing = RecoverNextSeq(tmp.path() + "/not-there");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->next_seq, 1u);
}

TEST(SeqRecovery, NextSeqFollowsTheLastFrameOfTheNewestBlock) {
  TempDir tmp;
  WriteJournal(tmp.path(), "nmea2k", 1, 999, kT0);
  const std::string newest = WriteJournal(tmp.path(), "nmea2k", 1000, 1733, kT0 + 3'600'000'000);
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->next_seq, 1734u);
  EXPECT_EQ(r->path, newest);
  EXPECT_EQ(static_cast<uint64_t>(r->block), Blocks(newest).count - 1);
  EXPECT_TRUE(r->skipped.empty());
}

// P15: `backfill-*` sorts before `nmea2k-*` by name but holds later seqs.
TEST(SeqRecovery, FilesAreOrderedByFirstSeqNotByName) {
  TempDir tmp;
  const std::string late = WriteJournal(tmp.path(), "aaa", 5000, 5100, kT0);
  WriteJournal(tmp.path(), "zzz", 1, 4999, kT0 + 3'600'000'000);
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, 5101u);
  EXPECT_EQ(r->path, late);
  auto files = ListJournalFilesBySeq(tmp.path());
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].first_seq, 1u);
  EXPECT_EQ((*files)[1].first_seq, 5000u);
}

TEST(SeqRecovery, PrefixLimitsTheFilesConsidered) {
  TempDir tmp;
  WriteJournal(tmp.path(), "nmea2k", 1, 100, kT0);
  WriteJournal(tmp.path(), "backfill", 900, 950, kT0);
  auto r = RecoverNextSeq(tmp.path(), "nmea2k");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, 101u);
  auto all = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->next_seq, 951u);
}

// A crash mid-block leaves a partial block at the end of the file: the last
// whole block counts.
TEST(SeqRecovery, CrashCutLastBlockFallsBackToTheLastWholeBlock) {
  TempDir tmp;
  const std::string path = WriteJournal(tmp.path(), "nmea2k", 1, 1000, kT0);
  const BlockSpan b = Blocks(path);
  ASSERT_GE(b.count, 3u);
  // Cut the file in the middle of its last block (uncompressed: 16 + n * 4096).
  fsys::resize_file(path, 16 + (b.count - 1) * 4096 + 2000);
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, b.last_base_seq) << "the cut block's frames are gone; its base seq is next";
  EXPECT_EQ(static_cast<uint64_t>(r->block), b.count - 2);
}

// A last block whose CRC fails is skipped (and reported); the block before
// it gives the seq.
TEST(SeqRecovery, DamagedLastBlockFallsBackToTheLastIntactBlock) {
  TempDir tmp;
  const std::string path = WriteJournal(tmp.path(), "nmea2k", 1, 1000, kT0);
  const BlockSpan b = Blocks(path);
  Overwrite(path, 16 + (b.count - 1) * 4096 + 100, 16, 0xEE);
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, b.last_base_seq);
  EXPECT_EQ(static_cast<uint64_t>(r->block), b.count - 2);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].find(path), std::string::npos) << r->skipped[0];
}

// Compressed too: a damaged zstd frame in the last block.
TEST(SeqRecovery, DamagedLastCompressedBlockFallsBackToTheBlockBefore) {
  TempDir tmp;
  const std::string path = WriteJournal(tmp.path(), "nmea2k", 1, 3000, kT0, Compression::kZstd);
  const BlockSpan b = Blocks(path);
  ASSERT_GE(b.count, 2u);
  // Damage the last block's payload: find its offset through the reader.
  auto rd = JournalReader::OpenPath(path);
  ASSERT_TRUE(rd.ok());
  auto info = (*rd)->InspectBlock(b.count - 1);
  ASSERT_TRUE(info.ok());
  Overwrite(path, info->offset + 20 + 4, 8, 0x00);
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<uint64_t>(r->block), b.count - 2);
  EXPECT_LT(r->next_seq, b.last_base_seq + b.last_frames);
  EXPECT_EQ(r->next_seq, b.last_base_seq);
}

// A newest file with no readable block at all: the file before it counts.
TEST(SeqRecovery, UnreadableNewestFileFallsBackToThePreviousFile) {
  TempDir tmp;
  WriteJournal(tmp.path(), "nmea2k", 1, 100, kT0);
  const std::string newest = WriteJournal(tmp.path(), "nmea2k", 101, 120, kT0 + 3'600'000'000);
  ASSERT_EQ(Blocks(newest).count, 1u);
  Overwrite(newest, 16 + 200, 32, 0xEE);  // the CRC of its one block fails
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, 101u);
  EXPECT_NE(r->path, newest);
}

// Streams recorded without seqs (BaseSeq 0) do not count.
TEST(SeqRecovery, BlocksWithoutSeqsAreIgnored) {
  TempDir tmp;
  WriteJournal(tmp.path(), "nmea2k", 1, 50, kT0);
  WriteJournal(tmp.path(), "noseq", 0, 0, kT0 + 3'600'000'000);  // one frame, seq 0
  auto r = RecoverNextSeq(tmp.path());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->next_seq, 51u);
}

}  // namespace
}  // namespace lplex::journal
