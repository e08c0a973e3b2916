// JournalWriter behaviour, read back through JournalReader. The numbered
// comments refer to the reference's test list (spec/journal.md §8); the rest
// pin where we deliberately differ from the reference.
#include "journal/writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "can/can_id.h"
#include "core/crc32c.h"
#include "core/endian.h"
#include "core/time.h"
#include "journal/reader.h"
#include "support/temp_dir.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using testutil::WFrame;

namespace fs = std::filesystem;
using lplex::testing::TempDir;

constexpr int64_t kBase = 1'750'000'000'000'000;  // 2025-06-15T15:06:40Z

uint32_t Id(uint32_t pgn, uint8_t src, uint8_t prio = 2, uint8_t dst = 0xFF) {
  return can::BuildCanId({prio, pgn, src, dst});
}

struct TestFrame {
  int64_t ts;
  uint32_t can_id;
  uint64_t seq;
  std::vector<uint8_t> data;
};

std::vector<uint8_t> Bytes8(uint32_t i) {
  return {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i >> 16), 0x11, 0x22, 0x33,
          0x44, 0x55};
}

// n frames at 1 ms spacing, 8-byte data, PGN 129025 from source 10.
std::vector<TestFrame> Frames(int n, int64_t spacing_us = 1000, uint64_t first_seq = 0) {
  std::vector<TestFrame> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({kBase + i * spacing_us, Id(129025, 10), first_seq ? first_seq + i : 0, Bytes8(i)});
  }
  return out;
}

std::vector<uint8_t> ClaimData(uint64_t name) {
  std::vector<uint8_t> d(8);
  le::Store64(d.data(), name);
  return d;
}

// A 134-byte PGN 126996 payload.
std::vector<uint8_t> ProductInfo(uint16_t code, const std::string& model, const std::string& sw,
                                 const std::string& mver, const std::string& serial) {
  std::vector<uint8_t> d(134, 0xFF);
  d[0] = 0x34;
  d[1] = 0x08;
  le::Store16(d.data() + 2, code);
  auto put = [&](size_t at, size_t len, const std::string& s) {
    for (size_t i = 0; i < len; ++i) d[at + i] = i < s.size() ? static_cast<uint8_t>(s[i]) : 0xFF;
  };
  put(4, 32, model);
  put(36, 40, sw);
  put(76, 24, mver);
  put(100, 32, serial);
  return d;
}

// Source 5 claims NAME 0xA at frame 0 and NAME 0xB at frame 2.
std::vector<TestFrame> TwoClaimsForSource5() {
  return {{kBase, Id(60928, 5, 6), 0, ClaimData(0xA)},
          {kBase + 1000, Id(129025, 5), 0, Bytes8(1)},
          {kBase + 2000, Id(60928, 5, 6), 0, ClaimData(0xB)},
          {kBase + 3000, Id(129025, 5), 0, Bytes8(2)}};
}

// The device table of the loaded block; a reader error fails the test.
std::vector<DeviceEntry> Devices(const Result<std::vector<DeviceEntry>>& devices) {
  EXPECT_TRUE(devices.ok()) << devices.status().ToString();
  return devices.ok() ? devices.value() : std::vector<DeviceEntry>{};
}

class WriterTest : public ::testing::Test {
 protected:
  WriterOptions Options(Compression c = Compression::kNone, uint32_t block_size = 4096) {
    WriterOptions o;
    o.dir = dir_.Sub("journal");
    o.block_size = block_size;
    o.compression = c;
    o.clock = &clock_;
    o.on_rotate = [this](const RotatedFile& f) { rotated_.push_back(f.path); };
    return o;
  }

  std::unique_ptr<JournalWriter> Writer(WriterOptions o) {
    auto w = JournalWriter::Create(std::move(o));
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(w).value();
  }

