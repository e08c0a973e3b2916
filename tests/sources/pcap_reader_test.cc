// The pcap reader against hand-built files: byte orders, timestamp
// resolutions, damaged records.
#include <gtest/gtest.h>

#include "sources/capture_reader.h"
#include "test_util.h"

namespace lplex::sources {
namespace {

using testing::Payload;
using testing::ReadAll;
using ByteVec = std::vector<uint8_t>;

constexpr uint32_t kEff = 0x80000000;
constexpr uint32_t kRtr = 0x40000000;
constexpr uint32_t kErr = 0x20000000;

// Builds a pcap file in either byte order.
class PcapBuilder {
 public:
  explicit PcapBuilder(bool big_endian = false, bool nanos = false, uint32_t link_type = 227)
      : big_endian_(big_endian) {
    Put32(nanos ? 0xA1B23C4D : 0xA1B2C3D4);
    Put16(2);
    Put16(4);
    Put32(0);  // thiszone
    Put32(0);  // sigfigs
    Put32(262144);
    Put32(link_type);
  }

  // A record whose data is the SocketCAN header and `data`, padded to 8.
  PcapBuilder& Frame(uint32_t sec, uint32_t frac, uint32_t can_id, ByteVec data, uint8_t length_byte = 0xFF) {
    ByteVec rec;
    for (int i = 3; i >= 0; --i) rec.push_back(static_cast<uint8_t>(can_id >> (8 * i)));  // always big-endian
    rec.push_back(length_byte == 0xFF ? static_cast<uint8_t>(data.size()) : length_byte);
    rec.insert(rec.end(), {0, 0, 0});
    rec.insert(rec.end(), data.begin(), data.end());
    while (rec.size() < 16) rec.push_back(0);
    return Record(sec, frac, rec);
  }

  PcapBuilder& Record(uint32_t sec, uint32_t frac, const ByteVec& rec, uint32_t incl_len = 0xFFFFFFFF) {
    Put32(sec);
    Put32(frac);
    Put32(incl_len == 0xFFFFFFFF ? static_cast<uint32_t>(rec.size()) : incl_len);
    Put32(static_cast<uint32_t>(rec.size()));
    bytes_.insert(bytes_.end(), rec.begin(), rec.end());
    return *this;
  }

  ByteVec bytes() const { return bytes_; }

 private:
  void Put16(uint16_t v) {
    if (big_endian_) {
      bytes_.push_back(static_cast<uint8_t>(v >> 8));
      bytes_.push_back(static_cast<uint8_t>(v));
    } else {
      bytes_.push_back(static_cast<uint8_t>(v));
      bytes_.push_back(static_cast<uint8_t>(v >> 8));
    }
  }
  void Put32(uint32_t v) {
    if (big_endian_) {
      Put16(static_cast<uint16_t>(v >> 16));
      Put16(static_cast<uint16_t>(v));
    } else {
      Put16(static_cast<uint16_t>(v));
      Put16(static_cast<uint16_t>(v >> 16));
    }
  }

  bool big_endian_;
  ByteVec bytes_;
};

std::unique_ptr<CaptureReader> FromPcap(const ByteVec& bytes, CaptureFormat format = CaptureFormat::kAuto) {
  CaptureOptions o;
  o.format = format;
  auto r = CaptureReader::FromBytes("t.pcap", bytes, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(PcapReader, LittleEndianMicroseconds) {
  auto r = FromPcap(PcapBuilder().Frame(1700000000, 123456, kEff | 0x09F8027F, {1, 2, 3, 4, 5, 6, 7, 8}).bytes());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "pcap");
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].timestamp_us, 1700000000123456);
  EXPECT_EQ(frames[0].id, 0x09F8027Fu);
  EXPECT_TRUE(frames[0].extended);
  EXPECT_EQ(Payload(frames[0]), (ByteVec{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(r->status().ok());
}

TEST(PcapReader, BigEndianNanoseconds) {
  auto r = FromPcap(PcapBuilder(/*big_endian=*/true, /*nanos=*/true)
                        .Frame(1700000000, 123456789, kEff | 0x1DFB012D, {0xAA, 0xBB})
                        .bytes());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->dialect(), "pcap (big-endian, nanosecond)");
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].timestamp_us, 1700000000123456);  // nanoseconds cut to µs
  EXPECT_EQ(frames[0].id, 0x1DFB012Du);
  EXPECT_EQ(Payload(frames[0]), (ByteVec{0xAA, 0xBB}));
}

TEST(PcapReader, StandardIdIsNotExtended) {
  auto r = FromPcap(PcapBuilder().Frame(1, 0, 0x123, {9}).bytes());
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, 0x123u);
  EXPECT_FALSE(frames[0].extended);
}

