// The reader against hand-built files: every version × compression ×
// index combination, crash-truncated files, and lplex's v1 layout.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "journal/reader.h"
#include "journal_test_util.h"

namespace lplex::journal {
namespace {

using namespace testutil;  // NOLINT: test vectors

constexpr uint32_t kBlockSize = 4096;
constexpr uint32_t kFramesPerBlock = 150;
constexpr int kBlocks = 3;
constexpr int64_t kT0 = 1'750'000'000'000'000;  // µs
constexpr uint64_t kSeq0 = 5000;

enum class Mode { kNone, kZstd, kZstdDict, kZstdDictLen0 };

Compression CompressionOf(Mode m) {
  switch (m) {
    case Mode::kNone: return Compression::kNone;
    case Mode::kZstd: return Compression::kZstd;
    default: return Compression::kZstdDict;
  }
}

std::string ModeName(Mode m) {
  switch (m) {
    case Mode::kNone: return "None";
    case Mode::kZstd: return "Zstd";
    case Mode::kZstdDict: return "ZstdDict";
    case Mode::kZstdDictLen0: return "ZstdDictLen0";
  }
  return "?";
}

// Frame i of the whole file: mostly standard 8-byte frames, with every form
// of extended frame mixed in (0, 3, 8 forced extended, 21 bytes).
VectorFrame MixedFrame(uint32_t i, bool first_in_block) {
  VectorFrame f;
  f.delta_us = first_in_block ? 0 : 1000 + (i % 3);
  f.can_id = VectorCanId(static_cast<uint8_t>(i % 8), i % 5 == 0 ? 59904 : 129025, static_cast<uint8_t>(i % 250),
                         static_cast<uint8_t>(i % 7));
  switch (i % 10) {
    case 3: f.data = VectorPayload(i, 0); break;
    case 5: f.data = VectorPayload(i, 3); break;
    case 7: f.data = VectorPayload(i, 8); f.force_extended = true; break;
    case 9: f.data = VectorPayload(i, 21); break;
    default: f.data = VectorPayload(i, 8); break;
  }
  return f;
}

struct Expected {
  int64_t time_us;
  uint64_t seq;
  uint32_t can_id;
  Bytes data;
};

// Builds kBlocks blocks of kFramesPerBlock mixed frames and records what
// the reader must return.
VectorJournal BuildMatrixJournal(uint8_t version, Mode mode, std::vector<Expected>* expected) {
  VectorJournal j(version, kBlockSize, CompressionOf(mode));
  j.set_use_dictionary(mode != Mode::kZstdDictLen0);
  uint32_t i = 0;
  int64_t t = kT0;
  for (int b = 0; b < kBlocks; ++b) {
    VectorBlock blk;
    blk.base_time_us = t;
    blk.base_seq = kSeq0 + i;
    blk.devices.push_back(VectorDevice(10, 0xA000 + static_cast<uint64_t>(b), 0, 42, "GPS"));
    for (uint32_t k = 0; k < kFramesPerBlock; ++k, ++i) {
      VectorFrame f = MixedFrame(i, k == 0);
      if (k > 0) t += static_cast<int64_t>(f.delta_us);
      expected->push_back({t, version == 1 ? 0 : kSeq0 + i, f.can_id, f.data});
      blk.frames.push_back(std::move(f));
    }
    j.AddBlock(blk);
    if (mode == Mode::kZstdDict) {
      EXPECT_GT(j.last_dict_len(), 0u) << "the vector should carry a dictionary";
    }
    t += 5000;
  }
  return j;
}

class ReaderMatrix : public ::testing::TestWithParam<std::tuple<int, Mode, bool>> {};

TEST_P(ReaderMatrix, ReadsEveryFrameExactly) {
  const auto [version, mode, with_index] = GetParam();
  std::vector<Expected> expected;
  VectorJournal j = BuildMatrixJournal(static_cast<uint8_t>(version), mode, &expected);
  if (with_index) j.AppendIndex();

  auto r = JournalReader::Open(j.File(), "matrix.lpj");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  JournalReader& rd = **r;
  EXPECT_EQ(rd.version(), version);
  EXPECT_EQ(rd.compression(), CompressionOf(mode));
  EXPECT_EQ(rd.block_size(), kBlockSize);
  EXPECT_EQ(rd.block_count(), static_cast<uint64_t>(kBlocks));
  EXPECT_EQ(rd.has_block_index(), with_index && mode != Mode::kNone);
  EXPECT_EQ(rd.current_block(), -1);

  size_t n = 0;
  while (rd.Next()) {
    ASSERT_LT(n, expected.size());
    const can::Frame& f = rd.frame();
    const Expected& e = expected[n];
    EXPECT_EQ(f.timestamp_us, e.time_us) << "frame " << n;
    EXPECT_EQ(f.seq, e.seq) << "frame " << n;
    EXPECT_EQ(rd.can_id(), e.can_id) << "frame " << n;
    EXPECT_EQ(f.header, can::ParseCanId(e.can_id)) << "frame " << n;
    EXPECT_EQ(Bytes(f.data.begin(), f.data.end()), e.data) << "frame " << n;
    EXPECT_EQ(rd.frame_index(), n % kFramesPerBlock);
    EXPECT_EQ(rd.current_block(), static_cast<int64_t>(n / kFramesPerBlock));
    ++n;
  }
  EXPECT_TRUE(rd.status().ok()) << rd.status().ToString();
  EXPECT_EQ(n, expected.size());
  EXPECT_EQ(rd.truncated_blocks(), 0u);
  EXPECT_FALSE(rd.Next()) << "the end stays the end";
}

TEST_P(ReaderMatrix, InspectDescribesEachBlock) {
  const auto [version, mode, with_index] = GetParam();
  std::vector<Expected> expected;
  VectorJournal j = BuildMatrixJournal(static_cast<uint8_t>(version), mode, &expected);
  if (with_index) j.AppendIndex();
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (uint64_t b = 0; b < kBlocks; ++b) {
    auto info = (*r)->InspectBlock(b);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->index, b);
    EXPECT_EQ(info->offset, j.offsets()[b]);
    EXPECT_EQ(info->base_time_us, expected[b * kFramesPerBlock].time_us);
    EXPECT_EQ(info->base_seq, version == 1 ? 0 : kSeq0 + b * kFramesPerBlock);
    EXPECT_EQ(info->frame_count, kFramesPerBlock);
    EXPECT_EQ(info->device_count, 1);
    const uint64_t next = b + 1 < kBlocks ? j.offsets()[b + 1] : j.bytes().size() - (with_index ? 8 * kBlocks + 8 : 0);
    EXPECT_EQ(info->stored_len, next - info->offset);
    if (mode == Mode::kNone) {
      EXPECT_EQ(info->compressed_len, 0u);
      EXPECT_EQ(info->stored_len, kBlockSize);
    } else {
      EXPECT_GT(info->compressed_len, 0u);
    }
    if (mode == Mode::kZstdDict) {
      EXPECT_GT(info->dict_len, 0u);
    } else {
      EXPECT_EQ(info->dict_len, 0u);
    }
    EXPECT_EQ((*r)->current_block(), static_cast<int64_t>(b));
    auto devices = (*r)->BlockDevices();
    ASSERT_TRUE(devices.ok()) << devices.status().ToString();
    ASSERT_EQ(devices->size(), 1u);
    EXPECT_EQ((*devices)[0].name, 0xA000 + b);
    EXPECT_EQ((*devices)[0].model_id, "GPS");
  }
}

TEST_P(ReaderMatrix, SeeksByTimeAndSeq) {
  const auto [version, mode, with_index] = GetParam();
  std::vector<Expected> expected;
  VectorJournal j = BuildMatrixJournal(static_cast<uint8_t>(version), mode, &expected);
  if (with_index) j.AppendIndex();
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  JournalReader& rd = **r;

  // A target inside block 1 lands at the start of block 1.
  const Expected& target = expected[kFramesPerBlock + 40];
  ASSERT_TRUE(rd.SeekToTime(target.time_us).ok());
  ASSERT_TRUE(rd.Next());
  EXPECT_EQ(rd.frame().timestamp_us, expected[kFramesPerBlock].time_us);
  EXPECT_LE(rd.frame().timestamp_us, target.time_us);

  if (version == 1) {
    Status s = rd.SeekToSeq(kSeq0);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("seq seeking requires journal v2"), std::string::npos) << s.ToString();
    return;
  }
  ASSERT_TRUE(rd.SeekToSeq(target.seq).ok());
  ASSERT_TRUE(rd.Next());
  EXPECT_EQ(rd.frame().seq, kSeq0 + kFramesPerBlock);
  while (rd.frame().seq < target.seq && rd.Next()) {
  }
  EXPECT_EQ(rd.frame().seq, target.seq);
  EXPECT_EQ(rd.frame().timestamp_us, target.time_us);
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, ReaderMatrix,
    ::testing::Combine(::testing::Values(1, 2),
                       ::testing::Values(Mode::kNone, Mode::kZstd, Mode::kZstdDict, Mode::kZstdDictLen0),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<ReaderMatrix::ParamType>& p) {
      return fmt::format("V{}{}{}", std::get<0>(p.param), ModeName(std::get<1>(p.param)),
                         std::get<2>(p.param) ? "Indexed" : "Scanned");
    });