  static void Write(JournalWriter& w, const std::vector<TestFrame>& frames) {
    for (const auto& f : frames) {
      ASSERT_TRUE(w.Append(WFrame(f.ts, f.can_id, f.seq, f.data)).ok());
    }
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    if (!fs::exists(dir_.Sub("journal"))) return out;
    for (const auto& e : fs::directory_iterator(dir_.Sub("journal"))) {
      if (e.path().extension() == ".lpj") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::unique_ptr<JournalReader> Open(const std::string& path) {
    auto r = JournalReader::OpenPath(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  static std::vector<TestFrame> ReadAll(const std::string& path) {
    auto r = Open(path);
    std::vector<TestFrame> out;
    while (r->Next()) {
      const auto& f = r->frame();
      out.push_back({f.timestamp_us, r->can_id(), f.seq, {f.data.begin(), f.data.end()}});
    }
    EXPECT_TRUE(r->status().ok()) << r->status().ToString();
    return out;
  }

  std::vector<TestFrame> ReadAllFiles() const {
    std::vector<TestFrame> out;
    for (const auto& p : Files()) {
      auto part = ReadAll(p);
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }

  static void ExpectSameFrames(const std::vector<TestFrame>& got, const std::vector<TestFrame>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].ts, want[i].ts) << "frame " << i;
      EXPECT_EQ(got[i].can_id, want[i].can_id) << "frame " << i;
      EXPECT_EQ(got[i].data, want[i].data) << "frame " << i;
      if (want[i].seq != 0) {
        EXPECT_EQ(got[i].seq, want[i].seq) << "frame " << i;
      }
    }
  }

  TempDir dir_;
  FakeClock clock_{kBase};
  std::vector<std::string> rotated_;
};

class WriterCompressionTest : public WriterTest, public ::testing::WithParamInterface<Compression> {};

INSTANTIATE_TEST_SUITE_P(AllCompressions, WriterCompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kZstd, Compression::kZstdDict),
                         [](const auto& info) {
                           std::string n(CompressionName(info.param));
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

// Compressed files only (uncompressed truncation is test 9 above).
class WriterCompressedOnlyTest : public WriterTest, public ::testing::WithParamInterface<Compression> {};

INSTANTIATE_TEST_SUITE_P(Compressed, WriterCompressedOnlyTest,
                         ::testing::Values(Compression::kZstd, Compression::kZstdDict),
                         [](const auto& info) { return info.param == Compression::kZstd ? "zstd" : "zstddict"; });

// 1, 15, 23: mixed frames keep PGN, source, data and µs timestamp.
TEST_P(WriterCompressionTest, RoundTripMixedFrames) {
  auto w = Writer(Options(GetParam()));
  std::vector<TestFrame> frames = {
      {kBase + 1, Id(129025, 10), 0, {1, 2, 3, 4, 5, 6, 7, 8}},
      {kBase + 1002, Id(130306, 20), 0, {8, 7, 6, 5, 4, 3, 2, 1}},
      {kBase + 2003, Id(127250, 30, 3), 0, {1, 2, 3, 4, 5}},
      {kBase + 3004, Id(60928, 40, 6), 0, ClaimData(0x00A1B2C3D4E5F601ULL)},
  };
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  ExpectSameFrames(ReadAll(Files()[0]), frames);
}

// 2: standard (8) and extended (other) lengths.
TEST_F(WriterTest, StandardAndExtendedFrameForms) {
  auto w = Writer(Options());
  std::vector<TestFrame> frames = {
      {kBase, Id(129025, 1), 0, std::vector<uint8_t>(8, 0xAB)},
      {kBase + 1000, Id(129029, 2), 0, std::vector<uint8_t>(15, 0xCD)},
      {kBase + 2000, Id(59904, 3, 6, 5), 0, {0x00, 0xEE, 0x00}},
      {kBase + 3000, Id(129029, 2), 0, {}},
      {kBase + 4000, Id(129038, 7), 0, std::vector<uint8_t>(223, 0x42)},
  };
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ExpectSameFrames(ReadAll(Files()[0]), frames);
}

// 3: two claims for the same source inside one block both appear.
TEST_F(WriterTest, DeviceTableRecordsAddressChanges) {
  auto w = Writer(Options());
  Write(*w, TwoClaimsForSource5());
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekBlock(0).ok());
  auto devices = Devices(r->BlockDevices());
  std::vector<uint64_t> names;
  for (const auto& d : devices) {
    EXPECT_EQ(d.source, 5);
    names.push_back(d.name);
  }
  EXPECT_EQ(names, (std::vector<uint64_t>{0xA, 0xB}));
}

// 4: devices as of a frame index.
TEST_F(WriterTest, DeviceTableSeeking) {
  auto w = Writer(Options());
  Write(*w, TwoClaimsForSource5());
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekBlock(0).ok());
  auto at1 = Devices(r->BlockDevicesAt(1));
  ASSERT_EQ(at1.size(), 1u);
  EXPECT_EQ(at1[0].name, 0xAu);
  auto at3 = Devices(r->BlockDevicesAt(3));
  ASSERT_EQ(at3.size(), 1u);
  EXPECT_EQ(at3[0].name, 0xBu);
}

// 5: one flipped byte inside block 0 is a checksum error on the first Next.
TEST_F(WriterTest, BlockChecksumMismatchStopsIteration) {
  auto w = Writer(Options());
  Write(*w, Frames(10));
  ASSERT_TRUE(w->Close().ok());
  {
    std::fstream f(Files()[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(36);
    char c = 0x5A;
    f.write(&c, 1);
  }
  auto r = Open(Files()[0]);
  EXPECT_FALSE(r->Next());
  EXPECT_FALSE(r->status().ok());
  EXPECT_NE(r->status().message().find("checksum"), std::string::npos) << r->status().ToString();
}

// 6, 16, 24: 700 frames span 3 blocks of 4096 bytes and all come back.
TEST_P(WriterCompressionTest, BlockBoundaryKeepsEveryFrame) {
  auto w = Writer(Options(GetParam()));
  auto frames = Frames(700);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  EXPECT_EQ(r->block_count(), 3u);
  ExpectSameFrames(ReadAll(Files()[0]), frames);
}

// 7, 17, 25: seeking by time lands at or before the target.
TEST_P(WriterCompressionTest, TimeSeekingLandsAtOrBeforeTarget) {
  auto w = Writer(Options(GetParam()));
  Write(*w, Frames(700, 100'000));
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_GE(r->block_count(), 2u);
  const int64_t target = kBase + 35'000'000;
  ASSERT_TRUE(r->SeekToTime(target).ok());
  ASSERT_TRUE(r->Next());
  EXPECT_LE(r->frame().timestamp_us, target);
  EXPECT_GT(r->frame().timestamp_us, kBase);  // not simply block 0
  bool reached = false;
  while (r->Next()) {
    if (r->frame().timestamp_us == target) reached = true;
  }
  EXPECT_TRUE(reached);
}

// 8: size rotation splits 700 frames over several files, none lost.
TEST_F(WriterTest, RotationBySizeKeepsEveryFrame) {
  auto o = Options();
  o.rotate_size = 4100;
  auto w = Writer(o);
  auto frames = Frames(700);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_GE(Files().size(), 2u);
  ExpectSameFrames(ReadAllFiles(), frames);
  EXPECT_EQ(rotated_.size(), Files().size());
}

// 9: a file cut to header + 1.5 blocks yields its first block and no error.
TEST_F(WriterTest, CrashTruncatedUncompressedFileReadsWholeBlocks) {
  auto w = Writer(Options());
  Write(*w, Frames(700));
  ASSERT_TRUE(w->Close().ok());
  fs::resize_file(Files()[0], 16 + 4096 + 2048);
  auto r = Open(Files()[0]);
  EXPECT_EQ(r->block_count(), 1u);
  int n = 0;
  while (r->Next()) ++n;
  EXPECT_TRUE(r->status().ok());
  EXPECT_GT(n, 0);
}

// 10: PDU1 and PDU2 identifiers survive.
TEST_F(WriterTest, CanIdRoundTrip) {
  auto w = Writer(Options());
  std::vector<TestFrame> frames = {{kBase, Id(129025, 10, 2), 0, Bytes8(0)},
                                   {kBase + 1, Id(59904, 254, 6, 10), 0, {0x14, 0xF0, 0x01}}};
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->Next());
  EXPECT_EQ(r->frame().header, (can::CanHeader{2, 129025, 10, 0xFF}));
  ASSERT_TRUE(r->Next());
  EXPECT_EQ(r->frame().header, (can::CanHeader{6, 59904, 254, 10}));
}

// 11: the stored CRC is CRC-32C of the block's first BlockSize-4 bytes.
TEST_F(WriterTest, BlockChecksumCoversBlockButTrailerCrc) {
  auto w = Writer(Options());
  Write(*w, Frames(10));
  ASSERT_TRUE(w->Close().ok());
  std::ifstream f(Files()[0], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  ASSERT_EQ(bytes.size(), 16u + 4096u);
  EXPECT_EQ(le::Load32(bytes.data() + 16 + 4092), crc32c::Value(bytes.data() + 16, 4092));
}

// 12: a writer that never saw a frame creates no file and calls nothing.
TEST_F(WriterTest, NoFramesNoFile) {
  auto w = Writer(Options());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(Files().empty());
  EXPECT_FALSE(fs::exists(dir_.Sub("journal")) && !fs::is_empty(dir_.Sub("journal")));
  EXPECT_TRUE(rotated_.empty());
}

// 13: a device known before the block starts is in its table with product info.
TEST_F(WriterTest, ProductInfoOfKnownDeviceInBlockStartTable) {
  auto w = Writer(Options());
  w->registry().Observe(kBase, 10, 60928, ClaimData(0x1234));
  w->registry().Observe(kBase, 10, 126996, ProductInfo(4242, "Model", "1.0", "A", "SN1"));
  Write(*w, Frames(3));
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekBlock(0).ok());
  auto devices = Devices(r->BlockDevices());
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].source, 10);
  EXPECT_EQ(devices[0].name, 0x1234u);
  EXPECT_EQ(devices[0].active_from, 0u);
  EXPECT_EQ(devices[0].product_code, 4242);
  EXPECT_EQ(devices[0].model_id, "Model");
  EXPECT_EQ(devices[0].software_version, "1.0");
  EXPECT_EQ(devices[0].model_version, "A");
  EXPECT_EQ(devices[0].model_serial, "SN1");
}

// 14: a claim inside the block carries the product info known at flush time.
TEST_F(WriterTest, ProductInfoOfInBlockClaim) {
  auto w = Writer(Options());
  Write(*w, {{kBase, Id(129025, 10), 0, Bytes8(0)},
             {kBase + 1000, Id(129025, 10), 0, Bytes8(1)},
             {kBase + 2000, Id(60928, 10, 6), 0, ClaimData(0x77)},
             {kBase + 3000, Id(126996, 10, 6), 0, ProductInfo(9999, "Pilot", "XYZ", "", "")}});
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekBlock(0).ok());
  auto at2 = Devices(r->BlockDevicesAt(2));
  ASSERT_EQ(at2.size(), 1u);
  EXPECT_EQ(at2[0].name, 0x77u);
  EXPECT_EQ(at2[0].active_from, 2u);
  EXPECT_EQ(at2[0].product_code, 9999);
  EXPECT_EQ(at2[0].model_id, "Pilot");
  EXPECT_EQ(at2[0].software_version, "XYZ");
  EXPECT_TRUE(Devices(r->BlockDevicesAt(1)).empty());
}

// 18, 26: a compressed file cut to 60 % keeps some whole blocks, all readable.
TEST_P(WriterCompressedOnlyTest, CrashTruncatedFileRecoversLeadingBlocks) {
  auto w = Writer(Options(GetParam()));
  Write(*w, Frames(2000));
  ASSERT_TRUE(w->Close().ok());
  const uint64_t full_blocks = Open(Files()[0])->block_count();
  ASSERT_GE(full_blocks, 3u);
  fs::resize_file(Files()[0], fs::file_size(Files()[0]) * 6 / 10);
  auto r = Open(Files()[0]);
  EXPECT_FALSE(r->has_block_index());
  EXPECT_GE(r->block_count(), 1u);
  EXPECT_LT(r->block_count(), full_blocks);
  int n = 0;
  while (r->Next()) ++n;
  EXPECT_TRUE(r->status().ok()) << r->status().ToString();
  EXPECT_GT(n, 0);
}

// 19: compressed files end in an LPJI index naming every block.
TEST_F(WriterTest, BlockIndexFooter) {
  auto w = Writer(Options(Compression::kZstd));
  auto frames = Frames(700);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  std::ifstream f(Files()[0], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(std::string(bytes.end() - 4, bytes.end()), "LPJI");
  const uint32_t count = le::Load32(bytes.data() + bytes.size() - 8);
  auto r = Open(Files()[0]);
  EXPECT_TRUE(r->has_block_index());
  EXPECT_EQ(r->block_count(), count);
  EXPECT_EQ(le::Load64(bytes.data() + bytes.size() - 8 - 8 * count), 16u);  // first block right after the header
  ExpectSameFrames(ReadAll(Files()[0]), frames);
}

// 20: without the footer a forward scan finds the same blocks.
TEST_F(WriterTest, BlockIndexMissingFallsBackToScan) {
  auto w = Writer(Options(Compression::kZstd));
  auto frames = Frames(700);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  const uint64_t blocks = Open(Files()[0])->block_count();
  fs::resize_file(Files()[0], fs::file_size(Files()[0]) - (8 * blocks + 8));
  auto r = Open(Files()[0]);
  EXPECT_FALSE(r->has_block_index());
  EXPECT_EQ(r->block_count(), blocks);
  ExpectSameFrames(ReadAll(Files()[0]), frames);
}

// 21: uncompressed files have no index.
TEST_F(WriterTest, UncompressedFileHasNoIndex) {
  auto w = Writer(Options(Compression::kNone));
  Write(*w, Frames(700));
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(fs::file_size(Files()[0]), 16u + 3 * 4096u);
  EXPECT_FALSE(Open(Files()[0])->has_block_index());
}

// 22, 27: compression makes files smaller.
TEST_F(WriterTest, CompressedSmallerThanUncompressed) {
  uint64_t sizes[3];
  int k = 0;
  for (Compression c : {Compression::kNone, Compression::kZstd, Compression::kZstdDict}) {
    TempDir d;
    auto o = Options(c, 65536);
    o.dir = d.path();
    auto w = Writer(o);
    for (int i = 0; i < 20000; ++i) {
      const uint32_t pgns[] = {129025, 129026, 127250, 130306, 127488};
      uint32_t v = static_cast<uint32_t>(i / 5);
      ASSERT_TRUE(w->Append(WFrame(kBase + i * 5000, Id(pgns[i % 5], static_cast<uint8_t>(10 + i % 5)), 0, Bytes8(v))).ok());
    }
    ASSERT_TRUE(w->Close().ok());
    uint64_t total = 0;
    for (const auto& e : fs::directory_iterator(d.path())) total += fs::file_size(e.path());
    sizes[k++] = total;
  }
  EXPECT_LT(sizes[1], sizes[0]);
  EXPECT_LT(sizes[2], sizes[0]);
}

// 28: zstd+dict blocks carry a dictionary.
TEST_F(WriterTest, ZstdDictBlocksCarryDictionaries) {
  auto w = Writer(Options(Compression::kZstdDict));
  Write(*w, Frames(700));
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  EXPECT_EQ(r->compression(), Compression::kZstdDict);
  for (uint64_t b = 0; b < r->block_count(); ++b) {
    auto info = r->InspectBlock(b);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_GT(info->dict_len, 0u) << "block " << b;
    EXPECT_GT(info->compressed_len, 0u);
    EXPECT_GT(info->frame_count, 0u);
  }
}

// 29: default 256 KiB blocks round-trip (the reference's DTS u16 regression).
TEST_F(WriterTest, DefaultBlockSizeRoundTrip) {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    TempDir d;
    auto o = Options(c, kDefaultBlockSize);
    o.dir = d.path();
    auto w = Writer(o);
    auto frames = Frames(20000);
    for (const auto& f : frames) ASSERT_TRUE(w->Append(WFrame(f.ts, f.can_id, f.seq, f.data)).ok());
    ASSERT_TRUE(w->Close().ok());
    std::vector<TestFrame> got;
    for (const auto& e : fs::directory_iterator(d.path())) {
      auto part = ReadAll(e.path().string());
      got.insert(got.end(), part.begin(), part.end());
    }
    ExpectSameFrames(got, frames);
  }
}

// 30: a block whose frames are garbage but whose CRC is right is cut short,
// without an error, and the other blocks still read.
TEST_F(WriterTest, ReaderSkipsGarbageBlockWithValidCrc) {
  auto w = Writer(Options());
  Write(*w, Frames(700));
  ASSERT_TRUE(w->Close().ok());
  {
    std::fstream f(Files()[0], std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> block(4096);
    f.seekg(16 + 4096);
    f.read(block.data(), 4096);
    std::fill(block.begin() + 8, block.begin() + 64, static_cast<char>(0xFF));
    le::Store32(reinterpret_cast<uint8_t*>(block.data()) + 4092,
                crc32c::Value(block.data(), 4092));
    f.seekp(16 + 4096);
    f.write(block.data(), 4096);
  }
  auto r = Open(Files()[0]);
  int n = 0;
  while (r->Next()) ++n;
  EXPECT_TRUE(r->status().ok()) << r->status().ToString();
  EXPECT_GT(n, 0);
  EXPECT_LT(n, 700);
}

// 31: base seqs come back per frame, in every compression; the file is v2.
TEST_P(WriterCompressionTest, SeqRoundTrip) {
  auto w = Writer(Options(GetParam()));
  Write(*w, Frames(3, 1000, 100));
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  EXPECT_EQ(r->version(), 2);
  for (uint64_t want : {100u, 101u, 102u}) {
    ASSERT_TRUE(r->Next());
    EXPECT_EQ(r->frame().seq, want);
  }
}

// 32: SeekToSeq lands at or before the seq, which is then reached.
TEST_P(WriterCompressionTest, SeekToSeq) {
  auto w = Writer(Options(GetParam()));
  Write(*w, Frames(700, 1000, 1000));
  ASSERT_TRUE(w->Close().ok());
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekToSeq(1350).ok());
  ASSERT_TRUE(r->Next());
  EXPECT_LE(r->frame().seq, 1350u);
  EXPECT_GT(r->frame().seq, 1000u);
  while (r->frame().seq < 1350 && r->Next()) {
  }
  EXPECT_EQ(r->frame().seq, 1350u);
}

// 75: RotateCount follows the reference rule — 8 big frames, two per block,
// RotateCount 2 → 3 files (2 rotations + close); the middle file holds 4.
TEST_F(WriterTest, RotateCountCarriedFrameDoesNotCount) {
  auto o = Options();
  o.rotate_count = 2;
  auto w = Writer(o);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(w->Append(WFrame(kBase + i * 1000, Id(129029, 1), 0, std::vector<uint8_t>(2000, static_cast<uint8_t>(i)))).ok());
  }
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(rotated_.size(), 3u);
  for (const auto& p : rotated_) EXPECT_EQ(fs::path(p).extension(), ".lpj");
  ASSERT_EQ(Files().size(), 3u);
  EXPECT_EQ(ReadAll(Files()[0]).size(), 2u);
  EXPECT_EQ(ReadAll(Files()[1]).size(), 4u);
  EXPECT_EQ(ReadAll(Files()[2]).size(), 2u);
}

