// BlockWriter (the cloud's backfill sink): the reference's tests 34–38 and 77,
// plus the checks it skipped.
#include "journal/block_writer.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "can/can_id.h"
#include "core/endian.h"
#include "core/file_system.h"
#include "core/time.h"
#include "journal/reader.h"
#include "journal/writer.h"
#include "support/temp_dir.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using testutil::WFrame;

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
      EXPECT_TRUE((*w)->Append(WFrame(t + i * 1000, can::BuildCanId({2, 129025, 1, 255}), seq + i, data)).ok());
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

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Zstd+dict blocks as JournalWriter (like the Go writer) stores them: one
// block per file, taken apart at its 24-byte outer header. Frames repeat
// enough for a dictionary to train, so every block has DictLen > 0.
struct DictBlock {
  uint64_t seq;
  int64_t time;
  std::vector<uint8_t> dict;
  std::vector<uint8_t> payload;
  std::vector<uint8_t> raw;  // the uncompressed block
};

constexpr int kDictFrames = 150;
constexpr int64_t kDictBase = kBase + 100'000'000;

uint64_t DictBlockSeq(int b) { return 1000 + static_cast<uint64_t>(b) * kDictFrames; }
int64_t DictFrameTime(int b, int i) { return kDictBase + b * 1'000'000 + i * 1000; }
uint32_t DictFrameId(int i) {
  static const uint32_t kPgns[] = {129025, 129026, 127250, 130306};
  return can::BuildCanId({2, kPgns[i % 4], static_cast<uint8_t>(10 + i % 3), 255});
}
std::vector<uint8_t> DictFrameData(int b, int i) {
  return {static_cast<uint8_t>(i), static_cast<uint8_t>(b), 0x11, static_cast<uint8_t>(i % 4), 0x22,
          static_cast<uint8_t>(i * 3), 0xFC, 0xFF};
}

std::vector<DictBlock> MakeDictBlocks(int count) {
  std::vector<DictBlock> out;
  for (int b = 0; b < count; ++b) {
    TempDir d;
    WriterOptions o;
    o.dir = d.path();
    o.block_size = 4096;
    o.compression = Compression::kZstdDict;
    auto w = JournalWriter::Create(o);
    for (int i = 0; i < kDictFrames; ++i) {
      std::vector<uint8_t> data = DictFrameData(b, i);
      EXPECT_TRUE((*w)->Append(WFrame(DictFrameTime(b, i), DictFrameId(i), DictBlockSeq(b) + i, data)).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    EXPECT_EQ((*w)->stats().blocks_written, 1u);
    const std::vector<uint8_t> file = ReadAll(fs::directory_iterator(d.path())->path().string());
    const uint8_t* h = file.data() + kFileHeaderSize;
    DictBlock block;
    block.time = static_cast<int64_t>(le::Load64(h));
    block.seq = le::Load64(h + 8);
    const uint32_t dict_len = le::Load32(h + 16);
    const uint32_t comp_len = le::Load32(h + 20);
    EXPECT_GT(dict_len, 0u) << "the dictionary did not train; the dict tests would test nothing";
    const uint8_t* body = h + kDictHeaderLenV2;
    block.dict.assign(body, body + dict_len);
    block.payload.assign(body + dict_len, body + dict_len + comp_len);
    block.raw.resize(4096);
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    EXPECT_EQ(ZSTD_decompress_usingDict(dctx, block.raw.data(), block.raw.size(), block.payload.data(),
                                        block.payload.size(), block.dict.data(), block.dict.size()),
              4096u);
    ZSTD_freeDCtx(dctx);
    out.push_back(std::move(block));
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
  // Options that log every callback into events_ and keep open_ the way
  // keeper::OpenFiles does (the journal tests cannot link the keeper).
  BlockWriterOptions Tracked() {
    BlockWriterOptions o = Options();
    o.on_open_change = [this](const std::string& path, bool open) {
      events_.push_back((open ? "open " : "closed ") + path);
      if (open) {
        if (!expect_taken_name_) {
          EXPECT_FALSE(fs::exists(path)) << path << " reported open only after it was created";
        }
        open_.insert(path);
      } else {
        open_.erase(path);
      }
    };
    o.on_rotate = [this](const RotatedFile& f) {
      events_.push_back("rotated " + f.path);
      rotated_.push_back(f.path);
      EXPECT_EQ(open_.count(f.path), 0u) << f.path << " handed on while still marked open";
    };
    return o;
  }
  TempDir dir_;
  std::vector<std::string> rotated_;
  std::vector<std::string> events_;
  std::set<std::string> open_;
  bool expect_taken_name_ = false;  // a test put a file where the writer will look first
};

// 34
TEST_F(BlockWriterTest, UncompressedBlockRoundTrip) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
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
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kNone, b.raw).ok());
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
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kNone, b.raw).ok());
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
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw);
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
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kZstd, b.compressed).ok());
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
  EXPECT_FALSE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstd, garbage).ok());
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlockWriterTest, BaseSeqMustMatchBlockContent) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq + 1, blocks[0].time, Compression::kNone, blocks[0].raw);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("base seq"), std::string::npos);
}

