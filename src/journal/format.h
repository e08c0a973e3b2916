// The .lpj journal file format: constants and the small codecs that both the
// writer and the reader use. docs/format.md describes the layout in prose.
//
//   file   = header(16) block* [index]
//   header = "LPJ" version(u8) block_size(u32) flags(u32: compression) reserved(u32)
//   block  (uncompressed, exactly block_size bytes):
//            base_time(i64) [base_seq(u64), v2] frame* padding device_table
//            dts(u16) frame_count(u32) crc32c(u32 over everything before it)
//   compressed blocks add an outer header in front of a zstd frame of the above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::journal {

inline constexpr uint8_t kMagic[3] = {'L', 'P', 'J'};
inline constexpr uint8_t kIndexMagic[4] = {'L', 'P', 'J', 'I'};
inline constexpr uint8_t kVersion1 = 1;
inline constexpr uint8_t kVersion2 = 2;  // the only version we write

inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kBlockTrailerLen = 10;  // dts u16 + frame_count u32 + crc u32
inline constexpr size_t kZstdHeaderLenV1 = 12;  // base_time, compressed_len
inline constexpr size_t kZstdHeaderLenV2 = 20;  // base_time, base_seq, compressed_len
inline constexpr size_t kDictHeaderLenV1 = 16;  // base_time, dict_len, compressed_len
inline constexpr size_t kDictHeaderLenV2 = 24;  // base_time, base_seq, dict_len, compressed_len
inline constexpr size_t kBlockDataOffsetV1 = 8;
inline constexpr size_t kBlockDataOffsetV2 = 16;

// A device entry: source(1) name(8) active_from(4) product_code(2) and four
// length-prefixed strings. Registry strings are at most 32+40+24+32 bytes.
inline constexpr size_t kDeviceEntryFixedSize = 15;
inline constexpr size_t kDeviceEntryMinSize = kDeviceEntryFixedSize + 4;
inline constexpr size_t kDeviceEntryMaxSize = 147;

inline constexpr uint32_t kMaxIndexEntries = 1u << 18;
inline constexpr uint32_t kMinBlockSize = 4096;
// The largest block size lplex writes or reads. The format's u32 would allow
// 2 GiB, but a reader holds one whole block in memory, so a header claiming
// more than this is refused as corrupt rather than trusted (issue 6, #8).
inline constexpr uint32_t kMaxBlockSize = 16u << 20;  // 16 MiB
inline constexpr uint32_t kDefaultBlockSize = 262144;

// The range of timestamps a journal may hold: RFC 3339's years 0001..9999,
// 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z. A block whose base
// time, or a frame whose time (base time plus deltas), falls outside it is
// corrupt: it could not be printed as RFC 3339, and the checked arithmetic
// that keeps the reader free of signed overflow relies on it.
inline constexpr int64_t kMinTimestampUs = -62135596800LL * 1000000;
inline constexpr int64_t kMaxTimestampUs = 253402300799LL * 1000000 + 999999;
// "0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z", for messages.
inline constexpr std::string_view kTimestampRange = "0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z";

// Largest payload one frame record may carry (a fast-packet can reach 223
// bytes on the wire; the format allows any length up to this).
inline constexpr size_t kMaxFrameDataLen = 1785;

// Bit 31 of a stored CAN id word marks the 8-byte "standard" frame form.
inline constexpr uint32_t kStandardFrameFlag = 0x80000000u;

enum class Compression : uint8_t { kNone = 0, kZstd = 1, kZstdDict = 2 };

// "none", "zstd", "zstd-dict".
std::string_view CompressionName(Compression c);
// Accepts the names above (case-sensitive). The error lists the valid names.
Result<Compression> ParseCompression(std::string_view name);

// OK when block_size is a power of two in [kMinBlockSize, kMaxBlockSize];
// the InvalidArgument error names the value and the valid range.
Status ValidateBlockSize(uint64_t block_size);

struct FileHeader {
  uint8_t version = kVersion2;
  uint32_t block_size = kDefaultBlockSize;
  Compression compression = Compression::kNone;
};

void EncodeFileHeader(const FileHeader& h, uint8_t out[kFileHeaderSize]);
// Checks, in order: magic, version in {1,2}, block size (a power of two in
// [kMinBlockSize, kMaxBlockSize]; Corruption naming the value and the valid
// range otherwise), compression <= 2.
Result<FileHeader> DecodeFileHeader(std::span<const uint8_t> bytes);

// Where frame data starts inside an uncompressed block of this version.
inline size_t BlockDataOffset(uint8_t version) {
  return version == kVersion1 ? kBlockDataOffsetV1 : kBlockDataOffsetV2;
}
// Length of the outer header of a compressed block.
size_t CompressedHeaderLen(uint8_t version, Compression c);
// Writes the v2 outer header of a compressed block (`c` is kZstd or
// kZstdDict): base time, base seq, then (dict) dictionary length and the
// compressed length. Returns its length: kZstdHeaderLenV2 or kDictHeaderLenV2
// (0 for kNone: raw blocks have no outer header).
size_t EncodeCompressedHeaderV2(Compression c, int64_t base_time_us, uint64_t base_seq, size_t dict_len,
                                size_t compressed_len, uint8_t out[kDictHeaderLenV2]);

// ---------------------------------------------------------------------------
// Frame records

// Bytes a record takes: varint(delta) + 4 + (8, or varint(len) + len).
size_t FrameRecordSize(uint64_t delta_us, size_t data_len);

// Writes one record at dst (which has room for FrameRecordSize bytes) and
// returns its size. `can_id` is the 29-bit identifier.
size_t EncodeFrameRecord(uint8_t* dst, uint64_t delta_us, uint32_t can_id, std::span<const uint8_t> data);

struct FrameRecord {
  uint64_t delta_us = 0;
  uint32_t can_id = 0;              // bit 31 already cleared
  std::span<const uint8_t> data;    // points into the decoded block
};

// Reads one record from [p, limit). Returns the bytes consumed, or 0 when the
// record is cut off or malformed (bad varint, length past limit).
size_t DecodeFrameRecord(const uint8_t* p, const uint8_t* limit, FrameRecord* out);

// ---------------------------------------------------------------------------
// Device table

struct DeviceEntry {
  uint8_t source = 0;
  uint64_t name = 0;          // ISO NAME, 64 bits
  uint32_t active_from = 0;   // index of the first frame in the block it applies to
  uint16_t product_code = 0;
  std::string model_id;
  std::string software_version;
  std::string model_version;
  std::string model_serial;

  friend bool operator==(const DeviceEntry&, const DeviceEntry&) = default;
};

// Serialized size of one entry (strings longer than 255 bytes are cut).
size_t DeviceEntrySize(const DeviceEntry& e);

// Writes count(u16) and the entries at dst; returns bytes written
// (= 2 + sum of DeviceEntrySize). The caller checks the room first.
size_t EncodeDeviceTable(uint8_t* dst, std::span<const DeviceEntry> entries);

// Parses a table occupying exactly [p, p+len). Every field is bounds checked;
// the error names the entry and what ran out.
Result<std::vector<DeviceEntry>> DecodeDeviceTable(const uint8_t* p, size_t len);

}  // namespace lplex::journal
