// libpcap files with LINKTYPE_CAN_SOCKETCAN (227).
//
// File header (24 bytes, in the writer's byte order, told by the magic):
//   magic u32 | version major u16 | minor u16 | thiszone i32 | sigfigs u32 |
//   snaplen u32 | network u32 (link type in the low 16 bits)
// Record header (16 bytes): ts_sec u32 | ts_usec (or ts_nsec) u32 | incl_len u32 | orig_len u32
// Record data for link type 227 (always big-endian, whatever the file's order):
//   can_id u32 (flags EFF 0x80000000, RTR 0x40000000, ERR 0x20000000) |
//   length u8 | 3 bytes padding/reserved | data[length]
#include <fmt/format.h>

#include "sources/reader_impl.h"

namespace lplex::sources::internal {
namespace {

constexpr uint32_t kMagicMicros = 0xA1B2C3D4;
constexpr uint32_t kMagicNanos = 0xA1B23C4D;
constexpr uint32_t kLinkTypeSocketCan = 227;
constexpr size_t kFileHeaderSize = 24;
constexpr size_t kRecordHeaderSize = 16;
constexpr size_t kSocketCanHeaderSize = 8;
// libpcap's own limit on a record (MAXIMUM_SNAPLEN). A larger incl_len means
// the record headers are out of step with the data: nothing after it can be trusted.
constexpr uint32_t kMaxRecordSize = 262144;

constexpr uint32_t kEffFlag = 0x80000000;
constexpr uint32_t kRtrFlag = 0x40000000;
constexpr uint32_t kErrFlag = 0x20000000;

inline uint32_t Load32(const uint8_t* p, bool big_endian) {
  if (big_endian) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
  }
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint16_t Load16(const uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
}

std::string LinkTypeName(uint32_t t) {
  switch (t) {
    case 0: return "0 (NULL)";
    case 1: return "1 (ETHERNET)";
    case 101: return "101 (RAW)";
    case 113: return "113 (LINUX_SLL)";
    case 276: return "276 (LINUX_SLL2)";
    default: return std::to_string(t);
  }
}

class PcapReader final : public CaptureReader {
 public:
  PcapReader(std::string name, std::unique_ptr<BufferedInput> input, bool big_endian, bool nanos)
      : CaptureReader(std::move(name), CaptureFormat::kPcap, std::move(input)),
        big_endian_(big_endian),
        nanos_(nanos) {}

  std::string_view dialect() const override {
    if (big_endian_) return nanos_ ? "pcap (big-endian, nanosecond)" : "pcap (big-endian)";
    return nanos_ ? "pcap (nanosecond)" : "pcap";
  }
  bool has_timestamps() const override { return true; }