// A file holds one kind of block: switching compression starts a new file.
TEST_F(BlockWriterTest, CompressionSwitchStartsNewFile) {
  auto blocks = MakeBlocks(2);
  auto w = BlockWriter::Create(Options());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
  ASSERT_TRUE((*w)->AppendBlock(blocks[1].seq, blocks[1].time, Compression::kZstd, blocks[1].compressed).ok());
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 2u);
  EXPECT_EQ((*JournalReader::OpenPath(Files()[0]))->compression(), Compression::kNone);
  EXPECT_EQ((*JournalReader::OpenPath(Files()[1]))->compression(), Compression::kZstd);
  EXPECT_TRUE((*w)->Close().ok());  // twice is harmless
  EXPECT_EQ(rotated_.size(), 2u);
}

// ADR 004 for backfill files: the keeper's open-file set hears of a file
// before it exists and while it is being written.
TEST_F(BlockWriterTest, BlockWriterReportsOpenFileBeforeCreate) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Tracked());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
  const std::string path = (*w)->current_path();
  ASSERT_FALSE(path.empty());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(events_, std::vector<std::string>{"open " + path});
  EXPECT_EQ(open_, std::set<std::string>{path});
}

TEST_F(BlockWriterTest, BlockWriterReportsClosedBeforeOnRotate) {
  auto blocks = MakeBlocks(1);
  auto o = Tracked();
  auto inner = o.on_open_change;
  // When the file is reported closed it is already finished: index written, closed.
  o.on_open_change = [&](const std::string& path, bool open) {
    inner(path, open);
    if (!open) {
      auto r = JournalReader::OpenPath(path);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE((*r)->has_block_index());
    }
  };
  auto w = BlockWriter::Create(o);
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstd, blocks[0].compressed).ok());
  const std::string path = (*w)->current_path();
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(events_, (std::vector<std::string>{"open " + path, "closed " + path, "rotated " + path}));
  EXPECT_TRUE(open_.empty());
  EXPECT_EQ((*w)->files_finished(), 1u);
}

// What the keeper would see over a backfill session with rotations and a
// kind change: every file marked open before it exists, none handed on while
// marked, nothing left open at the end.
TEST_F(BlockWriterTest, BlockWriterNeverHandsOnAFileStillMarkedOpen) {
  auto blocks = MakeBlocks(3);
  auto dict_blocks = MakeDictBlocks(2);
  auto o = Tracked();
  o.rotate_size = 16 + 2 * 4096;
  auto w = BlockWriter::Create(o);
  for (const auto& b : blocks) ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kNone, b.raw).ok());
  for (const auto& b : dict_blocks) {
    ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kZstdDict, b.payload, b.dict).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE(open_.empty());
  ASSERT_EQ(rotated_.size(), 3u);  // 2 raw blocks, 1 raw block (kind change), 2 dict blocks
  std::vector<std::string> sorted = rotated_;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Files());
  size_t opens = 0;
  for (const auto& e : events_) opens += e.rfind("open ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(opens, 3u);
}

TEST_F(BlockWriterTest, BlockWriterReportsClosedWhenWriteFails) {
  auto blocks = MakeBlocks(2);
  FaultInjectingFileSystem faulty(FileSystem::Default());
  auto o = Tracked();
  o.fs = &faulty;
  auto w = BlockWriter::Create(o);
  faulty.FailWritesAfter(kFileHeaderSize + 100, ENOSPC);
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ASSERT_EQ(rotated_.size(), 1u);
  const std::string& path = rotated_[0];
  EXPECT_EQ(events_, (std::vector<std::string>{"open " + path, "closed " + path, "rotated " + path}));
  EXPECT_TRUE(open_.empty());
  EXPECT_EQ((*w)->current_path(), "");
  faulty.Heal();
  ASSERT_TRUE((*w)->AppendBlock(blocks[1].seq, blocks[1].time, Compression::kNone, blocks[1].raw).ok());
  EXPECT_EQ(open_, std::set<std::string>{(*w)->current_path()});
}