// 76: closing (the context cancelled) still reports the last file.
TEST_F(WriterTest, OnRotateCalledForLastFileAtClose) {
  auto w = Writer(Options());
  Write(*w, Frames(3));
  EXPECT_TRUE(rotated_.empty());
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(rotated_.size(), 1u);
  EXPECT_EQ(rotated_[0], Files()[0]);
}

// The reference loses the carried-over frame when the stream ends right
// after a rotation; we open the next file when its block is written.
TEST_F(WriterTest, FrameAfterRotationSurvivesImmediateClose) {
  auto o = Options();
  o.rotate_count = 2;
  auto w = Writer(o);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w->Append(WFrame(kBase + i * 1000, Id(129029, 1), 0, std::vector<uint8_t>(2000, 1))).ok());
  }
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Files().size(), 2u);
  EXPECT_EQ(ReadAllFiles().size(), 3u);
  EXPECT_EQ(rotated_.size(), 2u);
}

// on_rotate only fires once the file is complete on disk.
TEST_F(WriterTest, OnRotateSeesFinishedFile) {
  auto o = Options(Compression::kZstd);
  o.rotate_size = 100;  // every compressed block ends its file
  std::vector<uint64_t> blocks_seen;
  o.on_rotate = [&](const RotatedFile& f) {
    auto r = JournalReader::OpenPath(f.path);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE((*r)->has_block_index()) << f.path;
    blocks_seen.push_back((*r)->block_count());
  };
  auto w = Writer(o);
  Write(*w, Frames(700));
  ASSERT_TRUE(w->Close().ok());
  ASSERT_GE(blocks_seen.size(), 2u);
  for (uint64_t b : blocks_seen) EXPECT_GE(b, 1u);
}

