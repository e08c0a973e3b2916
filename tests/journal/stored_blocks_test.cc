// StoredBlockReader: a block's stored bytes and metadata without decoding it
// (issue 8: backfill is a copy, not a decompress-recompress), blocks found
// by seq with a binary search (P12), dictionary blocks re-encoded as plain
// zstd (P6), and any bytes safe input.
#include "journal/stored_blocks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/endian.h"
#include "journal/reader.h"
#include "journal/stored_blocks_test_util.h"
#include "journal/journal_test_util.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

using lplex::testing::TempDir;
using stored_test::CountingFile;
using stored_test::FileBytes;
using stored_test::JournalSpec;
using stored_test::ReadCount;
using stored_test::WriteCaptureJournal;
using stored_test::WriteFileBytes;

std::unique_ptr<StoredBlockReader> OpenOrDie(const std::string& path) {
  auto r = StoredBlockReader::OpenPath(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::unique_ptr<StoredBlockReader> OpenBytes(const std::vector<uint8_t>& bytes, const std::string& name = "j.lpj") {
  auto r = StoredBlockReader::Open(std::make_unique<MemoryFile>(bytes), name);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Frame counts and base seqs as JournalReader sees them (it decodes).
struct DecodedBlock {
  uint64_t offset, stored_len, base_seq;
  int64_t base_time;
  uint32_t frame_count;
  int64_t last_time;
};
std::vector<DecodedBlock> DecodeAll(const std::string& path) {
  std::vector<DecodedBlock> out;
  auto r = JournalReader::OpenPath(path);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return out;
  for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
    auto info = (*r)->InspectBlock(n);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    int64_t last = info->base_time_us;
    while ((*r)->Next() && (*r)->current_block() == static_cast<int64_t>(n)) last = (*r)->frame().timestamp_us;
    out.push_back({info->offset, info->stored_len, info->base_seq, info->base_time_us, info->frame_count, last});
  }
  return out;
}

class StoredBlocksByCompression : public ::testing::TestWithParam<Compression> {};

TEST_P(StoredBlocksByCompression, StoredBytesOfABlockEqualTheFileBytesAtItsOffset) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = GetParam(), .first_seq = 100});
  const std::vector<uint8_t> file = FileBytes(path);
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  auto rd = OpenOrDie(path);
  ASSERT_NE(rd, nullptr);
  ASSERT_GT(rd->block_count(), 5u);
  ASSERT_EQ(rd->block_count(), decoded.size());
  EXPECT_TRUE(rd->damage().empty());
  uint64_t expected_offset = kFileHeaderSize;
  for (uint64_t n = 0; n < rd->block_count(); ++n) {
    SCOPED_TRACE(n);
    StoredBlockMeta meta;
    auto bytes = rd->ReadStoredBytes(n, &meta);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(meta.offset, expected_offset);  // blocks lie back to back
    EXPECT_EQ(meta.offset, decoded[n].offset);
    EXPECT_EQ(meta.stored_len, decoded[n].stored_len);
    EXPECT_EQ(meta.base_seq, decoded[n].base_seq);
    EXPECT_EQ(meta.base_time_us, decoded[n].base_time);
    ASSERT_LE(meta.offset + meta.stored_len, file.size());
    EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(), file.begin() + static_cast<ptrdiff_t>(meta.offset),
                           file.begin() + static_cast<ptrdiff_t>(meta.offset + meta.stored_len)));
    expected_offset += meta.stored_len;

    auto v = rd->ReadVerifiedBlock(n);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->frame_count, decoded[n].frame_count);
    EXPECT_EQ(v->last_time_us, decoded[n].last_time);
    EXPECT_FALSE(v->truncated);
    EXPECT_EQ(v->decoded.size(), rd->block_size());
  }
  if (GetParam() != Compression::kNone) {
    // The LPJI index follows the last block.
    EXPECT_EQ(expected_offset + 8 * rd->block_count() + 8, file.size());
  } else {
    EXPECT_EQ(expected_offset, file.size());
  }
}