// A name already taken is reported open (before the exclusive create fails)
// and closed again; the file that is created is the next name.
TEST_F(BlockWriterTest, BlockWriterReportsTakenNameClosedAgain) {
  auto blocks = MakeBlocks(1);
  expect_taken_name_ = true;
  auto w = BlockWriter::Create(Tracked());
  const std::string taken = dir_.Sub("backfill") + "/backfill-" + timefmt::FileStamp(blocks[0].time) + ".lpj";
  std::ofstream(taken) << "someone else's";
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
  const std::string path = (*w)->current_path();
  EXPECT_NE(path, taken);
  EXPECT_EQ(events_, (std::vector<std::string>{"open " + taken, "closed " + taken, "open " + path}));
  EXPECT_EQ(open_, std::set<std::string>{path});
}

TEST_F(BlockWriterTest, BlockWriterRejectedBlockReportsNothing) {
  auto blocks = MakeBlocks(1);
  blocks[0].raw[100] ^= 1;
  auto w = BlockWriter::Create(Tracked());
  EXPECT_FALSE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
  EXPECT_TRUE(events_.empty());
}

// spec/cloud.md P6: zstd+dict blocks from Go boats, with their own dictionary.
TEST_F(BlockWriterTest, BlockWriterAcceptsZstdDictBlock) {
  auto blocks = MakeDictBlocks(1);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, blocks[0].payload,
                               blocks[0].dict);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  // Laid out as spec/journal.md §1.8: type-2 file header, then the 24-byte
  // outer header, the dictionary and the payload.
  const std::vector<uint8_t> file = ReadAll(Files()[0]);
  EXPECT_EQ(file[8], static_cast<uint8_t>(Compression::kZstdDict));
  const uint8_t* h = file.data() + kFileHeaderSize;
  EXPECT_EQ(static_cast<int64_t>(le::Load64(h)), blocks[0].time);
  EXPECT_EQ(le::Load64(h + 8), blocks[0].seq);
  EXPECT_EQ(le::Load32(h + 16), blocks[0].dict.size());
  EXPECT_EQ(le::Load32(h + 20), blocks[0].payload.size());
  EXPECT_TRUE(std::equal(blocks[0].dict.begin(), blocks[0].dict.end(), h + kDictHeaderLenV2));
}

TEST_F(BlockWriterTest, BlockWriterDictBlockReadsBackWithReader) {
  auto blocks = MakeDictBlocks(2);
  auto w = BlockWriter::Create(Options());
  for (const auto& b : blocks) {
    ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kZstdDict, b.payload, b.dict).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  auto r = JournalReader::OpenPath(Files()[0]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->compression(), Compression::kZstdDict);
  EXPECT_TRUE((*r)->has_block_index());
  EXPECT_EQ((*r)->block_count(), 2u);
  int n = 0;
  while ((*r)->Next()) {
    const int b = n / kDictFrames;
    const int i = n % kDictFrames;
    EXPECT_EQ((*r)->frame().seq, DictBlockSeq(b) + i);
    EXPECT_EQ((*r)->frame().timestamp_us, DictFrameTime(b, i));
    EXPECT_EQ((*r)->can_id(), DictFrameId(i));
    const std::vector<uint8_t> data((*r)->frame().data.begin(), (*r)->frame().data.end());
    EXPECT_EQ(data, DictFrameData(b, i));
    ++n;
  }
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  EXPECT_EQ(n, 2 * kDictFrames);
}

TEST_F(BlockWriterTest, BlockWriterRejectsDictBlockWithWrongDictionary) {
  auto blocks = MakeDictBlocks(2);
  ASSERT_NE(blocks[0].dict, blocks[1].dict);
  auto w = BlockWriter::Create(Tracked());
  // Another block's dictionary (same ID 1, other content).
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, blocks[0].payload,
                               blocks[1].dict);
  EXPECT_FALSE(s.ok());
  // A dictionary with another ID than the frame names.
  std::vector<uint8_t> other_id = blocks[0].dict;
  le::Store32(other_id.data() + 4, 7);
  s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, blocks[0].payload, other_id);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("block 0"), std::string::npos) << s.ToString();
  // No dictionary at all for a frame that needs one.
  s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, blocks[0].payload, {});
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(Files().empty());
}

