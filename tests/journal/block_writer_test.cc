// BlockWriter (the cloud's backfill sink): the reference's tests 34–38 and 77,
// plus the checks it skipped.
#include "journal/block_writer.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>

#include "can/can_id.h"
#include "journal/reader.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;

constexpr int64_t kBase = 1'750'000'000'000'000;

// Builds real blocks by running the JournalWriter over `n` frames per block
// with one block per file, then reading the stored bytes back.
struct Block {
  uint64_t seq;
  int64_t time;
  std::vector<uint8_t> raw;         // uncompressed block
  std::vector<uint8_t> compressed;  // one zstd frame of raw
};

std::vector<Block> MakeBlocks(int count, uint32_t block_size = 4096) {
  std::vector<Block> out;
  for (int b = 0; b < count; ++b) {
    TempDir d;
    WriterOptions o;
    o.dir = d.path();
    o.block_size = block_size;
    o.compression = Compression::kNone;
    auto w = JournalWriter::Create(o);
    const uint64_t seq = 42 + static_cast<uint64_t>(b) * 10;
    const int64_t t = kBase + b * 10'000;
    for (int i = 0; i < 10; ++i) {
      std::vector<uint8_t> data(8, static_cast<uint8_t>(i));
      EXPECT_TRUE((*w)->Append({t + i * 1000, can::BuildCanId({2, 129025, 1, 255}), seq + i, data}).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    std::string path = fs::directory_iterator(d.path())->path().string();
    auto file = FileSystem::Default()->NewRandomAccessFile(path);
    std::vector<uint8_t> raw(block_size);
    EXPECT_EQ(*(*file)->Read(16, block_size, raw.data()), block_size);
    std::vector<uint8_t> z(ZSTD_compressBound(block_size));
    z.resize(ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 3));
    out.push_back({seq, t, raw, z});
  }
  return out;
}

class BlockWriterTest : public ::testing::Test {
 protected:
  BlockWriterOptions Options() {
    BlockWriterOptions o;
    o.dir = dir_.Sub("backfill");
    o.block_size = 4096;
    o.on_rotate = [this](const RotatedFile& f) { rotated_.push_back(f.path); };
    return o;
  }
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.Sub("backfill"))) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  TempDir dir_;
  std::vector<std::string> rotated_;
};

// 34
TEST_F(BlockWriterTest, UncompressedBlockRoundTrip) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, blocks[0].raw, false).ok());
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  auto r = JournalReader::OpenPath(Files()[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->version(), 2);
  EXPECT_EQ((*r)->block_count(), 1u);
  ASSERT_TRUE((*r)->Next());
  EXPECT_EQ((*r)->frame().seq, 42u);
}

// 35
TEST_F(BlockWriterTest, MultipleBlocksOneFile) {
  auto blocks = MakeBlocks(5);
  auto w = BlockWriter::Create(Options());
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, b.raw, false).ok());
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  EXPECT_EQ((*JournalReader::OpenPath(Files()[0]))->block_count(), 5u);
}

// 36
TEST_F(BlockWriterTest, RotationBySize) {
  auto blocks = MakeBlocks(3);
  auto o = Options();
  o.rotate_size = 16 + 4096;
  auto w = BlockWriter::Create(o);
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, b.raw, false).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GE(Files().size(), 2u);
  EXPECT_EQ(rotated_.size(), Files().size());
}

// 37
TEST_F(BlockWriterTest, InvalidBlockSizeRejected) {
  auto o = Options();
  o.block_size = 1000;
  auto w = BlockWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("1000"), std::string::npos);
}

// 38, and the fix: a rejected first block leaves no header-only file.
TEST_F(BlockWriterTest, CorruptBlockRejectedAndNoFileCreated) {
  auto blocks = MakeBlocks(1);
  blocks[0].raw[0] ^= 0xFF;
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, blocks[0].raw, false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Files().empty());
}

// 77: compressed appends with a tiny RotateSize rotate, and each file reads.
TEST_F(BlockWriterTest, CompressedBlocksRotateAndRead) {
  auto blocks = MakeBlocks(3);
  auto o = Options();
  o.rotate_size = 100;
  auto w = BlockWriter::Create(o);
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, b.compressed, true).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(rotated_.size(), 3u);
  uint64_t frames = 0;
  for (const auto& p : rotated_) {
    auto r = JournalReader::OpenPath(p);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE((*r)->has_block_index());
    while ((*r)->Next()) ++frames;
    EXPECT_TRUE((*r)->status().ok());
  }
  EXPECT_EQ(frames, 30u);
}

// Fix: the reference wrote compressed blocks unchecked.
TEST_F(BlockWriterTest, CompressedGarbageRejected) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  std::vector<uint8_t> garbage(200, 0x5A);
  EXPECT_FALSE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, garbage, true).ok());
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlockWriterTest, BaseSeqMustMatchBlockContent) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq + 1, blocks[0].time, blocks[0].raw, false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("base seq"), std::string::npos);
}

// A file holds one kind of block: switching compression starts a new file.
TEST_F(BlockWriterTest, CompressionSwitchStartsNewFile) {
  auto blocks = MakeBlocks(2);
  auto w = BlockWriter::Create(Options());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, blocks[0].raw, false).ok());
  ASSERT_TRUE((*w)->AppendBlock(blocks[1].seq, blocks[1].time, blocks[1].compressed, true).ok());
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 2u);
  EXPECT_EQ((*JournalReader::OpenPath(Files()[0]))->compression(), Compression::kNone);
  EXPECT_EQ((*JournalReader::OpenPath(Files()[1]))->compression(), Compression::kZstd);
  EXPECT_TRUE((*w)->Close().ok());  // twice is harmless
  EXPECT_EQ(rotated_.size(), 2u);
}

}  // namespace
}  // namespace lplex::journal
