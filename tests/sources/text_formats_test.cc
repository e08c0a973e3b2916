// The candump and Yacht Devices RAW readers against hand-written input:
// malformed lines, line endings, timestamps, buffer boundaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/time.h"
#include "sources/capture_reader.h"
#include "test_util.h"

namespace lplex::sources {
namespace {

using testing::FromTextOrDie;
using testing::Payload;
using testing::ReadAll;
using ByteVec = std::vector<uint8_t>;

// "file:line: reason" of every problem, for compact assertions.
std::vector<std::string> ProblemStrings(const CaptureReader& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems()) out.push_back(p.ToString());
  return out;
}

bool Contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST(CaptureFormatNames, RoundTripAndError) {
  for (CaptureFormat f : {CaptureFormat::kAuto, CaptureFormat::kPcap, CaptureFormat::kCandump, CaptureFormat::kYdRaw}) {
    auto parsed = ParseCaptureFormat(CaptureFormatName(f));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, f);
  }
  auto bad = ParseCaptureFormat("pcapng");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown capture format \"pcapng\"; valid formats are auto, pcap, candump, ydraw");
}

TEST(CandumpLog, MalformedLinesAreReportedAndSkipped) {
  const std::string text =
      "(1502984866.000001) can0 09F112CC#0102\n"         // 1 ok
      "(1502984866.000002) can0 09F112CC#01ZZ\n"         // 2 bad hex
      "(1502984866.000003) can0 09F112CC#010203040506070809\n"  // 3 too many bytes
      "(1502984866.000004) can0\n"                        // 4 missing frame
      "(1502984866.000005) can0 3FFFFFFF#00\n"            // 5 id too large
      "(1502984866.000006) can0 09F112CC#012\n"           // 6 odd digits
      "(1502984866.000007) can0 09F112CC0102\n"           // 7 no '#'
      "(15029848x6.000008) can0 09F112CC#01\n"            // 8 bad time
      "(1502984866.000009) can0 09F112CC#01 junk\n"       // 9 trailing text
      "(1502984866.000010) can0 123456789#01\n"           // 10 id too long
      "(1502984866.000011) can0 09F112CC##0011\n"         // 11 CAN FD
      "(1502984866.000012) can0 09F112CC#AABB\n";         // 12 ok
  auto r = FromTextOrDie(text, {}, "bad.log");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].timestamp_us, 1502984866000001);
  EXPECT_EQ(frames[1].timestamp_us, 1502984866000012);
  EXPECT_EQ(Payload(frames[1]), (ByteVec{0xAA, 0xBB}));
  EXPECT_TRUE(r->status().ok());
  EXPECT_EQ(ProblemStrings(*r),
            (std::vector<std::string>{
                "bad.log:2: bad hex digit in data '01ZZ'",
                "bad.log:3: too many data bytes in '09F112CC#010203040506070809': 18 hex digits, at most 16",
                "bad.log:4: missing frame like '09F112CC#FF725A' after the interface name",
                "bad.log:5: CAN id 0x3FFFFFFF does not fit in 29 bits (at most 0x1FFFFFFF)",
                "bad.log:6: odd number of hex digits in data '012'",
                "bad.log:7: missing '#' between CAN id and data in '09F112CC0102'",
                "bad.log:8: bad timestamp '(15029848x6.000008)' (want seconds.fraction)",
                "bad.log:9: unexpected text 'junk' after the frame",
                "bad.log:10: CAN id '123456789' has more than 8 hex digits",
                "bad.log:11: CAN FD frame '09F112CC##0011' is not supported",
            }));
}

TEST(CandumpLog, MissingFieldsOnFirstLineReportLineOne) {
  // With the format named, detection cannot fail on a damaged first line.
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = FromTextOrDie("(1.5) can0\n(1.6) can0 123#11\n", o, "x.log");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].timestamp_us, 1'600'000);
  EXPECT_EQ(ProblemStrings(*r), (std::vector<std::string>{"x.log:1: missing frame like '09F112CC#FF725A' after the interface name"}));
}