TEST_P(StoredBlocksByCompression, BackfillBlockCarriesTheStoredBytesAndTheTrailersFrameCount) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = GetParam(), .first_seq = 7});
  const std::vector<uint8_t> file = FileBytes(path);
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  auto rd = OpenOrDie(path);
  ASSERT_NE(rd, nullptr);
  uint64_t next_seq = 7;
  for (uint64_t n = 0; n < rd->block_count(); ++n) {
    SCOPED_TRACE(n);
    auto b = rd->ReadBackfillBlock(n);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->base_seq, next_seq);
    EXPECT_EQ(b->frame_count, decoded[n].frame_count);
    EXPECT_EQ(b->base_time_us, decoded[n].base_time);
    EXPECT_EQ(b->block_size, 4096u);
    next_seq += b->frame_count;
    if (GetParam() == Compression::kZstdDict) continue;  // DictionaryBlockIsReencodedAsPlainZstd
    EXPECT_FALSE(b->reencoded);
    EXPECT_EQ(b->compressed, GetParam() != Compression::kNone);
    // Uncompressed: the whole block. zstd: the payload after the 20-byte outer header.
    const uint64_t at = decoded[n].offset + (GetParam() == Compression::kNone ? 0 : kZstdHeaderLenV2);
    const uint64_t len = decoded[n].stored_len - (at - decoded[n].offset);
    ASSERT_EQ(b->data.size(), len);
    EXPECT_EQ(0, std::memcmp(b->data.data(), file.data() + at, len));
  }
  EXPECT_EQ(next_seq, 7 + stored_test::CaptureMessages().size());
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, StoredBlocksByCompression,
                         ::testing::Values(Compression::kNone, Compression::kZstd, Compression::kZstdDict),
                         [](const auto& info) {
                           return std::string(info.param == Compression::kNone   ? "None"
                                              : info.param == Compression::kZstd ? "Zstd"
                                                                                 : "ZstdDict");
                         });

TEST(StoredBlocks, DictionaryBlockIsReencodedAsPlainZstd) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kZstdDict});
  auto rd = OpenOrDie(path);
  ASSERT_NE(rd, nullptr);
  uint64_t with_dict = 0;
  for (uint64_t n = 0; n < rd->block_count(); ++n) {
    SCOPED_TRACE(n);
    auto v = rd->ReadVerifiedBlock(n);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    const std::vector<uint8_t> plain(v->decoded.begin(), v->decoded.end());
    const bool had_dict = !v->dictionary.empty();
    with_dict += had_dict ? 1 : 0;
    auto b = rd->ReadBackfillBlock(n);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_TRUE(b->compressed);
    EXPECT_EQ(b->reencoded, had_dict);
    // Whatever was sent decodes without any dictionary to the verified block.
    EXPECT_EQ(ZSTD_getDictID_fromFrame(b->data.data(), b->data.size()), 0u);
    std::vector<uint8_t> out(rd->block_size());
    const size_t got = ZSTD_decompress(out.data(), out.size(), b->data.data(), b->data.size());
    ASSERT_FALSE(ZSTD_isError(got)) << ZSTD_getErrorName(got);
    ASSERT_EQ(got, rd->block_size());
    EXPECT_EQ(out, plain);
  }
  EXPECT_GT(with_dict, 0u) << "the writer trained no dictionary; the test proves nothing";
}

TEST(StoredBlocks, DictionaryFileBlockWithoutDictionaryIsSentAsStored) {
  testutil::VectorJournal j(kVersion2, 4096, Compression::kZstdDict);
  j.set_use_dictionary(false);
  testutil::VectorBlock b;
  b.base_time_us = stored_test::kT0;
  b.base_seq = 50;
  b.frames = testutil::VectorFrames(0, 20, 1000);
  const uint64_t off = j.AddBlock(b);
  j.AppendIndex();
  auto rd = OpenBytes(j.bytes());
  ASSERT_NE(rd, nullptr);
  auto sent = rd->ReadBackfillBlock(0);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_FALSE(sent->reencoded);
  EXPECT_TRUE(sent->compressed);
  EXPECT_EQ(sent->frame_count, 20u);
  const uint64_t at = off + kDictHeaderLenV2;
  ASSERT_EQ(sent->data.size(), j.bytes().size() - 16 - at);  // the rest up to the index (1 entry + footer)
  EXPECT_EQ(0, std::memcmp(sent->data.data(), j.bytes().data() + at, sent->data.size()));
}