// 97: frames sent while paused are discarded.
TEST_F(WriterTest, PausedWriterDiscardsFrames) {
  auto w = Writer(Options());
  auto frames = Frames(9);
  Write(*w, {frames[0], frames[1], frames[2]});
  w->SetPaused(true);
  Write(*w, {frames[3], frames[4], frames[5]});
  w->SetPaused(false);
  Write(*w, {frames[6], frames[7], frames[8]});
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(ReadAllFiles().size(), 6u);
  EXPECT_EQ(w->stats().frames_paused, 3u);
}

// Fix: a seq gap (frames dropped or paused) starts a new block, so every
// frame read back carries its true seq.
TEST_F(WriterTest, SeqGapStartsNewBlock) {
  auto w = Writer(Options());
  auto frames = Frames(9, 1000, 50);
  Write(*w, {frames[0], frames[1], frames[2]});
  w->SetPaused(true);
  Write(*w, {frames[3], frames[4]});
  w->SetPaused(false);
  Write(*w, {frames[5], frames[6], frames[7], frames[8]});
  ASSERT_TRUE(w->Close().ok());
  auto got = ReadAll(Files()[0]);
  ASSERT_EQ(got.size(), 7u);
  const uint64_t want[] = {50, 51, 52, 55, 56, 57, 58};
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(got[i].seq, want[i]);
  EXPECT_EQ(Open(Files()[0])->block_count(), 2u);
  EXPECT_EQ(w->stats().seq_break_blocks, 1u);
}