// Crash damage: no footer (it is written at close), last block cut short.
class ReaderCrash : public ::testing::TestWithParam<std::tuple<int, Mode>> {};

// A file cut in the middle of its last block keeps every whole block
// before the cut (tests 9, 18, 26).
TEST_P(ReaderCrash, TruncatedMidBlockKeepsWholeBlocks) {
  const auto [version, mode] = GetParam();
  std::vector<Expected> expected;
  VectorJournal j = BuildMatrixJournal(static_cast<uint8_t>(version), mode, &expected);
  Bytes cut = j.bytes();
  const uint64_t last = j.offsets()[kBlocks - 1];
  cut.resize(last + (cut.size() - last) / 2);
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(cut));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->block_count(), static_cast<uint64_t>(kBlocks - 1));
  EXPECT_FALSE((*r)->has_block_index());
  size_t n = 0;
  while ((*r)->Next()) {
    ASSERT_LT(n, expected.size());
    EXPECT_EQ((*r)->frame().timestamp_us, expected[n].time_us);
    ++n;
  }
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  EXPECT_EQ(n, static_cast<size_t>(kBlocks - 1) * kFramesPerBlock);
}

// The same cut a few bytes into the last block's outer header.
TEST_P(ReaderCrash, TruncatedInsideOuterHeader) {
  const auto [version, mode] = GetParam();
  std::vector<Expected> expected;
  VectorJournal j = BuildMatrixJournal(static_cast<uint8_t>(version), mode, &expected);
  Bytes cut = j.bytes();
  cut.resize(j.offsets()[kBlocks - 1] + 5);
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(cut));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->block_count(), static_cast<uint64_t>(kBlocks - 1));
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, ReaderCrash,
    ::testing::Combine(::testing::Values(1, 2),
                       ::testing::Values(Mode::kNone, Mode::kZstd, Mode::kZstdDict, Mode::kZstdDictLen0)),
    [](const ::testing::TestParamInfo<ReaderCrash::ParamType>& p) {
      return fmt::format("V{}{}", std::get<0>(p.param), ModeName(std::get<1>(p.param)));
    });

