#include "journal/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/endian.h"
#include "core/varint.h"

namespace lplex::journal {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kZstd: return "zstd";
    case Compression::kZstdDict: return "zstd-dict";
  }
  return "unknown";
}

Result<Compression> ParseCompression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "zstd") return Compression::kZstd;
  if (name == "zstd-dict") return Compression::kZstdDict;
  return Status::InvalidArgument(
      fmt::format("unknown compression \"{}\" (valid: none, zstd, zstd-dict)", name));
}

namespace {
bool BlockSizeInRange(uint64_t n) { return n >= kMinBlockSize && n <= kMaxBlockSize && (n & (n - 1)) == 0; }
// "(valid: 4096..16777216, a power of 2)", shared by the writer's and the reader's messages.
std::string BlockSizeRange() { return fmt::format("(valid: {}..{}, a power of 2)", kMinBlockSize, kMaxBlockSize); }
}  // namespace

Status ValidateBlockSize(uint64_t block_size) {
  if (BlockSizeInRange(block_size)) return Status::Ok();
  return Status::InvalidArgument(fmt::format("block size {} out of range {}", block_size, BlockSizeRange()));
}

void EncodeFileHeader(const FileHeader& h, uint8_t out[kFileHeaderSize]) {
  std::memcpy(out, kMagic, 3);
  out[3] = h.version;
  le::Store32(out + 4, h.block_size);
  le::Store32(out + 8, static_cast<uint32_t>(h.compression));
  le::Store32(out + 12, 0);
}

size_t EncodeCompressedHeaderV2(Compression c, int64_t base_time_us, uint64_t base_seq, size_t dict_len,
                                size_t compressed_len, uint8_t out[kDictHeaderLenV2]) {
  if (c == Compression::kNone) return 0;
  le::Store64(out, static_cast<uint64_t>(base_time_us));
  le::Store64(out + 8, base_seq);
  if (c == Compression::kZstdDict) {
    le::Store32(out + 16, static_cast<uint32_t>(dict_len));
    le::Store32(out + 20, static_cast<uint32_t>(compressed_len));
    return kDictHeaderLenV2;
  }
  le::Store32(out + 16, static_cast<uint32_t>(compressed_len));
  return kZstdHeaderLenV2;
}

Result<FileHeader> DecodeFileHeader(std::span<const uint8_t> b) {
  if (b.size() < kFileHeaderSize) {
    return Status::Corruption(fmt::format("read journal header: file has {} bytes, header needs 16", b.size()));
  }
  if (std::memcmp(b.data(), kMagic, 3) != 0) return Status::Corruption("not a journal file (bad magic)");
  FileHeader h;
  h.version = b[3];
  if (h.version != kVersion1 && h.version != kVersion2) {
    return Status::Unsupported(fmt::format("unsupported journal version {}", h.version));
  }
  h.block_size = le::Load32(b.data() + 4);
  if (!BlockSizeInRange(h.block_size)) {
    return Status::Corruption(fmt::format("invalid block size {} {}", h.block_size, BlockSizeRange()));
  }
  uint32_t comp = le::Load32(b.data() + 8) & 0xFF;
  if (comp > 2) return Status::Unsupported(fmt::format("unsupported compression type {}", comp));
  h.compression = static_cast<Compression>(comp);
  return h;
}

size_t CompressedHeaderLen(uint8_t version, Compression c) {
  bool v1 = version == kVersion1;
  if (c == Compression::kZstdDict) return v1 ? kDictHeaderLenV1 : kDictHeaderLenV2;
  return v1 ? kZstdHeaderLenV1 : kZstdHeaderLenV2;
}

size_t FrameRecordSize(uint64_t delta_us, size_t data_len) {
  size_t n = varint::Length(delta_us) + 4;
  if (data_len == 8) return n + 8;
  return n + varint::Length(data_len) + data_len;
}