// Fix: a claim frame landing at the very end of a block cannot be
// overwritten by the device table (the reference forgot its own entry).
TEST_F(WriterTest, ClaimAtEndOfBlockReservesItsTableEntry) {
  for (int filler = 240; filler < 300; ++filler) {
    TempDir d;
    auto o = Options();
    o.dir = d.path();
    auto w = Writer(o);
    std::vector<TestFrame> frames = Frames(filler);
    frames.push_back({kBase + filler * 1000, Id(60928, 33, 6), 0, ClaimData(0xC1A1Bu + filler)});
    frames.push_back({kBase + filler * 1000 + 1000, Id(129025, 33), 0, Bytes8(7)});
    for (const auto& f : frames) ASSERT_TRUE(w->Append(WFrame(f.ts, f.can_id, f.seq, f.data)).ok());
    ASSERT_TRUE(w->Close().ok());
    std::vector<TestFrame> got;
    for (const auto& e : fs::directory_iterator(d.path())) got = ReadAll(e.path().string());
    ExpectSameFrames(got, frames);
  }
}

// Fix: a frame that cannot fit an empty block is refused, not truncated.
TEST_F(WriterTest, OversizedFrameRefusedAndWriterContinues) {
  auto w = Writer(Options());
  Status s = w->Append(WFrame(kBase, Id(129029, 1), 0, std::vector<uint8_t>(3000, 1)));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("3000"), std::string::npos) << s.message();
  auto frames = Frames(5);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ExpectSameFrames(ReadAll(Files()[0]), frames);
  EXPECT_EQ(w->stats().frames_refused, 1u);
}