// Spec §8 test 33: a hand-built v1 file (data at offset 8, one frame, DTS 2).
TEST(ReaderVectors, V1BackwardCompat) {
  Bytes file = VectorFileHeader(1, kBlockSize, 0);
  Bytes block(kBlockSize, 0);
  PutLEAt(block.data(), 1'700'000'000'000'000, 8);
  const Bytes frame = {0x00,                    // delta 0
                       0x0A, 0x01, 0xF8, 0x89,  // 0x09F8010A | flag: prio 2, PGN 129025, src 10
                       1, 2, 3, 4, 5, 6, 7, 8};
  std::memcpy(block.data() + 8, frame.data(), frame.size());
  PutLEAt(block.data() + kBlockSize - 12, 0, 2);  // device table: zero entries
  PutLEAt(block.data() + kBlockSize - 10, 2, 2);  // DTS
  PutLEAt(block.data() + kBlockSize - 8, 1, 4);   // FrameCount
  SealVectorBlock(block);
  file.insert(file.end(), block.begin(), block.end());

  auto r = JournalReader::Open(std::make_unique<MemoryFile>(file), "v1.lpj");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  JournalReader& rd = **r;
  EXPECT_EQ(rd.version(), 1);
  EXPECT_EQ(rd.block_count(), 1u);
  ASSERT_TRUE(rd.Next()) << rd.status().ToString();
  EXPECT_EQ(rd.frame().timestamp_us, 1'700'000'000'000'000);
  EXPECT_EQ(rd.frame().header.pgn, 129025u);
  EXPECT_EQ(rd.frame().header.source, 10);
  EXPECT_EQ(rd.frame().header.priority, 2);
  EXPECT_EQ(rd.frame().seq, 0u);
  EXPECT_EQ(Bytes(rd.frame().data.begin(), rd.frame().data.end()), (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
  Status s = rd.SeekToSeq(0);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("seq seeking requires journal v2"), std::string::npos) << s.ToString();
  ASSERT_TRUE(rd.SeekBlock(0).ok());
  ASSERT_TRUE(rd.Next());
  EXPECT_FALSE(rd.Next()) << "only one frame";
  EXPECT_TRUE(rd.status().ok());
}

// An uncompressed file's block count ignores a trailing partial block.
TEST(ReaderVectors, UncompressedPartialTailIgnored) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  for (int b = 0; b < 2; ++b) {
    VectorBlock blk;
    blk.base_time_us = 1000 * b;
    blk.frames = VectorFrames(0, 10, 1);
    j.AddBlock(blk);
  }
  j.Append(Bytes(kBlockSize - 1, 0xAB));
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->block_count(), 2u);
  int n = 0;
  while ((*r)->Next()) ++n;
  EXPECT_TRUE((*r)->status().ok());
  EXPECT_EQ(n, 20);
}

// Spec §8 test 5: one changed byte inside block 0 (file offset 36).
TEST(ReaderVectors, ChecksumMismatchStopsIteration) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 4, 1000);
  j.AddBlock(blk);
  j.mutable_bytes()[36] ^= 0x01;
  auto r = JournalReader::Open(j.File(), "bad.lpj");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->Next());
  const Status& s = (*r)->status();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("bad.lpj: block 0 checksum mismatch: stored="), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("at file offset 16"), std::string::npos) << s.ToString();
}

