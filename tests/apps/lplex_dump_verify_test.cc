// lplex dump / verify / inspect on damaged journals made from a real capture
// (issue 6 findings 3, 4 and 11): what the user sees on stdout, stderr and in
// the exit status.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "commands.h"
#include "core/crc32c.h"
#include "core/endian.h"
#include "core/time.h"
#include "journal/format.h"
#include "journal/reader.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::TempDir;

const std::string kCaptures = std::string(LPLEX_SHARED_DIR) + "/data/captures/";

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Imports can0-1.pcap into `dir` and returns the one journal file.
std::string ImportCan01(const TempDir& dir, const std::string& compression, uint32_t block_size) {
  ImportOptions o;
  o.captures = {kCaptures + "can0-1.pcap"};
  o.out_dir = dir.path();
  o.compression = compression;
  o.block_size = block_size;
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_EQ(imp.rc, 0) << imp.err;
  return fs::directory_iterator(dir.path())->path().string();
}

long Lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

Captured Dump(const std::string& path) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{path}, true}, out, err); });
}
Captured Verify(const std::string& path) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({path}, out, err); });
}

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// The LPJI table of a closed compressed journal: offsets, and where entry i is.
struct Index {
  std::vector<uint64_t> offsets;
  size_t table_start = 0;
};
Index ReadIndex(const std::vector<uint8_t>& b) {
  Index ix;
  const uint32_t n = le::Load32(b.data() + b.size() - 8);
  ix.table_start = b.size() - 8 - 8 * size_t{n};
  for (uint32_t i = 0; i < n; ++i) ix.offsets.push_back(le::Load64(b.data() + ix.table_start + 8 * i));
  return ix;
}

// A journal whose index entry 3 has one flipped bit that keeps it between
// entries 2 and 4 (so the old reader believed it).
struct CorruptIndexJournal {
  TempDir dir;
  std::string file;
  Captured clean_dump;
  Index index;
  uint64_t bad_entry = 0;
  CorruptIndexJournal() {
    file = ImportCan01(dir, "zstd", 65536);
    clean_dump = Dump(file);
    std::vector<uint8_t> b = ReadBytes(file);
    index = ReadIndex(b);
    EXPECT_GE(index.offsets.size(), 5u);
    bad_entry = index.offsets[3] ^ 0x10;
    EXPECT_TRUE(bad_entry > index.offsets[2] && bad_entry < index.offsets[4]);
    b[index.table_start + 8 * 3] ^= 0x10;
    WriteBytes(file, b);
  }
};

TEST(LplexDumpVerify, VerifyNamesDamagedIndexNotIntactBlocks) {
  CorruptIndexJournal j;
  auto ver = Verify(j.file);
  EXPECT_EQ(ver.rc, 1) << ver.out;
  EXPECT_TRUE(Has(ver.out, j.file + ": FAIL (1 problem;")) << ver.out;
  EXPECT_TRUE(Has(ver.out, "problem: block index damaged: entry 3 says block 3 starts at offset " +
                               std::to_string(j.bad_entry)))
      << ver.out;
  EXPECT_TRUE(Has(ver.out, "blocks located by forward scan")) << ver.out;
  EXPECT_FALSE(Has(ver.out, "invalid compressed length")) << "intact blocks blamed:\n" << ver.out;
  EXPECT_TRUE(Has(ver.out, std::to_string(Lines(j.clean_dump.out)) + " frames readable")) << ver.out;
}

TEST(LplexDumpVerify, DumpReturnsEveryFrameDespiteCorruptIndex) {
  CorruptIndexJournal j;
  auto dump = Dump(j.file);
  EXPECT_EQ(dump.out, j.clean_dump.out) << "every frame, in the same order";
  EXPECT_EQ(dump.rc, 0) << "no frame was lost: " << dump.err;
  EXPECT_TRUE(Has(dump.err, "lplex dump: warning: " + j.file + ": block index damaged: entry 3")) << dump.err;
  EXPECT_TRUE(Has(dump.err, "(no frames lost)")) << dump.err;
}

TEST(LplexDumpVerify, DumpWarnsAndExitsNonZeroOnTruncatedJournal) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  const Captured clean = Dump(file);
  std::vector<uint8_t> b = ReadBytes(file);
  const Index ix = ReadIndex(b);
  // Cut 100 bytes into block 5 (the index goes too, as after a crash).
  b.resize(ix.offsets[5] + 100);
  WriteBytes(file, b);
  auto dump = Dump(file);
  EXPECT_EQ(dump.rc, 1) << dump.err;
  EXPECT_TRUE(Has(dump.err, "lplex dump: " + file + ": 100 bytes at file offset " + std::to_string(ix.offsets[5]) +
                                " after the last whole block are not a whole block (block 5 is cut off"))
      << dump.err;
  EXPECT_TRUE(Has(dump.err, "output incomplete")) << dump.err;
  // Every frame of blocks 0-4 still comes out, in order.
  EXPECT_GT(Lines(dump.out), 0);
  EXPECT_LT(Lines(dump.out), Lines(clean.out));
  EXPECT_EQ(clean.out.compare(0, dump.out.size(), dump.out), 0);
  auto ver = Verify(file);
  EXPECT_EQ(ver.rc, 1);
  EXPECT_TRUE(Has(ver.out, std::to_string(Lines(dump.out)) + " frames readable")) << ver.out;
}