// A frame dated outside years 0001..9999 would make a block every reader
// refuses as corrupt (and overflow the block's time arithmetic): the writer
// refuses the frame, names its time and the valid range, and goes on.
TEST_F(WriterTest, FrameTimeOutsideYears0001To9999IsRefusedAndWriterContinues) {
  auto w = Writer(Options());
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (const int64_t ts : {kMinTimestampUs - 1, kMaxTimestampUs + 1, INT64_MIN, INT64_MAX}) {
    Status s = w->Append(WFrame(ts, Id(129025, 10), 0, data));
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << ts;
    EXPECT_NE(s.message().find(std::to_string(ts)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(kTimestampRange), std::string::npos) << s.message();
  }
  EXPECT_EQ(w->stats().frames_refused, 4u);
  EXPECT_EQ(w->stats().frames_written, 0u);
  // The bounds themselves are valid times, and the writer still records.
  ASSERT_TRUE(w->Append(WFrame(kMaxTimestampUs, Id(129025, 10), 0, data)).ok());
  ASSERT_TRUE(w->Close().ok());
  ASSERT_TRUE(w->Append(WFrame(kMinTimestampUs, Id(129025, 10), 0, data)).ok());
  ASSERT_TRUE(w->Close().ok());
  std::vector<int64_t> times;
  for (const std::string& f : Files()) {
    for (const TestFrame& t : ReadAll(f)) times.push_back(t.ts);
  }
  std::sort(times.begin(), times.end());
  EXPECT_EQ(times, (std::vector<int64_t>{kMinTimestampUs, kMaxTimestampUs}));
}

// Fix: a large registry never overflows a small block's device table.
TEST_F(WriterTest, ManyDevicesFitSmallBlocks) {
  auto w = Writer(Options());
  for (int src = 0; src < 250; ++src) {
    w->registry().Observe(kBase, static_cast<uint8_t>(src), 60928, ClaimData(0x100 + src));
    w->registry().Observe(kBase, static_cast<uint8_t>(src), 126996,
                          ProductInfo(1, std::string(32, 'M'), std::string(40, 'S'), std::string(24, 'V'),
                                      std::string(32, 'N')));
  }
  auto frames = Frames(50);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ExpectSameFrames(ReadAll(Files()[0]), frames);
  auto r = Open(Files()[0]);
  ASSERT_TRUE(r->SeekBlock(0).ok());
  EXPECT_GT(Devices(r->BlockDevices()).size(), 0u);
}

// Fix: a quiet bus still gets its frames to disk after flush_interval.
TEST_F(WriterTest, TimedFlushWritesPartialBlock) {
  auto o = Options();
  o.flush_interval_us = 60'000'000;
  auto w = Writer(o);
  Write(*w, Frames(3));
  EXPECT_TRUE(Files().empty());
  clock_.Advance(59'000'000);
  ASSERT_TRUE(w->Tick(clock_.NowMicros()).ok());
  EXPECT_TRUE(Files().empty());
  clock_.Advance(1'000'000);
  ASSERT_TRUE(w->Tick(clock_.NowMicros()).ok());
  ASSERT_EQ(Files().size(), 1u);
  EXPECT_EQ(ReadAll(Files()[0]).size(), 3u);  // readable while still open (no index yet)
  EXPECT_TRUE(rotated_.empty());
  EXPECT_EQ(w->current_path(), Files()[0]);
}

// Fix: duration rotation fires on time on a quiet bus (Tick), not only
// after a block fills.
TEST_F(WriterTest, DurationRotationFiresOnQuietBus) {
  auto o = Options();
  o.rotate_duration_us = 3600'000'000LL;
  auto w = Writer(o);
  Write(*w, Frames(3));
  clock_.Advance(3599'000'000LL);
  ASSERT_TRUE(w->Tick(clock_.NowMicros()).ok());
  EXPECT_TRUE(rotated_.empty());
  clock_.Advance(1'000'000);
  ASSERT_TRUE(w->Tick(clock_.NowMicros()).ok());
  ASSERT_EQ(rotated_.size(), 1u);
  EXPECT_EQ(ReadAll(rotated_[0]).size(), 3u);
  EXPECT_TRUE(w->current_path().empty());
}

// Duration rotation also follows frame time (imports, backfill).
TEST_F(WriterTest, DurationRotationByFrameTime) {
  auto o = Options();
  o.rotate_duration_us = 10'000'000;
  auto w = Writer(o);
  auto frames = Frames(30, 1'000'000);
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Files().size(), 3u);
  EXPECT_EQ(ReadAll(Files()[0]).size(), 10u);
  ExpectSameFrames(ReadAllFiles(), frames);
}