TEST(CandumpLog, RemoteRequestsAreSkippedAndCounted) {
  auto r = FromTextOrDie("(1.0) can0 18EAFF00#R\n(2.0) can0 18EAFF00#R3\n(3.0) can0 18EEFF01#01\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(r->skipped_remote_frames(), 2u);
  EXPECT_EQ(r->problem_count(), 0u);
}

TEST(CandumpLog, StandardIdsAreNotExtended) {
  auto r = FromTextOrDie("(1.0) can0 123#11\n(2.0) can0 00000123#22\n");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].id, 0x123u);
  EXPECT_FALSE(frames[0].extended);
  EXPECT_EQ(frames[1].id, 0x123u);
  EXPECT_TRUE(frames[1].extended) << "8 digits is candump's extended form";
}

TEST(CandumpLog, DirectionSuffixAndEmptyData) {
  auto r = FromTextOrDie("(1.000001) can0 18EEFF01# R\n(1.000002) can0 18EEFF01#0102 T\n");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].length, 0);
  EXPECT_EQ(Payload(frames[1]), (ByteVec{1, 2}));
}

TEST(CandumpLog, CrlfAndMissingFinalNewline) {
  auto r = FromTextOrDie("(1.0) can0 18EEFF01#01\r\n\r\n(2.0) can0 18EEFF01#02\r\n(3.0) can0 18EEFF01#03");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].data[0], 3);
  EXPECT_EQ(r->problem_count(), 0u);
  EXPECT_EQ(r->bytes_read(), r->total_bytes());
}

TEST(CandumpLog, FractionDigitsBeyondMicrosecondsAreCut) {
  auto r = FromTextOrDie("(10.123456789) can0 18EEFF01#01\n(11.5) can0 18EEFF01#01\n(12) can0 18EEFF01#01\n");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].timestamp_us, 10'123'456);
  EXPECT_EQ(frames[1].timestamp_us, 11'500'000);
  EXPECT_EQ(frames[2].timestamp_us, 12'000'000);
}

TEST(CandumpLog, LinesAcrossBufferRefills) {
  // About 1.8 MB: lines straddle the 1 MiB buffer's refills.
  std::string text;
  constexpr int kLines = 40000;
  for (int i = 0; i < kLines; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "(%d.%06d) can0 %08X#%016X\n", 1600000000 + i / 1000, (i % 1000) * 1000,
                  0x09F80000 + i, i);
    text += line;
  }
  ASSERT_GT(text.size(), size_t{1} << 20);
  auto r = FromTextOrDie(text);
  ASSERT_NE(r, nullptr);
  can::RawFrame f;
  int n = 0;
  while (r->Next(&f)) {
    ASSERT_EQ(f.id, static_cast<uint32_t>(0x09F80000 + n)) << n;
    ASSERT_EQ(f.timestamp_us, int64_t{1600000000 + n / 1000} * 1'000'000 + (n % 1000) * 1000);
    ASSERT_EQ(f.data[7], static_cast<uint8_t>(n));
    ASSERT_EQ(f.data[6], static_cast<uint8_t>(n >> 8));
    ++n;
  }
  EXPECT_EQ(n, kLines);
  EXPECT_EQ(r->problem_count(), 0u);
  EXPECT_EQ(r->bytes_read(), r->total_bytes());
}

TEST(CandumpLog, LineLongerThanTheBufferIsSkipped) {
  std::string text = "(1.0) can0 18EEFF01#01\n(2.0) can0 18EEFF01#";
  text.append(size_t{1200} * 1024, 'A');
  text += "\n(3.0) can0 18EEFF01#03\n";
  auto r = FromTextOrDie(text, {}, "long.log");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].timestamp_us, 3'000'000);
  ASSERT_EQ(r->problem_count(), 1u);
  EXPECT_EQ(r->problems()[0].ToString(), "long.log:2: line longer than 1048576 bytes; skipped");
}

