// Turning the bytes of one stored block into a verified uncompressed block.
//
// Two pieces, both used by JournalReader and usable by anything else that
// must check a block (a verifier, a block-level replication receiver):
//  - VerifyBlock checks an uncompressed block (CRC-32C, then the trailer
//    fields against the block's geometry) and says where its parts are.
//  - ZstdBlockDecompressor decodes a type-1/type-2 payload into a buffer of
//    exactly block_size bytes, reusing one ZSTD_DCtx.
//
// Error messages keep lplex's wording ("block N checksum mismatch: ...")
// and end with the block's file offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "can/frame.h"
#include "core/status.h"

struct ZSTD_DCtx_s;

namespace lplex::journal {

// Where the parts of a verified uncompressed block are. Offsets are from
// the start of the block; frame records occupy [data_start, device_table_offset).
struct BlockLayout {
  int64_t base_time_us = 0;
  uint64_t base_seq = 0;  // 0 for v1
  uint32_t frame_count = 0;
  uint16_t device_table_size = 0;  // bytes, including the u16 entry count
  uint32_t data_start = 0;         // 8 (v1) or 16 (v2)
  uint32_t device_table_offset = 0;
};

// The fewest bytes one frame record can take: a 1-byte delta, the CAN id
// word and a 1-byte zero length (extended form, no data).
inline constexpr size_t kMinFrameRecordSize = 6;

// Checks one uncompressed block of block.size() bytes (>= 4096) written by
// journal `version`, in this order:
//  - the CRC-32C of [0, size-4) equals the stored checksum;
//  - 2 <= DTS <= size - 10 - data_start (the table fits between the frame
//    data start and the trailer);
//  - FrameCount * 6 <= size - 10 - data_start. The bound uses the room up
//    to the trailer, not up to the table, because lplex's writer can let
//    the table cover the last frame(s) of a block (spec journal.md §2.3a);
//    such blocks are valid and their covered frames end the block early.
//  - BaseTime lies in [kMinTimestampUs, kMaxTimestampUs] (years 0001..9999).
//    (A BaseSeq so large that a later frame's seq would wrap is left to the
//    reader, which ends the block at that frame.)
// `index` and `offset` (the block's file offset) only go into messages.
Status VerifyBlock(std::span<const uint8_t> block, uint8_t version, uint64_t index, uint64_t offset,
                   BlockLayout* out);

// The largest uncompressed size a zstd payload of `payload_len` bytes can
// possibly describe: every zstd block of up to 128 KiB costs at least 4
// bytes (3-byte header + 1 RLE byte). Used to refuse a block before its
// buffer is allocated, so a tiny file cannot make the reader allocate a
// block of the largest size (kMaxBlockSize, 16 MiB).
uint64_t MaxZstdContentSize(uint64_t payload_len);

// The largest payload zstd produces for `block_size` input bytes
// (ZSTD_COMPRESSBOUND). A stored length above it cannot be a block's.
uint64_t MaxZstdPayloadSize(uint64_t block_size);

// The time of a frame whose delta is `delta_us` after a frame (or base
// time) at `prev_us`: sets *out to the sum and returns OK when it stays at
// or below kMaxTimestampUs; Corruption naming the delta and the largest one
// allowed otherwise. Deltas are unsigned, so a frame is never earlier than
// the one before it; the check keeps the sum from overflowing.
Status CheckFrameTime(int64_t prev_us, uint64_t delta_us, int64_t* out);

// Decodes zstd payloads into caller buffers. Holds one decompression context
// for its lifetime (created on first use). Not thread-safe.
class ZstdBlockDecompressor {
 public:
  ZstdBlockDecompressor() = default;
  ZstdBlockDecompressor(const ZstdBlockDecompressor&) = delete;
  ZstdBlockDecompressor& operator=(const ZstdBlockDecompressor&) = delete;
  ~ZstdBlockDecompressor();

  // Cheap checks that need no output buffer: the payload is large enough to
  // describe `block_size` bytes, and a content size declared in its frame
  // header is not larger than `block_size`.
  static Status Precheck(std::span<const uint8_t> payload, size_t block_size, uint64_t index, uint64_t offset);

  // Decompresses `payload` into `dst`, which must be filled exactly
  // ("decompressed to X bytes, expected Y" otherwise). A non-empty `dict`
  // is used as the dictionary: a formatted zstd dictionary (magic
  // 0xEC30A437, matched by the ID in the frame header) or raw content.
  Status Decompress(std::span<const uint8_t> payload, std::span<const uint8_t> dict, std::span<uint8_t> dst,
                    uint64_t index, uint64_t offset);

 private:
  ZSTD_DCtx_s* dctx_ = nullptr;
};

// Calls `fn` for each frame of a v2 block that VerifyBlock passed (`layout`
// is its output), in order: time (the first frame at the base time, each
// later one its delta after the previous), header, seq (base_seq + index)
// and data (pointing into `block`, valid during the call). A record that is
// cut off or malformed, or whose time or seq would overflow, ends the walk
// with Corruption naming it: the frames before it were delivered, the
// block's later ones are not (a reader skips them the same way).
Status ForEachBlockFrame(std::span<const uint8_t> block, const BlockLayout& layout,
                         const std::function<void(const can::Frame&)>& fn);

}  // namespace lplex::journal