TEST(StoredBlocks, BlockForSeqUsesTheIndexNotAScan) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kZstd, .first_seq = 1000});
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  ReadCount count;
  auto file = FileSystem::Default()->NewRandomAccessFile(path);
  ASSERT_TRUE(file.ok());
  auto rd = StoredBlockReader::Open(std::make_unique<CountingFile>(std::move(file).value(), &count), path);
  ASSERT_TRUE(rd.ok()) << rd.status().ToString();
  ASSERT_TRUE((*rd)->has_block_index());
  ASSERT_GT(decoded.size(), 8u);
  count.Reset();
  for (uint64_t n = 0; n < decoded.size(); ++n) {
    for (uint64_t seq : {decoded[n].base_seq, decoded[n].base_seq + decoded[n].frame_count - 1}) {
      auto found = (*rd)->FindBlockForSeq(seq);
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      EXPECT_EQ(*found, n) << "seq " << seq;
    }
  }
  // The block table came from the index at Open: no read, no block decoded.
  EXPECT_EQ(count.reads.load(), 0u);
  auto before = (*rd)->FindBlockForSeq(999);
  EXPECT_TRUE(before.status().IsNotFound());
  EXPECT_NE(before.status().message().find("seq 999 is before block 0 (base seq 1000)"), std::string::npos)
      << before.status().message();
}

TEST(StoredBlocks, BlockForSeqInAnUncompressedFileReadsOneBaseSeqPerProbe) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kNone, .first_seq = 1});
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  ReadCount count;
  auto file = FileSystem::Default()->NewRandomAccessFile(path);
  ASSERT_TRUE(file.ok());
  auto rd = StoredBlockReader::Open(std::make_unique<CountingFile>(std::move(file).value(), &count), path);
  ASSERT_TRUE(rd.ok());
  const uint64_t probes = static_cast<uint64_t>(std::ceil(std::log2(static_cast<double>(decoded.size())))) + 1;
  for (uint64_t n = 0; n < decoded.size(); n += 3) {
    count.Reset();
    auto found = (*rd)->FindBlockForSeq(decoded[n].base_seq + 1);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, n);
    EXPECT_LE(count.reads.load(), probes);
    EXPECT_LE(count.largest.load(), 8u);  // base seqs only, never a block
  }
}

TEST(StoredBlocks, BlockForSeqFallsBackToScanWhenIndexIsDamaged) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kZstd, .first_seq = 500});
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  std::vector<uint8_t> bytes = FileBytes(path);
  const uint64_t count = decoded.size();
  // Entry 2 of the index points into the middle of block 1.
  const size_t entry2 = bytes.size() - 8 - 8 * count + 16;
  le::Store64(bytes.data() + entry2, decoded[1].offset + 3);
  auto rd = OpenBytes(bytes, "damaged.lpj");
  ASSERT_NE(rd, nullptr);
  EXPECT_FALSE(rd->has_block_index());
  ASSERT_EQ(rd->block_count(), count);
  ASSERT_EQ(rd->damage().size(), 1u);
  EXPECT_NE(rd->damage()[0].message().find("damaged.lpj: block index damaged"), std::string::npos)
      << rd->damage()[0].message();
  for (uint64_t n = 0; n < count; ++n) {
    auto found = rd->FindBlockForSeq(decoded[n].base_seq + decoded[n].frame_count - 1);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, n);
    StoredBlockMeta meta;
    auto stored = rd->ReadStoredBytes(n, &meta);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(meta.offset, decoded[n].offset);
    EXPECT_EQ(0, std::memcmp(stored->data(), bytes.data() + meta.offset, meta.stored_len));
  }
}