TEST(CandumpDefault, MalformedLinesAreReportedAndSkipped) {
  const std::string text =
      "  can0  09F8027F   [2]  00 FC\n"              // 1 ok
      "  can0  09F8027F   [2]  00 G1\n"              // 2 bad hex
      "  can0  09F8027F   [2]  00 FC 11\n"           // 3 too many bytes
      "  can0  09F8027F   [8]  00 FC\n"              // 4 too few bytes
      "  can0  09F8027F\n"                           // 5 missing length
      "  can0  29F8027F   [1]  00\n"                 // 6 id too large
      "  can0  09F8027F   [9]  00\n"                 // 7 length over 8
      "  can0  09F8027F   8  00\n"                   // 8 length without brackets
      "  can0  09F8027F   [3]  remote request\n"     // 9 RTR: skipped, no problem
      "  can0  09F8027F   [1]  7F   '.'\n";          // 10 ok, candump -a column
  CaptureOptions o;
  o.base_time_us = 5'000'000;
  o.frame_interval_us = 10;
  auto r = FromTextOrDie(text, o, "dflt.txt");
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].timestamp_us, 5'000'000);
  EXPECT_EQ(frames[1].timestamp_us, 5'000'010) << "times count yielded frames, not lines";
  EXPECT_EQ(Payload(frames[1]), (ByteVec{0x7F}));
  EXPECT_EQ(r->skipped_remote_frames(), 1u);
  EXPECT_EQ(ProblemStrings(*r),
            (std::vector<std::string>{
                "dflt.txt:2: bad data byte 'G1' (want two hex digits)",
                "dflt.txt:3: too many data bytes: length says [2] but '11' follows",
                "dflt.txt:4: length says [8] but only 2 data bytes follow",
                "dflt.txt:5: missing length like '[8]' after the CAN id",
                "dflt.txt:6: CAN id 0x29F8027F does not fit in 29 bits (at most 0x1FFFFFFF)",
                "dflt.txt:7: length '[9]' is over 8 (CAN FD frames are not supported)",
                "dflt.txt:8: expected a length like '[8]' after the CAN id, got '8'",
            }));
}

TEST(CandumpDefault, TimestampedStyle) {
  auto r = FromTextOrDie(
      "(1502984866.421964)  can0  09F8027F   [8]  00 FC FF FF 00 00 FF FF\n"
      "(1502984866.422000)  can0  123   [1]  01\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump -ta");
  EXPECT_TRUE(r->has_timestamps());
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].timestamp_us, 1502984866421964);
  EXPECT_EQ(frames[0].id, 0x09F8027Fu);
  EXPECT_FALSE(frames[1].extended);
}

TEST(CandumpAngle, MalformedLinesAreReportedAndSkipped) {
  const std::string text =
      "<0x18eeff01> [2] 05 a0\n"      // 1 ok
      "<0x18eeff0g> [2] 05 a0\n"      // 2 bad id hex
      "<0x18eeff01> [2] 05 a0 ff\n"   // 3 too many bytes
      "<0x18eeff01>\n"                // 4 missing fields
      "<0x7fffffff> [1] 00\n"         // 5 id too large
      "18eeff01 [1] 00\n"             // 6 not angle style at all
      "<0x18eeff01> [1] 5\n";         // 7 one hex digit
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = FromTextOrDie(text, o, "angle.txt");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump angle-bracket");
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(ProblemStrings(*r),
            (std::vector<std::string>{
                "angle.txt:2: CAN id '18eeff0g' is not hexadecimal",
                "angle.txt:3: too many data bytes: length says [2] but 'ff' follows",
                "angle.txt:4: missing length like '[8]' after the CAN id",
                "angle.txt:5: CAN id 0x7FFFFFFF does not fit in 29 bits (at most 0x1FFFFFFF)",
                "angle.txt:6: expected a CAN id like '<0x18eeff01>', got '18eeff01'",
                "angle.txt:7: bad data byte '5' (want two hex digits)",
            }));
}

