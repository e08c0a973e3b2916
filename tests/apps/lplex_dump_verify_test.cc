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
#include "journal/journal_test_util.h"
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
  return Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {path}, .json = true}, out, err); });
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
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {file}, .json = false}, out, err); });
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
    return Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = paths, .json = false}, out, err); });
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


// ---------------------------------------------------------------------------
// Newcomer retest (issue 6): the read side.

namespace retest {

Captured DumpArgs(const std::vector<std::string>& paths, bool json = true) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = paths, .json = json}, out, err); });
}

// `lplex dump F F` printed every frame twice.
TEST(LplexDumpVerify, DumpReadsFileGivenTwiceOnce) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  const Captured once = Dump(file);
  const Captured twice = DumpArgs({file, file});
  EXPECT_EQ(twice.rc, 0) << twice.err;
  EXPECT_EQ(twice.out, once.out);
  EXPECT_TRUE(Has(twice.err, "lplex dump: " + file + ": given more than once; read once")) << twice.err;
}

// `lplex dump DIR DIR/F`: the same file by another name.
TEST(LplexDumpVerify, DumpReadsDirAndFileInsideItOnce) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  const Captured once = Dump(file);
  const Captured both = DumpArgs({dir.path(), dir.path() + "//" + fs::path(file).filename().string()});
  EXPECT_EQ(both.rc, 0) << both.err;
  EXPECT_EQ(Lines(both.out), Lines(once.out));
  EXPECT_EQ(std::count(both.err.begin(), both.err.end(), '\n'), 1) << both.err;
  auto ver = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({dir.path(), file}, out, err); });
  EXPECT_EQ(ver.rc, 0) << ver.out << ver.err;
  EXPECT_EQ(Lines(ver.out), 1) << "one OK line, no \"2 files\" summary:\n" << ver.out;
  EXPECT_TRUE(Has(ver.err, "lplex verify: " + file + ": given more than once; read once")) << ver.err;
}

// Runs fn with stdout on /dev/full (every write fails with ENOSPC).
template <typename Fn>
Captured OnFullDisk(Fn fn) {
  std::FILE* full = std::fopen("/dev/full", "w");
  EXPECT_NE(full, nullptr);
  std::FILE* err = std::tmpfile();
  const int rc = fn(full, err);
  std::fclose(full);
  return {rc, "", lplex::testing::SlurpAndClose(err)};
}

// `lplex dump DIR > /dev/full` exited 0 without a word.
TEST(LplexDumpVerify, DumpReportsWriteErrorOnFullDisk) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  for (bool json : {false, true}) {
    auto r = OnFullDisk([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {dir.path()}, .json = json}, out, err); });
    EXPECT_EQ(r.rc, 1) << json;
    EXPECT_EQ(r.err, "lplex dump: writing output: No space left on device\n") << json;
  }
}

TEST(LplexDumpVerify, VerifyAndInspectReportWriteErrorOnFullDisk) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  auto v = OnFullDisk([&](std::FILE* out, std::FILE* err) { return RunVerify({file}, out, err); });
  EXPECT_EQ(v.rc, 1);
  EXPECT_EQ(v.err, "lplex verify: writing output: No space left on device\n");
  auto i = OnFullDisk([&](std::FILE* out, std::FILE* err) { return RunInspect(file, out, err); });
  EXPECT_EQ(i.rc, 1);
  EXPECT_EQ(i.err, "lplex inspect: writing output: No space left on device\n");
}

// Bit 4 of the byte at size-3 (inside "LPJI"): dump printed every frame but
// called the 600-byte index a cut-off block and exited 1.
TEST(LplexDumpVerify, DumpDamagedIndexMagicLosesNoFrameAndExitsZero) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 8192);
  const Captured clean = Dump(file);
  std::vector<uint8_t> b = ReadBytes(file);
  const size_t index_len = ReadIndex(b).offsets.size() * 8 + 8;
  b[b.size() - 3] ^= 0x10;
  WriteBytes(file, b);
  auto dump = Dump(file);
  EXPECT_EQ(dump.rc, 0) << dump.err;
  EXPECT_EQ(dump.out, clean.out);
  EXPECT_TRUE(Has(dump.err, "lplex dump: warning: " + file + ": " + std::to_string(index_len) +
                                " bytes of trailing data at file offset " + std::to_string(b.size() - index_len) +
                                " that are not a block (a damaged index?"))
      << dump.err;
  EXPECT_FALSE(Has(dump.err, "output incomplete")) << dump.err;
  auto ver = Verify(file);
  EXPECT_EQ(ver.rc, 1) << ver.out;
  EXPECT_TRUE(Has(ver.out, "FAIL (1 problem; " + std::to_string(Lines(clean.out)) + " frames readable)")) << ver.out;
  EXPECT_TRUE(Has(ver.out, "problem: " + std::to_string(index_len) + " bytes of trailing data")) << ver.out;
}