TEST(PcapReader, ErrorAndRemoteFramesAreSkippedAndCounted) {
  auto r = FromPcap(PcapBuilder()
                        .Frame(1, 0, kEff | kErr | 0x4, {0, 0, 0, 0, 0, 0, 0, 0})
                        .Frame(2, 0, kEff | kRtr | 0x18EAFF00, {}, 3)
                        .Frame(3, 0, kEff | 0x18EEFF01, {1})
                        .bytes());
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, 0x18EEFF01u);
  EXPECT_EQ(r->skipped_error_frames(), 1u);
  EXPECT_EQ(r->skipped_remote_frames(), 1u);
  EXPECT_EQ(r->problem_count(), 0u);
}

TEST(PcapReader, TruncatedMidRecordKeepsEarlierFrames) {
  ByteVec b = PcapBuilder()
                  .Frame(1, 0, kEff | 0x100, {1})
                  .Frame(2, 0, kEff | 0x200, {2})
                  .Frame(3, 0, kEff | 0x300, {3})
                  .bytes();
  b.resize(b.size() - 5);  // cut the last record's data
  auto r = FromPcap(b);
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].id, 0x200u);
  EXPECT_TRUE(r->status().ok()) << "a capture cut off while being written is not fatal";
  ASSERT_EQ(r->problem_count(), 1u);
  const CaptureProblem& p = r->problems()[0];
  EXPECT_TRUE(p.record);
  EXPECT_EQ(p.line, 3u);
  EXPECT_EQ(p.ToString(), "t.pcap: record 3: record cut short: the file ends after 11 of its 16 bytes");
  EXPECT_EQ(r->bytes_read(), r->total_bytes());
}

TEST(PcapReader, TruncatedRecordHeader) {
  ByteVec b = PcapBuilder().Frame(1, 0, kEff | 0x100, {1}).bytes();
  b.insert(b.end(), {1, 2, 3, 4, 5, 6});
  auto r = FromPcap(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  ASSERT_EQ(r->problem_count(), 1u);
  EXPECT_NE(r->problems()[0].reason.find("header cut short"), std::string::npos) << r->problems()[0].reason;
}

TEST(PcapReader, CanFdRecordIsReportedAndSkipped) {
  ByteVec fd(72, 0);
  fd[0] = 0x80;
  fd[4] = 64;
  auto r = FromPcap(PcapBuilder().Record(1, 0, fd).Frame(2, 0, kEff | 0x200, {2}).bytes());
  ASSERT_NE(r, nullptr);
  auto frames = ReadAll(*r);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, 0x200u);
  ASSERT_EQ(r->problem_count(), 1u);
  EXPECT_EQ(r->problems()[0].ToString(),
            "t.pcap: record 1: frame length 64 is over 8 (CAN FD frames are not supported)");
}

TEST(PcapReader, RecordShorterThanItsLength) {
  // Length byte says 8 but the snap length kept only 2 data bytes.
  ByteVec rec = {0x80, 0, 1, 0, 8, 0, 0, 0, 0xAA, 0xBB};
  auto r = FromPcap(PcapBuilder().Record(1, 0, rec).bytes());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(ReadAll(*r).empty());
  ASSERT_EQ(r->problem_count(), 1u);
  EXPECT_NE(r->problems()[0].reason.find("only 2 data bytes"), std::string::npos) << r->problems()[0].reason;
}