TEST(Candump, LineOfAnotherStyleSaysSo) {
  auto r = FromTextOrDie("(1.0) can0 18EEFF01#01\n  can0  18EEFF01   [1]  01\n", {}, "mix.log");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(ProblemStrings(*r),
            (std::vector<std::string>{
                "mix.log:2: line is in candump default style but the file started in candump -l style"}));
}

TEST(Candump, CommentsBlankLinesAndBannerAreIgnored) {
  auto r = FromTextOrDie(
      "# a comment\n\n   \ninterface = can0, family = 29, type = 3, proto = 1\n<0x18eeff01> [1] 05\n  # indented\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(r->problem_count(), 0u);
}

TEST(Candump, DetectionSurvivesADamagedFirstLine) {
  auto r = FromTextOrDie("(1.0) can0 18EEFF01#0\n(2.0) can0 18EEFF01#01\n", {}, "d.log");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump -l");
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(ProblemStrings(*r), (std::vector<std::string>{"d.log:1: odd number of hex digits in data '0'"}));
}

TEST(Candump, ExplicitFormatWithoutRecognisableLines) {
  // Nothing candump-like in the lines detection looks at: the style is
  // decided by the first line that parses.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "hello\n";
  text += "(1.0) can0 18EEFF01#01\nhello\n";
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = FromTextOrDie(text, o, "h.txt");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "candump");
  EXPECT_FALSE(r->has_timestamps());
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(r->dialect(), "candump -l");
  EXPECT_TRUE(r->has_timestamps());
  ASSERT_EQ(r->problem_count(), 41u);
  EXPECT_EQ(r->problems()[0].ToString(), "h.txt:1: not a candump line: 'hello'");
  EXPECT_EQ(r->problems()[40].ToString(),
            "h.txt:42: expected a timestamp like '(1502984866.421964)', got 'hello'");
}

TEST(YdRaw, MalformedLinesAreReportedAndSkipped) {
  const std::string text =
      "00:29:58.617 R 0DFF180D A2 8C\r\n"                      // 1 ok
      "00:29:58.618 R 0DFF180D A2 8X\r\n"                      // 2 bad hex
      "00:29:58.619 R 0DFF180D 01 02 03 04 05 06 07 08 09\r\n"  // 3 too many bytes
      "00:29:58.620 R\r\n"                                     // 4 missing id
      "00:29:58.621 R 2DFF180D 01\r\n"                         // 5 id too large
      "00:29:58.622 X 0DFF180D 01\r\n"                         // 6 bad direction
      "24:00:00.000 R 0DFF180D 01\r\n"                         // 7 bad time
      "00:29:58.623 T 09F8020D 01 02\r\n";                     // 8 ok, transmitted
  CaptureOptions o;
  o.base_time_us = *timefmt::ParseRfc3339("2020-07-04T12:00:00Z");
  auto r = FromTextOrDie(text, o, "y.raw");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->format(), CaptureFormat::kYdRaw);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].timestamp_us, *timefmt::ParseRfc3339("2020-07-04T00:29:58.617Z"));
  EXPECT_EQ(Payload(frames[0]), (ByteVec{0xA2, 0x8C}));
  EXPECT_EQ(frames[1].id, 0x09F8020Du);
  EXPECT_EQ(frames[1].timestamp_us, *timefmt::ParseRfc3339("2020-07-04T00:29:58.623Z"));
  EXPECT_EQ(ProblemStrings(*r),
            (std::vector<std::string>{
                "y.raw:2: bad data byte '8X' (want two hex digits)",
                "y.raw:3: too many data bytes: '09' after 8",
                "y.raw:4: missing CAN id",
                "y.raw:5: CAN id 0x2DFF180D does not fit in 29 bits (at most 0x1FFFFFFF)",
                "y.raw:6: expected direction 'R' or 'T' after the time, got 'X'",
                "y.raw:7: expected a time of day like '00:29:58.617', got '24:00:00.000'",
            }));
}