// Files are named after their first frame, in UTC, milliseconds cut.
TEST_F(WriterTest, FileNamedAfterFirstFrame) {
  auto w = Writer(Options());
  Write(*w, {{kBase + 123'999, Id(129025, 1), 0, Bytes8(0)}});
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  EXPECT_EQ(fs::path(Files()[0]).filename().string(), "nmea2k-" + timefmt::FileStamp(kBase + 123'000) + ".lpj");
  EXPECT_EQ(fs::path(Files()[0]).filename().string(), "nmea2k-20250615T150640.123Z.lpj");
}

// Fix: an existing file with the same name is never truncated.
TEST_F(WriterTest, NameCollisionNeverTruncatesExistingFile) {
  fs::create_directories(dir_.Sub("journal"));
  const std::string taken = dir_.Sub("journal") + "/nmea2k-" + timefmt::FileStamp(kBase) + ".lpj";
  { std::ofstream(taken) << "precious"; }
  auto w = Writer(Options());
  Write(*w, Frames(3));
  ASSERT_TRUE(w->Close().ok());
  std::ifstream in(taken);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "precious");
  ASSERT_EQ(rotated_.size(), 1u);
  EXPECT_NE(rotated_[0], taken);
  EXPECT_TRUE(timefmt::TimeFromJournalName(fs::path(rotated_[0]).filename().string()).has_value());
  EXPECT_EQ(ReadAll(rotated_[0]).size(), 3u);
}

// A marker left over from an earlier file of the same name (the file was
// deleted, its marker stayed) made a new, never-archived file count as
// archived, and retention deleted it. The name counts as taken (ADR 003).
TEST_F(WriterTest, NameWhoseArchivedMarkerExistsIsNotReused) {
  fs::create_directories(dir_.Sub("journal"));
  const std::string stale = dir_.Sub("journal") + "/nmea2k-" + timefmt::FileStamp(kBase) + ".lpj";
  { std::ofstream(stale + ".archived"); }
  auto w = Writer(Options());
  Write(*w, Frames(3));
  ASSERT_TRUE(w->Close().ok());
  EXPECT_FALSE(fs::exists(stale));
  ASSERT_EQ(rotated_.size(), 1u);
  EXPECT_EQ(rotated_[0], dir_.Sub("journal") + "/nmea2k-" + timefmt::FileStamp(kBase + 1000) + ".lpj");
  EXPECT_FALSE(fs::exists(rotated_[0] + ".archived"));
  EXPECT_EQ(ReadAll(rotated_[0]).size(), 3u);
}

// A full disk: the file that failed is finished and handed on (it reads
// like a crashed file), and once space is back the pending block lands.
TEST_F(WriterTest, DiskFullFinishesFileAndRetriesBlock) {
  FaultInjectingFileSystem faulty(FileSystem::Default());
  auto o = Options();
  o.fs = &faulty;
  auto w = Writer(o);
  auto frames = Frames(700);
  faulty.FailWritesAfter(16 + 4096 + 100, ENOSPC);  // header, one block, part of the next
  size_t i = 0;
  Status s;
  for (; i < frames.size(); ++i) {
    s = w->Append(WFrame(frames[i].ts, frames[i].can_id, 0, frames[i].data));
    if (!s.ok()) break;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.ToString();
  ASSERT_EQ(rotated_.size(), 1u);  // the broken file reaches the archive path
  EXPECT_EQ(ReadAll(rotated_[0]).size(), 290u);
  faulty.Heal();
  for (size_t j = i + 1; j < frames.size(); ++j) {
    ASSERT_TRUE(w->Append(WFrame(frames[j].ts, frames[j].can_id, 0, frames[j].data)).ok());
  }
  ASSERT_TRUE(w->Close().ok());
  // Everything but the frame that met the error is on disk.
  EXPECT_EQ(ReadAllFiles().size(), frames.size() - 1);
  EXPECT_EQ(rotated_.size(), 2u);
}

TEST_F(WriterTest, InvalidOptionsNameTheValue) {
  auto o = Options();
  o.block_size = 1000;
  auto w = JournalWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("1000"), std::string::npos);
  o = Options();
  o.block_size = 6000;
  EXPECT_NE(JournalWriter::Create(o).status().message().find("power of 2"), std::string::npos);
  o = Options();
  o.zstd_level = 40;
  EXPECT_NE(JournalWriter::Create(o).status().message().find("40"), std::string::npos);
}

// A timestamp that goes backwards is clamped (the format has no negative
// deltas): 90 reads back as 100. The reference then wrote the next delta
// from 90, so 110 read back as 120 and every later frame of the block was
// shifted; here the deltas run from the stored time and 110 stays 110.
TEST_F(WriterTest, ClampedBackwardFrameDoesNotShiftLaterFramesOfTheBlock) {
  auto w = Writer(Options());
  Write(*w, {{100, Id(129025, 1), 0, Bytes8(0)}, {90, Id(129025, 1), 0, Bytes8(1)},
             {110, Id(129025, 1), 0, Bytes8(2)}, {111, Id(129025, 1), 0, Bytes8(3)}});
  ASSERT_TRUE(w->Close().ok());
  auto got = ReadAll(Files()[0]);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].ts, 100);
  EXPECT_EQ(got[1].ts, 100);
  EXPECT_EQ(got[2].ts, 110);
  EXPECT_EQ(got[3].ts, 111);
}

}  // namespace
}  // namespace lplex::journal