// The dictionary must be the one in the block: a dictionary-compressed
// payload stored with DictLen 0 cannot be decoded.
TEST(ReaderVectors, DictionaryPayloadWithoutDictionaryFails) {
  VectorBlock blk;
  blk.frames = VectorFrames(0, 200, 1000);
  const Bytes raw = BuildVectorBlock(2, kBlockSize, blk);
  const Bytes dict = MakeVectorDictionary(raw, 16 + 200 * 13, 7);
  ASSERT_FALSE(dict.empty());
  const Bytes payload = ZstdCompressWithDictBytes(raw, dict);
  VectorJournal j(2, kBlockSize, Compression::kZstdDict);
  j.AppendCompressed(0, 0, {}, payload);
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->Next());
  EXPECT_NE((*r)->status().message().find("block 0 zstd decode failed"), std::string::npos)
      << (*r)->status().ToString();

  // And with the dictionary in place it reads.
  VectorJournal good(2, kBlockSize, Compression::kZstdDict);
  good.AppendCompressed(0, 0, dict, payload);
  auto r2 = JournalReader::Open(good.File());
  ASSERT_TRUE(r2.ok());
  int n = 0;
  while ((*r2)->Next()) ++n;
  EXPECT_TRUE((*r2)->status().ok()) << (*r2)->status().ToString();
  EXPECT_EQ(n, 200);
}