TEST(YdRaw, MidnightRolloverAdvancesTheDate) {
  CaptureOptions o;
  o.base_time_us = *timefmt::ParseRfc3339("2020-12-31T23:00:00Z");
  auto r = FromTextOrDie(
      "23:59:59.900 R 09F8020D 01\n"
      "23:59:59.800 R 09F8020D 02\n"  // a small step back: same day
      "00:00:00.100 R 09F8020D 03\n"  // midnight passed
      "00:00:00.050 R 09F8020D 04\n",
      o);
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].timestamp_us, *timefmt::ParseRfc3339("2020-12-31T23:59:59.9Z"));
  EXPECT_EQ(frames[1].timestamp_us, *timefmt::ParseRfc3339("2020-12-31T23:59:59.8Z"));
  EXPECT_EQ(frames[2].timestamp_us, *timefmt::ParseRfc3339("2021-01-01T00:00:00.1Z"));
  EXPECT_EQ(frames[3].timestamp_us, *timefmt::ParseRfc3339("2021-01-01T00:00:00.05Z"));
}

TEST(YdRaw, BaseTimeBeforeEpochUsesItsOwnDay) {
  CaptureOptions o;
  o.base_time_us = -1;  // 1969-12-31T23:59:59.999999Z
  auto r = FromTextOrDie("01:00:00.000 R 09F8020D 01\n", o);
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].timestamp_us, *timefmt::ParseRfc3339("1969-12-31T01:00:00Z"));
}

TEST(AutoDetect, EmptyInputIsAnError) {
  auto r = CaptureReader::FromBytes("empty.log", {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "empty.log is empty")) << r.status().ToString();
}

TEST(AutoDetect, EmptyInputWithExplicitTextFormatYieldsNothing) {
  for (CaptureFormat f : {CaptureFormat::kCandump, CaptureFormat::kYdRaw}) {
    CaptureOptions o;
    o.format = f;
    auto r = FromTextOrDie("", o);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(ReadAll(*r).empty());
    EXPECT_TRUE(r->status().ok());
    EXPECT_EQ(r->problem_count(), 0u);
  }
}

TEST(AutoDetect, CandumpStyleBeyondDetectionIsSettledByFirstFrame) {
  // The contract lplex import relies on: needs_base_time() may say "untimed"
  // until the first frame shows the style; after it, the answer is final.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "junk " + std::to_string(i) + "\n";
  text += "(1502984866.421964) can0 09F8027F#00FC\n";
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = FromTextOrDie(text, o);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->needs_base_time());
  can::RawFrame f;
  ASSERT_TRUE(r->Next(&f));
  EXPECT_FALSE(r->needs_base_time());
  EXPECT_EQ(f.timestamp_us, 1502984866421964);
}

