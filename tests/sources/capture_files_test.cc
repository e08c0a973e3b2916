// The readers against the real bus captures in ../shared/data/captures.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "core/endian.h"
#include "core/time.h"
#include "sources/capture_reader.h"
#include "test_util.h"

namespace lplex::sources {
namespace {

using testing::CapturePath;
using testing::OpenOrDie;
using testing::Payload;
using testing::ReadAll;

using ByteVec = std::vector<uint8_t>;

int64_t Rfc3339(std::string_view s) {
  auto t = timefmt::ParseRfc3339(s);
  EXPECT_TRUE(t.has_value()) << s;
  return t.value_or(0);
}

// Fails the test with every stored problem, so a regression names the lines.
void ExpectNoProblems(const CaptureReader& r) {
  EXPECT_EQ(r.problem_count(), 0u);
  for (const auto& p : r.problems()) ADD_FAILURE() << p.ToString();
  EXPECT_TRUE(r.status().ok()) << r.status().ToString();
}

TEST(CaptureFiles, CandumpAngleBracketSample1) {
  CaptureOptions o;
  o.base_time_us = Rfc3339("2016-01-01T00:00:00Z");
  auto r = OpenOrDie(CapturePath("candumpSample1.txt"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->format(), CaptureFormat::kCandump);
  EXPECT_EQ(r->dialect(), "candump angle-bracket");
  EXPECT_FALSE(r->has_timestamps());
  EXPECT_TRUE(r->needs_base_time());
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 6026u);
  // <0x18eeff01> [8] 05 a0 be 1c 00 a0 a0 c0
  EXPECT_EQ(frames.front().id, 0x18eeff01u);
  EXPECT_TRUE(frames.front().extended);
  EXPECT_EQ(Payload(frames.front()), (ByteVec{0x05, 0xa0, 0xbe, 0x1c, 0x00, 0xa0, 0xa0, 0xc0}));
  EXPECT_EQ(frames.front().timestamp_us, o.base_time_us);
  // <0x09f80100> [8] 04 7e 54 19 24 33 55 d5
  EXPECT_EQ(frames.back().id, 0x09f80100u);
  EXPECT_EQ(Payload(frames.back()), (ByteVec{0x04, 0x7e, 0x54, 0x19, 0x24, 0x33, 0x55, 0xd5}));
  EXPECT_EQ(frames.back().timestamp_us, o.base_time_us + 6025 * 1000);
  // The power-up sequence has a few short frames ("[3]" address claims requests).
  size_t short_frames = 0;
  for (const auto& f : frames) short_frames += f.length < 8;
  EXPECT_EQ(short_frames, 9u);
}

TEST(CaptureFiles, CandumpDefaultSample2) {
  CaptureOptions o;
  o.base_time_us = 1'000'000'000'000'000;
  o.frame_interval_us = 250;
  auto r = OpenOrDie(CapturePath("candumpSample2.txt"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump default");
  EXPECT_FALSE(r->has_timestamps());
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 402u);
  //   can0  09F8027F   [8]  00 FC FF FF 00 00 FF FF
  EXPECT_EQ(frames.front().id, 0x09F8027Fu);
  EXPECT_EQ(Payload(frames.front()), (ByteVec{0x00, 0xFC, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF}));
  //   can0  0DF11980   [8]  00 FF 7F 9C 00 08 00 FF
  EXPECT_EQ(frames.back().id, 0x0DF11980u);
  EXPECT_EQ(Payload(frames.back()), (ByteVec{0x00, 0xFF, 0x7F, 0x9C, 0x00, 0x08, 0x00, 0xFF}));
  EXPECT_EQ(frames.back().timestamp_us, o.base_time_us + 401 * 250);
}

TEST(CaptureFiles, CandumpLogSample3) {
  auto r = OpenOrDie(CapturePath("candumpSample3.txt"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump -l");
  EXPECT_TRUE(r->has_timestamps());
  EXPECT_FALSE(r->needs_base_time());
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 2368u);
  // (1502984866.421964) slcan0 09F112CC#FF725AFF7FFF7FFD
  EXPECT_EQ(frames.front().timestamp_us, 1502984866421964);
  EXPECT_EQ(frames.front().id, 0x09F112CCu);
  EXPECT_EQ(Payload(frames.front()), (ByteVec{0xFF, 0x72, 0x5A, 0xFF, 0x7F, 0xFF, 0x7F, 0xFD}));
  // (1502984883.826292) slcan0 09F119CC#FF765ACCF7F804FF  (no final newline)
  EXPECT_EQ(frames.back().timestamp_us, 1502984883826292);
  EXPECT_EQ(frames.back().id, 0x09F119CCu);
  EXPECT_EQ(Payload(frames.back()), (ByteVec{0xFF, 0x76, 0x5A, 0xCC, 0xF7, 0xF8, 0x04, 0xFF}));
  EXPECT_EQ(r->bytes_read(), r->total_bytes());
}

TEST(CaptureFiles, CandumpLogWithCrlfActisense) {
  auto r = OpenOrDie(CapturePath("actisense-522.candump.log"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump -l");
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 106u);
  // (1745600961.335462) can0 11FC1063#003DFFFF02000100
  EXPECT_EQ(frames.front().timestamp_us, 1745600961335462);
  EXPECT_EQ(frames.front().id, 0x11FC1063u);
  EXPECT_EQ(Payload(frames.front()), (ByteVec{0x00, 0x3D, 0xFF, 0xFF, 0x02, 0x00, 0x01, 0x00}));
  // (1745600961.338397) can0 11FB1063#0B6E61FFFFFFFFFF
  EXPECT_EQ(frames.back().timestamp_us, 1745600961338397);
  EXPECT_EQ(frames.back().id, 0x11FB1063u);
  EXPECT_EQ(Payload(frames.back()), (ByteVec{0x0B, 0x6E, 0x61, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(CaptureFiles, CandumpLogFastPacketFixture) {
  auto r = OpenOrDie(CapturePath("candump-fast.txt"));
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 23u);
  // (0000000000.352000) vcan0 09F20101#601A00B706670D0B
  EXPECT_EQ(frames.front().timestamp_us, 352000);
  EXPECT_EQ(frames.front().id, 0x09F20101u);
  EXPECT_EQ(frames.back().timestamp_us, 1502000);
}

TEST(CaptureFiles, YachtDevicesRawMerrimac) {
  CaptureOptions o;
  o.base_time_us = Rfc3339("2020-07-04T15:00:00Z");  // any time that day
  auto r = OpenOrDie(CapturePath("merrimac-ydwg-2020.raw"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->format(), CaptureFormat::kYdRaw);
  EXPECT_TRUE(r->has_timestamps());
  EXPECT_TRUE(r->time_of_day_only());
  EXPECT_TRUE(r->needs_base_time());
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  ASSERT_EQ(frames.size(), 914u);
  // 00:29:58.617 R 0DFF180D A2 8C 50 C0 FF FF FF FF
  EXPECT_EQ(frames.front().timestamp_us, Rfc3339("2020-07-04T00:29:58.617Z"));
  EXPECT_EQ(frames.front().id, 0x0DFF180Du);
  EXPECT_TRUE(frames.front().extended);
  EXPECT_EQ(Payload(frames.front()), (ByteVec{0xA2, 0x8C, 0x50, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF}));
  // 00:30:01.140 R 1DFB012D 43 00 95 2B 7F 00 FC FF
  EXPECT_EQ(frames.back().timestamp_us, Rfc3339("2020-07-04T00:30:01.140Z"));
  EXPECT_EQ(frames.back().id, 0x1DFB012Du);
}

// The expected frames of a pcap, worked out here by walking the record
// headers directly rather than through the reader.
struct PcapWalk {
  size_t records = 0;
  uint32_t first_sec = 0, first_usec = 0;
  std::vector<uint8_t> first_record;
};

PcapWalk WalkPcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PcapWalk w;
  EXPECT_GE(d.size(), 24u);
  EXPECT_EQ(le::Load32(d.data()), 0xA1B2C3D4u) << "these captures are little-endian, microsecond";
  size_t off = 24;
  while (off + 16 <= d.size()) {
    uint32_t incl = le::Load32(&d[off + 8]);
    if (w.records == 0) {
      w.first_sec = le::Load32(&d[off]);
      w.first_usec = le::Load32(&d[off + 4]);
      w.first_record.assign(d.begin() + static_cast<ptrdiff_t>(off + 16),
                            d.begin() + static_cast<ptrdiff_t>(off + 16 + incl));
    }
    off += 16 + incl;
    ++w.records;
  }
  EXPECT_EQ(off, d.size()) << "the capture should end on a record boundary";
  return w;
}

void CheckPcap(const std::string& file) {
  SCOPED_TRACE(file);
  PcapWalk w = WalkPcap(CapturePath(file));
  ASSERT_GT(w.records, 40000u);  // ~800 frames/s for 60 s
  ASSERT_EQ(w.first_record.size(), 16u);

  auto r = OpenOrDie(CapturePath(file));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->format(), CaptureFormat::kPcap);
  EXPECT_EQ(r->dialect(), "pcap");
  EXPECT_TRUE(r->has_timestamps());
  auto frames = ReadAll(*r);
  ExpectNoProblems(*r);
  EXPECT_EQ(frames.size() + r->skipped_error_frames() + r->skipped_remote_frames(), w.records);
  EXPECT_EQ(r->skipped_error_frames() + r->skipped_remote_frames(), 0u) << "a clean capture: only data frames";
  ASSERT_FALSE(frames.empty());
  const can::RawFrame& f = frames.front();
  EXPECT_EQ(f.timestamp_us, int64_t{w.first_sec} * 1'000'000 + w.first_usec);
  uint32_t raw_id = uint32_t{w.first_record[0]} << 24 | uint32_t{w.first_record[1]} << 16 |
                    uint32_t{w.first_record[2]} << 8 | w.first_record[3];
  EXPECT_EQ(f.id, raw_id & 0x1FFFFFFF);
  EXPECT_TRUE(f.extended);
  EXPECT_EQ(f.length, w.first_record[4]);
  EXPECT_EQ(Payload(f), ByteVec(w.first_record.begin() + 8, w.first_record.begin() + 8 + f.length));
  EXPECT_EQ(r->bytes_read(), r->total_bytes());
}

TEST(CaptureFiles, PcapSocketCanCan0Part1) {
  CheckPcap("can0-1.pcap");
  // Pinned from a hex dump of the file: record 1 is 99 F0 14 2B | 08 | 00 00 00 | 0F 37 37 31 38 31 20 20.
  auto r = OpenOrDie(CapturePath("can0-1.pcap"));
  ASSERT_NE(r, nullptr);
  can::RawFrame f;
  ASSERT_TRUE(r->Next(&f));
  EXPECT_EQ(f.timestamp_us, 1669809629672944);
  EXPECT_EQ(f.id, 0x19F0142Bu);
  EXPECT_EQ(Payload(f), (ByteVec{0x0F, 0x37, 0x37, 0x31, 0x38, 0x31, 0x20, 0x20}));
}

TEST(CaptureFiles, PcapSocketCanCan0Part2) { CheckPcap("can0-2.pcap"); }

TEST(CaptureFiles, AutoDetectionPerFile) {
  struct Case {
    const char* file;
    CaptureFormat format;
    std::string_view dialect;
  };
  const Case cases[] = {
      {"can0-1.pcap", CaptureFormat::kPcap, "pcap"},
      {"can0-2.pcap", CaptureFormat::kPcap, "pcap"},
      {"candumpSample1.txt", CaptureFormat::kCandump, "candump angle-bracket"},
      {"candumpSample2.txt", CaptureFormat::kCandump, "candump default"},
      {"candumpSample3.txt", CaptureFormat::kCandump, "candump -l"},
      {"actisense-522.candump.log", CaptureFormat::kCandump, "candump -l"},
      {"candump-fast.txt", CaptureFormat::kCandump, "candump -l"},
      {"merrimac-ydwg-2020.raw", CaptureFormat::kYdRaw, "Yacht Devices RAW"},
  };
  for (const Case& c : cases) {
    auto r = OpenOrDie(CapturePath(c.file));
    ASSERT_NE(r, nullptr) << c.file;
    EXPECT_EQ(r->format(), c.format) << c.file;
    EXPECT_EQ(r->dialect(), c.dialect) << c.file;
  }
}

TEST(CaptureFiles, ExplicitFormatMatchesAutoDetection) {
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = OpenOrDie(CapturePath("candumpSample2.txt"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump default");
  EXPECT_EQ(ReadAll(*r).size(), 402u);
}

TEST(CaptureFiles, WrongExplicitFormatReportsEveryLine) {
  CaptureOptions o;
  o.format = CaptureFormat::kYdRaw;
  auto r = OpenOrDie(CapturePath("actisense-522.candump.log"), o);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(ReadAll(*r).empty());
  EXPECT_EQ(r->problem_count(), 106u);
  ASSERT_FALSE(r->problems().empty());
  EXPECT_EQ(r->problems()[0].line, 1u);
  EXPECT_NE(r->problems()[0].reason.find("time of day"), std::string::npos) << r->problems()[0].reason;
}

TEST(CaptureFiles, PcapForcedOnTextFails) {
  CaptureOptions o;
  o.format = CaptureFormat::kPcap;
  auto r = CaptureReader::Open(CapturePath("candumpSample3.txt"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not a pcap magic"), std::string::npos) << r.status().ToString();
}

TEST(CaptureFiles, MissingFileIsNotFound) {
  auto r = CaptureReader::Open(CapturePath("no-such-capture.log"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

}  // namespace
}  // namespace lplex::sources