size_t EncodeFrameRecord(uint8_t* dst, uint64_t delta_us, uint32_t can_id, std::span<const uint8_t> data) {
  size_t n = varint::Put(dst, delta_us);
  if (data.size() == 8) {
    le::Store32(dst + n, (can_id & 0x1FFFFFFFu) | kStandardFrameFlag);
    n += 4;
  } else {
    le::Store32(dst + n, can_id & 0x1FFFFFFFu);
    n += 4;
    n += varint::Put(dst + n, data.size());
  }
  if (!data.empty()) std::memcpy(dst + n, data.data(), data.size());
  return n + data.size();
}

size_t DecodeFrameRecord(const uint8_t* p, const uint8_t* limit, FrameRecord* out) {
  const uint8_t* start = p;
  size_t n = varint::Get(p, limit, &out->delta_us);
  if (n == 0) return 0;
  p += n;
  if (limit - p < 4) return 0;
  uint32_t word = le::Load32(p);
  p += 4;
  size_t len;
  if (word & kStandardFrameFlag) {
    out->can_id = word & ~kStandardFrameFlag;
    len = 8;
  } else {
    out->can_id = word;
    uint64_t l;
    n = varint::Get(p, limit, &l);
    if (n == 0) return 0;
    p += n;
    if (l > static_cast<uint64_t>(limit - p)) return 0;
    len = static_cast<size_t>(l);
  }
  if (static_cast<size_t>(limit - p) < len) return 0;
  out->data = std::span<const uint8_t>(p, len);
  p += len;
  return static_cast<size_t>(p - start);
}

namespace {
size_t StrLen(const std::string& s) { return std::min<size_t>(s.size(), 255); }

uint8_t* PutString(uint8_t* p, const std::string& s) {
  size_t n = StrLen(s);
  *p++ = static_cast<uint8_t>(n);
  std::memcpy(p, s.data(), n);
  return p + n;
}
}  // namespace

size_t DeviceEntrySize(const DeviceEntry& e) {
  return kDeviceEntryMinSize + StrLen(e.model_id) + StrLen(e.software_version) + StrLen(e.model_version) +
         StrLen(e.model_serial);
}

size_t EncodeDeviceTable(uint8_t* dst, std::span<const DeviceEntry> entries) {
  uint8_t* p = dst;
  le::Store16(p, static_cast<uint16_t>(entries.size()));
  p += 2;
  for (const DeviceEntry& e : entries) {
    *p++ = e.source;
    le::Store64(p, e.name);
    le::Store32(p + 8, e.active_from);
    le::Store16(p + 12, e.product_code);
    p += 14;
    p = PutString(p, e.model_id);
    p = PutString(p, e.software_version);
    p = PutString(p, e.model_version);
    p = PutString(p, e.model_serial);
  }
  return static_cast<size_t>(p - dst);
}

Result<std::vector<DeviceEntry>> DecodeDeviceTable(const uint8_t* p, size_t len) {
  if (len < 2) return Status::Corruption(fmt::format("device table of {} bytes has no entry count", len));
  const uint8_t* end = p + len;
  uint16_t count = le::Load16(p);
  p += 2;
  std::vector<DeviceEntry> out;
  out.reserve(std::min<size_t>(count, len / kDeviceEntryMinSize));
  for (uint16_t k = 0; k < count; ++k) {
    if (end - p < static_cast<ptrdiff_t>(kDeviceEntryFixedSize)) {
      return Status::Corruption(fmt::format("device table entry {}: fixed fields out of range", k));
    }
    DeviceEntry e;
    e.source = p[0];
    e.name = le::Load64(p + 1);
    e.active_from = le::Load32(p + 9);
    e.product_code = le::Load16(p + 13);
    p += kDeviceEntryFixedSize;
    std::string* fields[] = {&e.model_id, &e.software_version, &e.model_version, &e.model_serial};
    static constexpr const char* kNames[] = {"model_id", "software_version", "model_version", "model_serial"};
    for (int f = 0; f < 4; ++f) {
      if (p >= end) {
        return Status::Corruption(fmt::format("device table entry {}: {} length out of range", k, kNames[f]));
      }
      size_t n = *p++;
      if (static_cast<size_t>(end - p) < n) {
        return Status::Corruption(
            fmt::format("device table entry {}: {} of {} bytes runs past the table", k, kNames[f], n));
      }
      fields[f]->assign(reinterpret_cast<const char*>(p), n);
      p += n;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lplex::journal