// Seeking over a longer file, both compressed (in-memory base values) and
// uncompressed (base values read from disk).
class ReaderSeek : public ::testing::TestWithParam<Compression> {};

TEST_P(ReaderSeek, FindsTheBlockForEveryTarget) {
  constexpr int kN = 9;
  constexpr uint32_t kPer = 100;
  VectorJournal j(2, kBlockSize, GetParam());
  for (int b = 0; b < kN; ++b) {
    VectorBlock blk;
    blk.base_time_us = kT0 + b * 10'000'000;  // 100 frames at 100 ms
    blk.base_seq = 1000 + static_cast<uint64_t>(b) * kPer;
    blk.frames = VectorFrames(static_cast<uint32_t>(b) * kPer, kPer, 100'000);
    j.AddBlock(blk);
  }
  if (GetParam() != Compression::kNone) j.AppendIndex();
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok());
  JournalReader& rd = **r;
  ASSERT_EQ(rd.block_count(), static_cast<uint64_t>(kN));

  for (int b = 0; b < kN; ++b) {
    auto t = rd.BlockBaseTime(static_cast<uint64_t>(b));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, kT0 + b * 10'000'000);
    auto s = rd.BlockBaseSeq(static_cast<uint64_t>(b));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, 1000 + static_cast<uint64_t>(b) * kPer);
  }
  EXPECT_FALSE(rd.BlockBaseTime(kN).ok());

  struct Case {
    int64_t t;
    int64_t block;
  };
  for (const Case& c : {Case{kT0 - 1, 0}, Case{kT0, 0}, Case{kT0 + 9'999'999, 0}, Case{kT0 + 10'000'000, 1},
                        Case{kT0 + 35'000'000, 3}, Case{kT0 + 80'000'000, 8}, Case{kT0 + 999'000'000, 8}}) {
    ASSERT_TRUE(rd.SeekToTime(c.t).ok());
    EXPECT_EQ(rd.current_block(), c.block) << "t=" << c.t;
    ASSERT_TRUE(rd.Next());
    EXPECT_EQ(rd.frame_index(), 0u);
  }
  // Test 7's property: seek then walk forward to the exact frame.
  ASSERT_TRUE(rd.SeekToTime(kT0 + 35'000'000).ok());
  ASSERT_TRUE(rd.Next());
  EXPECT_LE(rd.frame().timestamp_us, kT0 + 35'000'000);
  while (rd.frame().timestamp_us < kT0 + 35'000'000 && rd.Next()) {
  }
  EXPECT_EQ(rd.frame().timestamp_us, kT0 + 35'000'000);

  // Test 32: seq 1350 lives in block 3; iteration then goes on across blocks.
  for (auto [seq, block] : {std::pair<uint64_t, int64_t>{0, 0}, {1000, 0}, {1099, 0}, {1100, 1}, {1350, 3},
                            {1899, 8}, {99999, 8}}) {
    ASSERT_TRUE(rd.SeekToSeq(seq).ok());
    EXPECT_EQ(rd.current_block(), block) << "seq=" << seq;
  }
  ASSERT_TRUE(rd.SeekToSeq(1350).ok());
  uint64_t want = 1300;
  while (rd.Next()) {
    ASSERT_EQ(rd.frame().seq, want);
    ++want;
  }
  EXPECT_EQ(want, 1000u + kN * kPer);
  EXPECT_TRUE(rd.status().ok());
}

INSTANTIATE_TEST_SUITE_P(Compressions, ReaderSeek,
                         ::testing::Values(Compression::kNone, Compression::kZstd, Compression::kZstdDict),
                         [](const ::testing::TestParamInfo<Compression>& p) {
                           switch (p.param) {
                             case Compression::kNone: return std::string("None");
                             case Compression::kZstd: return std::string("Zstd");
                             default: return std::string("ZstdDict");
                           }
                         });

}  // namespace
}  // namespace lplex::journal