// Raw-content dictionaries decode here but not in a Go reader, which looks
// the dictionary up by the ID in the frame header.
TEST_F(BlockWriterTest, BlockWriterRejectsRawContentDictionary) {
  auto blocks = MakeDictBlocks(1);
  std::vector<uint8_t> raw_dict(blocks[0].raw.begin() + 16, blocks[0].raw.begin() + 1040);
  std::vector<uint8_t> payload(ZSTD_compressBound(4096));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  payload.resize(ZSTD_compress_usingDict(cctx, payload.data(), payload.size(), blocks[0].raw.data(),
                                         blocks[0].raw.size(), raw_dict.data(), raw_dict.size(), 3));
  ZSTD_freeCCtx(cctx);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, payload, raw_dict);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a formatted zstd dictionary"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlockWriterTest, BlockWriterRejectsDictBlockWhoseFrameDoesNotNameItsDictionary) {
  auto blocks = MakeDictBlocks(1);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_loadDictionary(cctx, blocks[0].dict.data(), blocks[0].dict.size());
  std::vector<uint8_t> payload(ZSTD_compressBound(4096));
  payload.resize(ZSTD_compress2(cctx, payload.data(), payload.size(), blocks[0].raw.data(), blocks[0].raw.size()));
  ZSTD_freeCCtx(cctx);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, payload, blocks[0].dict);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("names dictionary ID 0 but the block's dictionary has ID 1"), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(Files().empty());
}

// DictLen 0 (the writer could not train a dictionary): plain zstd in a type-2 file.
TEST_F(BlockWriterTest, BlockWriterAcceptsDictBlockWithEmptyDictionary) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstdDict, blocks[0].compressed).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = JournalReader::OpenPath(Files()[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->compression(), Compression::kZstdDict);
  int n = 0;
  while ((*r)->Next()) ++n;
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  EXPECT_EQ(n, 10);
}

TEST_F(BlockWriterTest, BlockWriterRefusesDictionaryWithPlainZstdBlock) {
  auto blocks = MakeDictBlocks(1);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kZstd, blocks[0].payload, blocks[0].dict);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("send it as zstd-dict"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlockWriterTest, BlockWriterStartsNewFileWhenCompressionKindChanges) {
  auto blocks = MakeBlocks(2);  // [0] sent raw, [1] sent as zstd
  auto dict_blocks = MakeDictBlocks(2);
  auto w = BlockWriter::Create(Tracked());
  ASSERT_TRUE((*w)->AppendBlock(blocks[0].seq, blocks[0].time, Compression::kNone, blocks[0].raw).ok());
  for (const auto& b : dict_blocks) {
    ASSERT_TRUE((*w)->AppendBlock(b.seq, b.time, Compression::kZstdDict, b.payload, b.dict).ok());
  }
  ASSERT_TRUE((*w)->AppendBlock(blocks[1].seq, blocks[1].time, Compression::kZstd, blocks[1].compressed).ok());
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_EQ(rotated_.size(), 3u);
  const Compression want[] = {Compression::kNone, Compression::kZstdDict, Compression::kZstd};
  const size_t want_blocks[] = {1, 2, 1};
  for (size_t i = 0; i < 3; ++i) {
    auto r = JournalReader::OpenPath(rotated_[i]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)->compression(), want[i]) << rotated_[i];
    EXPECT_EQ((*r)->block_count(), want_blocks[i]) << rotated_[i];
  }
  EXPECT_TRUE(open_.empty());
}

TEST_F(BlockWriterTest, BlockWriterRefusesUnknownCompressionKind) {
  auto blocks = MakeBlocks(1);
  auto w = BlockWriter::Create(Options());
  Status s = (*w)->AppendBlock(blocks[0].seq, blocks[0].time, static_cast<Compression>(3), blocks[0].compressed);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown block compression 3"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlockWriterTest, BlockWriterRefusesNegativeRotateDuration) {
  auto o = Options();
  o.rotate_duration_us = -1;
  auto w = BlockWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("-1"), std::string::npos) << w.status().ToString();
}

}  // namespace
}  // namespace lplex::journal