TEST(StoredBlocks, TruncatedLastBlockIsReportedNotReturned) {
  for (Compression c : {Compression::kZstd, Compression::kNone}) {
    SCOPED_TRACE(CompressionName(c));
    TempDir tmp;
    const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = c, .first_seq = 1});
    const std::vector<DecodedBlock> decoded = DecodeAll(path);
    const uint64_t last = decoded.size() - 1;
    std::vector<uint8_t> bytes = FileBytes(path);
    // A crash in the middle of writing the last block: no index, half a block.
    bytes.resize(decoded[last].offset + decoded[last].stored_len / 2);
    auto rd = OpenBytes(bytes, "cut.lpj");
    ASSERT_NE(rd, nullptr);
    EXPECT_EQ(rd->block_count(), last);
    ASSERT_EQ(rd->damage().size(), 1u);
    const std::string& msg = rd->damage()[0].message();
    EXPECT_NE(msg.find(fmt::format("at file offset {}", decoded[last].offset)), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("block {} is cut off", last)), std::string::npos) << msg;
    auto gone = rd->ReadStoredBytes(last);
    EXPECT_EQ(gone.status().code(), Status::Code::kOutOfRange) << gone.status().ToString();
    EXPECT_EQ(rd->ReadBackfillBlock(last).status().code(), Status::Code::kOutOfRange);
    // A seq of the lost block resolves to the block before it, whose frame
    // count shows it does not reach that seq.
    const uint64_t lost_seq = decoded[last].base_seq + 1;
    auto found = rd->FindBlockForSeq(lost_seq);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, last - 1);
    auto prev = rd->ReadBackfillBlock(*found);
    ASSERT_TRUE(prev.ok()) << prev.status().ToString();
    EXPECT_LE(prev->base_seq + prev->frame_count, lost_seq);
  }
}

TEST(StoredBlocks, CorruptPayloadIsAnErrorAndNeverSent) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kZstd});
  const std::vector<DecodedBlock> decoded = DecodeAll(path);
  std::vector<uint8_t> bytes = FileBytes(path);
  // Flip a byte in the middle of block 2's zstd payload.
  bytes[decoded[2].offset + kZstdHeaderLenV2 + (decoded[2].stored_len - kZstdHeaderLenV2) / 2] ^= 0x5a;
  auto rd = OpenBytes(bytes, "flip.lpj");
  ASSERT_NE(rd, nullptr);
  // The raw seam does not judge the bytes: they are what the file holds.
  auto raw = rd->ReadStoredBytes(2);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(0, std::memcmp(raw->data(), bytes.data() + decoded[2].offset, raw->size()));
  auto sent = rd->ReadBackfillBlock(2);
  ASSERT_FALSE(sent.ok());
  EXPECT_TRUE(sent.status().IsCorruption()) << sent.status().ToString();
  EXPECT_NE(sent.status().message().find("flip.lpj"), std::string::npos) << sent.status().message();
  EXPECT_NE(sent.status().message().find(std::to_string(decoded[2].offset)), std::string::npos)
      << sent.status().message();
  // The blocks around it are unaffected.
  EXPECT_TRUE(rd->ReadBackfillBlock(1).ok());
  EXPECT_TRUE(rd->ReadBackfillBlock(3).ok());
}

TEST(StoredBlocks, UncompressedBlockWithBadCrcIsAnErrorAndNeverSent) {
  TempDir tmp;
  const std::string path = WriteCaptureJournal({.dir = tmp.path(), .compression = Compression::kNone});
  std::vector<uint8_t> bytes = FileBytes(path);
  bytes[kFileHeaderSize + 4096 + 100] ^= 1;  // a frame byte of block 1
  auto rd = OpenBytes(bytes, "crc.lpj");
  ASSERT_NE(rd, nullptr);
  auto sent = rd->ReadBackfillBlock(1);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("checksum mismatch"), std::string::npos) << sent.status().message();
  EXPECT_TRUE(rd->ReadBackfillBlock(0).ok());
}