TEST(AutoDetect, CommentsOnlyIsAnError) {
  auto r = CaptureReader::FromBytes("c.log", testing::Bytes("# nothing here\n\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "no frame lines")) << r.status().ToString();
}

TEST(AutoDetect, UnknownTextNamesTheFirstLine) {
  auto r = CaptureReader::FromBytes("n.csv", testing::Bytes("# header\ntime,id,data\n1,2,3\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "n.csv: not a recognised capture: line 2 'time,id,data'"))
      << r.status().ToString();
}

TEST(AutoDetect, BinaryGarbageIsQuotedSafely) {
  auto r = CaptureReader::FromBytes("g.bin", ByteVec{0x00, 0x01, 0xFF, 'a', '\n'}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "line 1 '???a'")) << r.status().ToString();
}

TEST(Problems, StorageIsCappedButAllAreCountedAndHandled) {
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "(1.0) can0 18EEFF01#0\n";
  text += "(2.0) can0 18EEFF01#01\n";
  CaptureOptions o;
  o.format = CaptureFormat::kCandump;
  auto r = FromTextOrDie(text, o, "many.log");
  ASSERT_NE(r, nullptr);
  uint64_t handled = 0;
  uint64_t last_line = 0;
  r->set_problem_handler([&](const CaptureProblem& p) {
    ++handled;
    last_line = p.line;
  });
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_EQ(r->problem_count(), 1500u);
  EXPECT_EQ(handled, 1500u);
  EXPECT_EQ(last_line, 1500u);
  EXPECT_EQ(r->problems().size(), CaptureReader::kMaxStoredProblems);
}

TEST(Progress, BytesReadGrowsToTotal) {
  auto r = FromTextOrDie("(1.0) can0 18EEFF01#01\n(2.0) can0 18EEFF01#02\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->total_bytes(), 46u);
  can::RawFrame f;
  ASSERT_TRUE(r->Next(&f));
  EXPECT_EQ(r->bytes_read(), 23u);
  ASSERT_TRUE(r->Next(&f));
  EXPECT_FALSE(r->Next(&f));
  EXPECT_EQ(r->bytes_read(), 46u);
}

// A file system whose files hold `content` and fail every read at or past `fail_at`.
class FailingReadFileSystem final : public FileSystem {
 public:
  FailingReadFileSystem(std::string content, uint64_t fail_at) : content_(std::move(content)), fail_at_(fail_at) {}

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string&) override {
    return std::unique_ptr<RandomAccessFile>(new File(this));
  }
  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string&) override { return Unsupported(); }
  Status CreateDirs(const std::string&) override { return Unsupported(); }
  Result<std::vector<DirEntry>> ListDir(const std::string&) override { return Unsupported(); }
  Result<uint64_t> FileSize(const std::string&) override { return uint64_t{content_.size()}; }
  bool Exists(const std::string&) override { return true; }
  Status RemoveFile(const std::string&) override { return Unsupported(); }
  Status RenameFile(const std::string&, const std::string&) override { return Unsupported(); }
  Status SyncDir(const std::string&) override { return Unsupported(); }
  bool IsBeingWritten(const std::string&) override { return false; }

 private:
  static Status Unsupported() { return Status::Unsupported("not in this test"); }

  class File final : public RandomAccessFile {
   public:
    explicit File(const FailingReadFileSystem* fs) : fs_(fs) {}
    Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override {
      if (offset >= fs_->fail_at_) return Status::IOError("read: Input/output error");
      size_t take = std::min<size_t>(n, fs_->content_.size() - offset);
      std::memcpy(scratch, fs_->content_.data() + offset, take);
      return take;
    }
    Result<uint64_t> Size() const override { return uint64_t{fs_->content_.size()}; }

   private:
    const FailingReadFileSystem* fs_;
  };

  std::string content_;
  uint64_t fail_at_;
};

TEST(ReadErrors, IoErrorIsFatalAndEarlierFramesAreKept) {
  std::string text;
  while (text.size() < 1'500'000) text += "(1.0) can0 18EEFF01#0102030405060708\n";  // 37 bytes a line
  FailingReadFileSystem fs(text, /*fail_at=*/1 << 20);
  auto r = CaptureReader::Open("disk.log", {}, &fs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto frames = ReadAll(**r);
  EXPECT_EQ(frames.size(), (size_t{1} << 20) / 37) << "every whole line of the first buffer";
  EXPECT_TRUE((*r)->status().IsIOError());
  EXPECT_EQ((*r)->status().message(), "disk.log: read: Input/output error");
  can::RawFrame f;
  EXPECT_FALSE((*r)->Next(&f));
}

TEST(ReadErrors, PcapIoErrorIsFatal) {
  // A pcap header and then records; reads past 1 MiB fail.
  std::string bytes("\xD4\xC3\xB2\xA1\x02\x00\x04\x00", 8);
  bytes.append(12, '\0');
  bytes.append("\xE3\x00\x00\x00", 4);
  const std::string record("\x01\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00"
                           "\x98\xEE\xFF\x01\x08\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08",
                           32);
  while (bytes.size() < 1'500'000) bytes += record;
  FailingReadFileSystem fs(bytes, /*fail_at=*/1 << 20);
  auto r = CaptureReader::Open("disk.pcap", {}, &fs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto frames = ReadAll(**r);
  EXPECT_EQ(frames.size(), ((size_t{1} << 20) - 24) / 32);
  EXPECT_TRUE((*r)->status().IsIOError()) << (*r)->status().ToString();
}

}  // namespace
}  // namespace lplex::sources