// Data appended after a closed file: every frame, exit 0, a warning.
TEST(LplexDumpVerify, DumpGarbageAfterClosedFileLosesNoFrameAndExitsZero) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd-dict", 8192);
  const Captured clean = Dump(file);
  std::vector<uint8_t> b = ReadBytes(file);
  for (int i = 0; i < 2429; ++i) b.push_back(static_cast<uint8_t>(i * 151 + 3));
  WriteBytes(file, b);
  auto dump = Dump(file);
  EXPECT_EQ(dump.rc, 0) << dump.err;
  EXPECT_EQ(dump.out, clean.out);
  EXPECT_TRUE(Has(dump.err, "2429 bytes of trailing data")) << dump.err;
  EXPECT_EQ(Verify(file).rc, 1);
}

// `lplex inspect: X: corruption: X: …`
TEST(LplexDumpVerify, InspectNamesPathOnce) {
  TempDir dir;
  const std::string file = dir.path() + "/bad.lpj";
  WriteBytes(file, std::vector<uint8_t>(64, 'x'));
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunInspect(file, out, err); });
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "lplex inspect: " + file + ": not a journal file (bad magic)\n");
}

// The empty-directory message had the prefix "lplex:".
TEST(LplexDumpVerify, EmptyDirectoryMessageNamesCommand) {
  TempDir dir;
  auto d = DumpArgs({dir.path()});
  EXPECT_EQ(d.rc, 2);
  EXPECT_TRUE(Has(d.err, "lplex dump: no .lpj files in " + dir.path() + "\n")) << d.err;
  auto v = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({dir.path()}, out, err); });
  EXPECT_EQ(v.rc, 2);
  EXPECT_TRUE(Has(v.err, "lplex verify: no .lpj files in " + dir.path() + "\n")) << v.err;
}

// Text dump printed "12:00:29.67544Z" next to "12:00:29.675428Z"; the JSON
// form keeps Go's RFC3339Nano (trailing zeros dropped).
TEST(LplexDumpVerify, DumpTextPrintsSixFractionDigits) {
  TempDir dir;
  const std::string file = ImportCan01(dir, "zstd", 65536);
  auto text = DumpArgs({file}, false);
  ASSERT_EQ(text.rc, 0);
  size_t lines = 0;
  for (size_t at = 0; at < text.out.size(); at = text.out.find('\n', at) + 1) {
    // "YYYY-MM-DDTHH:MM:SS.ffffffZ " is 28 characters.
    ASSERT_EQ(text.out.compare(at + 19, 1, "."), 0) << text.out.substr(at, 40);
    ASSERT_EQ(text.out.compare(at + 26, 2, "Z "), 0) << text.out.substr(at, 40);
    ++lines;
  }
  EXPECT_EQ(lines, static_cast<size_t>(Lines(text.out)));
  EXPECT_TRUE(Has(text.out, "0Z seq=")) << "some time ends in a zero digit";
  auto json = DumpArgs({file}, true);
  EXPECT_FALSE(Has(json.out, "0Z\"")) << "JSON keeps RFC3339Nano";
}

// A device with long strings pushed "from block" out of its column.
TEST(LplexDumpVerify, InspectFromBlockColumnStaysAlignedForLongDeviceStrings) {
  using namespace journal::testutil;  // NOLINT: test vectors
  VectorJournal j(2, 4096, journal::Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = 1'700'000'000'000'000;
  blk.frames = VectorFrames(0, 3, 1);
  blk.devices = {VectorDevice(1, 0x1111, 0, 10, "short"),
                 VectorDevice(2, 0x2222, 0, 11, std::string(60, 'M'))};
  blk.devices[1].software_version = std::string(40, 'S');
  blk.devices[1].model_serial = std::string(30, 'N');
  j.AddBlock(blk);
  TempDir dir;
  const std::string file = dir.path() + "/dev.lpj";
  WriteBytes(file, j.bytes());
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunInspect(file, out, err); });
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const size_t head = r.out.find(" src NAME");
  ASSERT_NE(head, std::string::npos) << r.out;
  std::vector<std::string> rows;
  for (size_t at = head; at < r.out.size() && r.out[at] != '\n';) {
    const size_t end = r.out.find('\n', at);
    rows.push_back(r.out.substr(at, end - at));
    at = end + 1;
  }
  ASSERT_EQ(rows.size(), 3u) << r.out;
  // "from block" is right-aligned: every row ends in the same column.
  EXPECT_EQ(rows[1].size(), rows[0].size()) << r.out;
  EXPECT_EQ(rows[2].size(), rows[0].size()) << r.out;
}

}  // namespace retest

}  // namespace
}  // namespace lplex::cli