TEST(StoredBlocks, OuterHeaderLengthPastTheNextBlockIsCorruptionNamingBoth) {
  testutil::VectorJournal j(kVersion2, 4096, Compression::kZstd);
  for (uint64_t i = 0; i < 3; ++i) {
    testutil::VectorBlock b;
    b.base_time_us = stored_test::kT0 + static_cast<int64_t>(i) * 1'000'000;
    b.base_seq = 1 + 30 * i;
    b.frames = testutil::VectorFrames(static_cast<uint32_t>(30 * i), 30, 1000);
    j.AddBlock(b);
  }
  j.AppendIndex();
  const uint64_t off1 = j.offsets()[1];
  const uint32_t real_len = le::Load32(j.bytes().data() + off1 + 16);
  {
    // Block 1 claims 50 payload bytes more than it has: the scan cannot get
    // through it, so the reader keeps the index and the block is refused.
    std::vector<uint8_t> bytes = j.bytes();
    le::Store32(bytes.data() + off1 + 16, real_len + 50);
    auto rd = OpenBytes(bytes, "long.lpj");
    ASSERT_NE(rd, nullptr);
    ASSERT_EQ(rd->block_count(), 3u);
    ASSERT_TRUE(rd->has_block_index());
    auto meta = rd->BlockMeta(1);
    ASSERT_FALSE(meta.ok());
    EXPECT_TRUE(meta.status().IsCorruption());
    EXPECT_NE(meta.status().message().find(fmt::format("long.lpj: block 1 at file offset {}", off1)),
              std::string::npos)
        << meta.status().message();
    EXPECT_NE(meta.status().message().find(fmt::format("block 2 starts at offset {}", j.offsets()[2])),
              std::string::npos)
        << meta.status().message();
    EXPECT_FALSE(rd->ReadStoredBytes(1).ok());
    EXPECT_TRUE(rd->ReadBackfillBlock(0).ok());
    EXPECT_TRUE(rd->ReadBackfillBlock(2).ok());
  }
  {
    // A length no zstd payload of a 4096-byte block can have.
    std::vector<uint8_t> bytes = j.bytes();
    le::Store32(bytes.data() + off1 + 16, real_len + 0x10000);
    auto rd = OpenBytes(bytes, "huge.lpj");
    ASSERT_NE(rd, nullptr);
    auto meta = rd->BlockMeta(1);
    ASSERT_FALSE(meta.ok());
    EXPECT_NE(meta.status().message().find(fmt::format("compressed length {} (valid: 1..", real_len + 0x10000)),
              std::string::npos)
        << meta.status().message();
  }
}

TEST(StoredBlocks, BlocksForSeqRangeAreTheBlocksThatCanHoldIt) {
  // Blocks at seqs [1,31) [31,61) [101,131) (a gap) [131,161).
  testutil::VectorJournal j(kVersion2, 4096, Compression::kZstd);
  for (uint64_t base : {1, 31, 101, 131}) {
    testutil::VectorBlock b;
    b.base_time_us = stored_test::kT0 + static_cast<int64_t>(base) * 1000;
    b.base_seq = base;
    b.frames = testutil::VectorFrames(0, 30, 1000);
    j.AddBlock(b);
  }
  j.AppendIndex();
  auto rd = OpenBytes(j.bytes());
  ASSERT_NE(rd, nullptr);
  auto range = [&](uint64_t s, uint64_t e) {
    auto r = rd->BlocksForSeqRange(s, e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::make_pair(r->first, r->end) : std::make_pair(uint64_t{99}, uint64_t{99});
  };
  EXPECT_EQ(range(1, 2), std::make_pair(uint64_t{0}, uint64_t{1}));
  EXPECT_EQ(range(30, 32), std::make_pair(uint64_t{0}, uint64_t{2}));
  EXPECT_EQ(range(31, 101), std::make_pair(uint64_t{1}, uint64_t{2}));   // end exclusive: 101 not wanted
  EXPECT_EQ(range(61, 101), std::make_pair(uint64_t{1}, uint64_t{2}));   // the gap: block 1 may reach it
  EXPECT_EQ(range(140, 1000), std::make_pair(uint64_t{3}, uint64_t{4}));
  EXPECT_TRUE(rd->BlocksForSeqRange(0, 1)->empty());    // before every block
  EXPECT_TRUE(rd->BlocksForSeqRange(50, 50)->empty());  // an empty range
}

TEST(StoredBlocks, V1FileRefusesSeqLookupAndBackfillNamingTheVersion) {
  testutil::VectorJournal j(kVersion1, 4096, Compression::kZstd);
  testutil::VectorBlock b;
  b.base_time_us = stored_test::kT0;
  b.frames = testutil::VectorFrames(0, 10, 1000);
  j.AddBlock(b);
  j.AppendIndex();
  auto rd = OpenBytes(j.bytes(), "old.lpj");
  ASSERT_NE(rd, nullptr);
  auto found = rd->FindBlockForSeq(5);
  EXPECT_EQ(found.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(found.status().message().find("old.lpj: finding seq 5 requires journal v2 (this file is v1"),
            std::string::npos)
      << found.status().message();
  EXPECT_EQ(rd->ReadBackfillBlock(0).status().code(), Status::Code::kUnsupported);
  // The stored bytes themselves are there (12-byte v1 outer header).
  auto v = rd->ReadVerifiedBlock(0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->frame_count, 10u);
  EXPECT_EQ(v->payload.data(), v->stored.data() + kZstdHeaderLenV1);
}

TEST(StoredBlocks, ReencodeLevelOutOfRangeIsRefusedNamingTheValue) {
  auto r = StoredBlockReader::Open(std::make_unique<MemoryFile>(std::vector<uint8_t>{}), "x.lpj",
                                   StoredBlockReader::Options{.reencode_level = 40});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "x.lpj: re-encode zstd level 40 out of range (valid: 1..19)");
}

TEST(StoredBlocks, MalformedFrameRecordMarksTheBlockTruncatedAndEndsItsLastTime) {
  testutil::VectorJournal j(kVersion2, 4096, Compression::kNone);
  testutil::VectorBlock b;
  b.base_time_us = stored_test::kT0;
  b.base_seq = 10;
  b.frames = testutil::VectorFrames(0, 5, 1000);
  b.frame_count = 7;                   // two more than the records there
  // Record 5's delta is 2^64-1: its time would pass year 9999.
  b.raw_after_frames = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0};
  j.AddBlock(b);
  auto rd = OpenBytes(j.bytes());
  ASSERT_NE(rd, nullptr);
  auto v = rd->ReadVerifiedBlock(0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->truncated);
  EXPECT_EQ(v->frame_count, 7u);
  EXPECT_EQ(v->last_time_us, stored_test::kT0 + 4 * 1000);
}