// An uncompressed journal cut inside its last block: same, by block size.
TEST(LplexDumpVerify, DumpWarnsAndExitsNonZeroOnTruncatedUncompressedJournal) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "none", 4096);
  std::vector<uint8_t> b = ReadBytes(file);
  b.resize(b.size() - 1000);
  WriteBytes(file, b);
  auto dump = Dump(file);
  EXPECT_EQ(dump.rc, 1);
  EXPECT_TRUE(Has(dump.err, file + ": 3096 bytes at file offset")) << dump.err;
  EXPECT_TRUE(Has(dump.err, "is cut off")) << dump.err;
}

// A block whose CRC is good but whose first frame record has an overlong
// varint: the rest of that block is unreadable. dump says so (file, block,
// reason), prints every other frame and exits 1; verify agrees.
TEST(LplexDumpVerify, DumpWarnsOnBadVarintInCrcValidBlock) {
  TempDir dir;
  constexpr uint32_t kBlock = 4096;
  const std::string file = ImportCan01(dir, "none", kBlock);
  const Captured clean = Dump(file);
  std::vector<uint8_t> b = ReadBytes(file);
  ASSERT_GT(b.size(), journal::kFileHeaderSize + 3 * kBlock);
  uint8_t* block1 = b.data() + journal::kFileHeaderSize + kBlock;
  const uint32_t frames_in_block1 = le::Load32(block1 + kBlock - 8);
  std::memset(block1 + journal::kBlockDataOffsetV2, 0xFF, 11);  // an 11-byte varint
  le::Store32(block1 + kBlock - 4, crc32c::Value(block1, kBlock - 4));
  WriteBytes(file, b);

  auto dump = Dump(file);
  EXPECT_EQ(dump.rc, 1) << dump.err;
  EXPECT_TRUE(Has(dump.err, "lplex dump: " + file + ": block 1 at file offset 4112: frame record 0 of " +
                                std::to_string(frames_in_block1) + " (block offset 16) is cut off or malformed"))
      << dump.err;
  EXPECT_TRUE(Has(dump.err, "output incomplete")) << dump.err;
  EXPECT_EQ(Lines(dump.out), Lines(clean.out) - frames_in_block1);
  auto ver = Verify(file);
  EXPECT_EQ(ver.rc, 1);
  EXPECT_TRUE(Has(ver.out, "problem: block 1 at file offset 4112: frame record 0 of")) << ver.out;
}

// Issue 6 #11: within a file dump keeps file order; it does not sort. The
// capture's own clock steps back ~13.9 days (record 973), and so does dump.
TEST(LplexDumpVerify, DumpKeepsFileOrderAcrossCaptureClockStep) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{file}, false}, out, err); });
  ASSERT_EQ(dump.rc, 0) << dump.err;
  int64_t prev = INT64_MIN;
  int64_t biggest_step_back = 0;
  size_t at = 0;
  while (at < dump.out.size()) {
    const size_t nl = dump.out.find('\n', at);
    const std::string ts = dump.out.substr(at, dump.out.find(' ', at) - at);
    auto t = timefmt::ParseRfc3339(ts);
    ASSERT_TRUE(t.has_value()) << ts;
    if (prev != INT64_MIN) biggest_step_back = std::max(biggest_step_back, prev - *t);
    prev = *t;
    at = nl + 1;
  }
  constexpr int64_t kDayUs = int64_t{86400} * 1000000;
  EXPECT_GT(biggest_step_back, 13 * kDayUs);
  EXPECT_LT(biggest_step_back, 15 * kDayUs);
}

// Across files dump merges by timestamp: each output line is the earliest
// of the files' next frames, a tie going to the file named first. Two
// journals of the same capture (whose clock steps back once) show both
// rules: lines pair up while time runs forward, and at the step the first
// file runs ahead until the second catches up.
TEST(LplexDumpVerify, DumpMergesFilesByTimestamp) {
  TempDir a;
  TempDir b;
  const std::string fa = ImportCan01(a, "zstd", 65536);
  const std::string fb = ImportCan01(b, "none", 65536);
  auto text = [](const std::vector<std::string>& paths) {
    return Capture([&](std::FILE* out, std::FILE* err) { return RunDump({paths, false}, out, err); });
  };
  const Captured one = text({fa});
  const Captured both = text({fa, fb});
  ASSERT_EQ(both.rc, 0) << both.err;
  std::vector<std::string> lines;
  std::vector<int64_t> times;
  for (size_t at = 0; at < one.out.size();) {
    const size_t nl = one.out.find('\n', at);
    lines.push_back(one.out.substr(at, nl + 1 - at));
    times.push_back(*timefmt::ParseRfc3339(one.out.substr(at, one.out.find(' ', at) - at)));
    at = nl + 1;
  }
  std::string expected;
  size_t i = 0;
  size_t j = 0;
  while (i < lines.size() || j < lines.size()) {
    if (j == lines.size() || (i < lines.size() && times[i] <= times[j])) {
      expected += lines[i++];
    } else {
      expected += lines[j++];
    }
  }
  EXPECT_EQ(both.out, expected);
  EXPECT_EQ(both.out.substr(0, 2 * lines[0].size()), lines[0] + lines[0]) << "a tie: file order";
}

}  // namespace
}  // namespace lplex::cli