  bool Next(can::RawFrame* out) override {
    if (!status().ok() || done_) return false;
    BufferedInput& in = input();
    for (;;) {
      if (!Ensure(kRecordHeaderSize)) return false;
      if (in.available() == 0) return Finish();
      ++record_;
      if (in.available() < kRecordHeaderSize) {
        ReportProblem(record_, true,
                      fmt::format("record header cut short: the file ends {} bytes into it (a header is 16 bytes)",
                                  in.available()));
        return Finish();
      }
      const uint8_t* h = in.data();
      uint32_t ts_sec = Load32(h, big_endian_);
      uint32_t ts_frac = Load32(h + 4, big_endian_);
      uint32_t incl_len = Load32(h + 8, big_endian_);
      if (incl_len > kMaxRecordSize) {
        Fail(Status::Corruption(fmt::format(
            "{}: pcap record {} at offset {} claims {} bytes (at most {}); the file is damaged from there on", name(),
            record_, in.position(), incl_len, kMaxRecordSize)));
        return false;
      }
      in.Consume(kRecordHeaderSize);
      if (!Ensure(incl_len)) return false;
      if (in.available() < incl_len) {
        ReportProblem(record_, true,
                      fmt::format("record cut short: the file ends after {} of its {} bytes", in.available(), incl_len));
        in.Consume(in.available());
        return Finish();
      }
      const uint8_t* p = in.data();
      in.Consume(incl_len);  // p stays valid until the next Ensure
      if (incl_len < kSocketCanHeaderSize) {
        ReportProblem(record_, true,
                      fmt::format("{} bytes is too short for a SocketCAN frame (8-byte header)", incl_len));
        continue;
      }
      uint32_t can_id = Load32(p, /*big_endian=*/true);
      uint8_t length = p[4];
      if (can_id & kErrFlag) {
        ++skipped_error_;
        continue;
      }
      if (can_id & kRtrFlag) {
        ++skipped_remote_;
        continue;
      }
      if (length > 8) {
        ReportProblem(record_, true,
                      fmt::format("frame length {} is over 8 (CAN FD frames are not supported)", length));
        continue;
      }
      if (incl_len < kSocketCanHeaderSize + length) {
        ReportProblem(record_, true,
                      fmt::format("frame length {} but only {} data bytes were captured", length,
                                  incl_len - kSocketCanHeaderSize));
        continue;
      }
      out->extended = (can_id & kEffFlag) != 0;
      out->id = can_id & (out->extended ? 0x1FFFFFFFu : 0x7FFu);
      out->length = length;
      out->data = {};
      for (size_t i = 0; i < length; ++i) out->data[i] = p[kSocketCanHeaderSize + i];
      uint64_t frac_us = nanos_ ? ts_frac / 1000 : ts_frac;
      out->timestamp_us = static_cast<int64_t>(uint64_t{ts_sec} * 1'000'000 + frac_us);
      ++frames_;
      return true;
    }
  }

 private:
  bool Ensure(size_t n) {
    Status s = input().Ensure(n);
    if (!s.ok()) {
      Fail(s.WithContext(name()));
      return false;
    }
    return true;
  }
  bool Finish() {
    done_ = true;
    return false;
  }

  const bool big_endian_;
  const bool nanos_;
  bool done_ = false;
  uint64_t record_ = 0;  // 1-based number of the current record
};

}  // namespace

Result<std::unique_ptr<CaptureReader>> NewPcapReader(std::string name, std::unique_ptr<BufferedInput> input) {
  LPLEX_RETURN_IF_ERROR(input->Ensure(kFileHeaderSize).WithContext(name));
  if (input->available() < kFileHeaderSize) {
    return Status::Corruption(
        fmt::format("{}: {} bytes is too short for a pcap file header (24 bytes)", name, input->available()));
  }
  const uint8_t* h = input->data();
  uint32_t magic = Load32(h, false);
  bool big_endian = false;
  bool nanos = false;
  if (magic == kMagicMicros || magic == kMagicNanos) {
    nanos = magic == kMagicNanos;
  } else {
    magic = Load32(h, true);
    if (magic != kMagicMicros && magic != kMagicNanos) {
      return Status::Corruption(fmt::format(
          "{}: magic 0x{:08X} is not a pcap magic (A1B2C3D4 or A1B23C4D in either byte order)", name,
          Load32(h, false)));
    }
    big_endian = true;
    nanos = magic == kMagicNanos;
  }
  uint16_t major = Load16(h + 4, big_endian);
  uint16_t minor = Load16(h + 6, big_endian);
  if (major != 2) {
    return Status::Unsupported(fmt::format("{}: pcap version {}.{} is not supported (only 2.x)", name, major, minor));
  }
  uint32_t link_type = Load32(h + 20, big_endian) & 0xFFFF;
  if (link_type != kLinkTypeSocketCan) {
    return Status::Unsupported(
        fmt::format("{}: pcap link type {} is not LINKTYPE_CAN_SOCKETCAN (227); only SocketCAN captures are read",
                    name, LinkTypeName(link_type)));
  }
  input->Consume(kFileHeaderSize);
  return std::unique_ptr<CaptureReader>(new PcapReader(std::move(name), std::move(input), big_endian, nanos));
}

}  // namespace lplex::sources::internal