// Any bytes are safe input: cut and mangled real journals give values or
// errors, never a crash (run under ASan by `make test`), and no span runs
// past what the file holds.
TEST(StoredBlocks, MangledJournalsGiveErrorsNeverACrash) {
  TempDir tmp;
  std::vector<std::vector<uint8_t>> originals;
  for (Compression c : {Compression::kNone, Compression::kZstd, Compression::kZstdDict}) {
    originals.push_back(FileBytes(WriteCaptureJournal(
        {.dir = tmp.Sub(std::string(CompressionName(c))), .compression = c, .frames = 600})));
  }
  std::mt19937 rng(8);
  int opened = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<uint8_t> bytes = originals[static_cast<size_t>(round) % originals.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] ^= static_cast<uint8_t>(1 + rng() % 255); break;
        case 1: bytes.resize(std::max<size_t>(at, 1)); break;
        default: if (at + 4 <= bytes.size()) le::Store32(bytes.data() + at, static_cast<uint32_t>(rng())); break;
      }
    }
    auto r = StoredBlockReader::Open(std::make_unique<MemoryFile>(bytes), "mangled.lpj");
    if (!r.ok()) continue;
    ++opened;
    StoredBlockReader& rd = **r;
    for (uint64_t n = 0; n < rd.block_count() + 1; ++n) {
      StoredBlockMeta meta;
      auto stored = rd.ReadStoredBytes(n, &meta);
      if (stored.ok()) {
        ASSERT_LE(meta.offset + meta.stored_len, bytes.size());
        ASSERT_EQ(0, std::memcmp(stored->data(), bytes.data() + meta.offset, stored->size()));
      }
      (void)rd.BlockMeta(n);
      (void)rd.ReadVerifiedBlock(n);
      (void)rd.ReadBackfillBlock(n);
    }
    (void)rd.FindBlockForSeq(rng());
    (void)rd.BlocksForSeqRange(rng() % 1000, rng() % 2000);
  }
  EXPECT_GT(opened, 100);
}

}  // namespace
}  // namespace lplex::journal