namespace lplex::journal {
namespace {

using testutil::WFrame;

// Fix: a clock stepping back (as in can0-1.pcap, by 14 days) starts a new
// block, so every frame keeps its true timestamp; sub-ms jitter is clamped.
TEST_F(WriterTest, ClockStepBackStartsNewBlockAndKeepsTimes) {
  auto w = Writer(Options());
  std::vector<TestFrame> frames = {{kBase, Id(129025, 1), 0, Bytes8(0)},
                                   {kBase + 1000, Id(129025, 1), 0, Bytes8(1)},
                                   {kBase - 14LL * 86400'000'000, Id(129025, 1), 0, Bytes8(2)},
                                   {kBase - 14LL * 86400'000'000 + 500, Id(129025, 1), 0, Bytes8(3)}};
  Write(*w, frames);
  ASSERT_TRUE(w->Close().ok());
  ExpectSameFrames(ReadAll(Files()[0]), frames);
  EXPECT_EQ(Open(Files()[0])->block_count(), 2u);
  EXPECT_EQ(w->stats().time_break_blocks, 1u);
}

TEST_F(WriterTest, SubMillisecondJitterIsClampedInBlock) {
  auto w = Writer(Options());
  Write(*w, {{kBase + 1000, Id(129025, 1), 0, Bytes8(0)}, {kBase + 400, Id(129025, 1), 0, Bytes8(1)}});
  ASSERT_TRUE(w->Close().ok());
  auto got = ReadAll(Files()[0]);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].ts, kBase + 1000);
  EXPECT_EQ(Open(Files()[0])->block_count(), 1u);
}


// The sequence JournalWriter shares with BlockWriter (OutputFile, ADR 004):
// a file is reported open before it exists, and closed — already finished —
// before on_rotate hands it on.
TEST_F(WriterTest, WriterReportsOpenBeforeCreateAndClosedBeforeOnRotate) {
  std::vector<std::string> events;
  auto o = Options(Compression::kZstd);
  o.on_open_change = [&](const std::string& path, bool open) {
    if (open) {
      EXPECT_FALSE(fs::exists(path)) << path << " reported open only after it was created";
    } else {
      EXPECT_TRUE(Open(path)->has_block_index()) << path << " reported closed before it was finished";
    }
    events.push_back((open ? "open " : "closed ") + path);
  };
  o.on_rotate = [&](const RotatedFile& f) { events.push_back("rotated " + f.path); };
  auto w = Writer(o);
  Write(*w, Frames(10));
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(Files().size(), 1u);
  const std::string p = Files()[0];
  EXPECT_EQ(events, (std::vector<std::string>{"open " + p, "closed " + p, "rotated " + p}));
}

// stats() takes its file totals from the output file: every byte on disk
// (headers, blocks, indexes) and every finished file, already counted when
// on_rotate hears of it.
TEST_F(WriterTest, WriterStatsCountEveryFileAndByteOnDisk) {
  auto o = Options(Compression::kZstd);
  o.rotate_count = 100;
  JournalWriter* writer = nullptr;
  std::vector<uint64_t> finished_at_rotate;
  o.on_rotate = [&](const RotatedFile&) { finished_at_rotate.push_back(writer->stats().files_finished); };
  auto w = Writer(o);
  writer = w.get();
  Write(*w, Frames(1000));
  ASSERT_TRUE(w->Close().ok());
  ASSERT_GE(Files().size(), 2u);
  uint64_t on_disk = 0;
  for (const auto& f : Files()) on_disk += fs::file_size(f);
  EXPECT_EQ(w->stats().bytes_written, on_disk);
  EXPECT_EQ(w->stats().files_finished, Files().size());
  for (size_t i = 0; i < finished_at_rotate.size(); ++i) EXPECT_EQ(finished_at_rotate[i], i + 1);
}

}  // namespace
}  // namespace lplex::journal