TEST(PcapReader, TinyRecordIsReported) {
  auto r = FromPcap(PcapBuilder().Record(1, 0, {1, 2, 3}).Frame(2, 0, kEff | 0x200, {}).bytes());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  ASSERT_EQ(r->problem_count(), 1u);
  EXPECT_NE(r->problems()[0].reason.find("too short"), std::string::npos);
}

TEST(PcapReader, ImpossibleRecordLengthIsFatal) {
  ByteVec b = PcapBuilder().Frame(1, 0, kEff | 0x100, {1}).Record(2, 0, {}, 0x7FFFFFFF).bytes();
  auto r = FromPcap(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReadAll(*r).size(), 1u);
  EXPECT_TRUE(r->status().IsCorruption());
  EXPECT_NE(r->status().message().find("record 2 at offset 56 claims 2147483647 bytes"), std::string::npos)
      << r->status().ToString();
  can::RawFrame f;
  EXPECT_FALSE(r->Next(&f)) << "stays stopped";
}

TEST(PcapReader, WrongLinkTypeNamesIt) {
  auto r = CaptureReader::FromBytes("eth.pcap", PcapBuilder(false, false, 1).bytes(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "eth.pcap: pcap link type 1 (ETHERNET) is not LINKTYPE_CAN_SOCKETCAN (227); only SocketCAN captures are "
            "read");
}

TEST(PcapReader, LinuxCookedCaptureIsRefused) {
  auto r = CaptureReader::FromBytes("sll.pcap", PcapBuilder(true, false, 113).bytes(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("113 (LINUX_SLL)"), std::string::npos) << r.status().ToString();
}

TEST(PcapReader, HeaderOnlyIsEmptyCapture) {
  auto r = FromPcap(PcapBuilder().bytes());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(ReadAll(*r).empty());
  EXPECT_TRUE(r->status().ok());
  EXPECT_EQ(r->problem_count(), 0u);
}

TEST(PcapReader, ShortHeaderIsCorruption) {
  ByteVec b = PcapBuilder().bytes();
  b.resize(10);
  auto r = CaptureReader::FromBytes("short.pcap", b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("10 bytes is too short for a pcap file header"), std::string::npos)
      << r.status().ToString();
}

TEST(PcapReader, UnsupportedVersion) {
  ByteVec b = PcapBuilder().bytes();
  b[4] = 3;
  auto r = CaptureReader::FromBytes("v3.pcap", b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 3.4"), std::string::npos) << r.status().ToString();
}

TEST(PcapReader, PcapNgIsRefusedWithAdvice) {
  ByteVec b = {0x0A, 0x0D, 0x0D, 0x0A, 0x1C, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A};
  auto r = CaptureReader::FromBytes("x.pcapng", b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pcapng"), std::string::npos) << r.status().ToString();
}

TEST(PcapReader, EmptyFileWithExplicitPcapIsCorruption) {
  CaptureOptions o;
  o.format = CaptureFormat::kPcap;
  auto r = CaptureReader::FromBytes("empty.pcap", {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
}

TEST(PcapReader, ManyRecordsAcrossBufferRefills) {
  // More than 1 MiB of records, so records straddle buffer refills.
  PcapBuilder b;
  constexpr uint32_t kFrames = 40000;  // 32 bytes each: 1.28 MB
  for (uint32_t i = 0; i < kFrames; ++i) {
    b.Frame(1000 + i / 1000, (i % 1000) * 1000, kEff | i, {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8)});
  }
  auto r = FromPcap(b.bytes());
  ASSERT_NE(r, nullptr);
  can::RawFrame f;
  uint32_t n = 0;
  while (r->Next(&f)) {
    ASSERT_EQ(f.id, n);
    ASSERT_EQ(f.timestamp_us, int64_t{1000 + n / 1000} * 1'000'000 + (n % 1000) * 1000);
    ASSERT_EQ(Payload(f), (ByteVec{static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8)}));
    ++n;
  }
  EXPECT_EQ(n, kFrames);
  EXPECT_TRUE(r->status().ok());
  EXPECT_EQ(r->problem_count(), 0u);
}

}  // namespace
}  // namespace lplex::sources
