#include "journal/block_decoder.h"

#include <fmt/format.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "can/can_id.h"
#include "core/crc32c.h"
#include "core/endian.h"
#include "journal/format.h"

namespace lplex::journal {

namespace {

// zstd's largest block content (Block_Maximum_Size) and the smallest
// encoding of such a block (3-byte block header + 1 RLE byte).
constexpr uint64_t kZstdMaxBlockContent = 128 * 1024;
constexpr uint64_t kZstdMinBlockBytes = 4;

Status BlockCorruption(uint64_t index, uint64_t offset, std::string_view what) {
  return Status::Corruption(fmt::format("block {} {} at file offset {}", index, what, offset));
}

}  // namespace

Status VerifyBlock(std::span<const uint8_t> block, uint8_t version, uint64_t index, uint64_t offset,
                   BlockLayout* out) {
  const size_t size = block.size();
  const size_t data_start = BlockDataOffset(version);
  if (size < kMinBlockSize) {
    return BlockCorruption(index, offset, fmt::format("has {} bytes, fewer than the minimum {}", size, kMinBlockSize));
  }
  const uint8_t* b = block.data();
  const uint32_t stored = le::Load32(b + size - 4);
  const uint32_t computed = crc32c::Value(b, size - 4);
  if (stored != computed) {
    return BlockCorruption(index, offset,
                           fmt::format("checksum mismatch: stored={:08x} computed={:08x}", stored, computed));
  }
  const size_t room = size - kBlockTrailerLen - data_start;  // frames + table
  const uint16_t dts = le::Load16(b + size - kBlockTrailerLen);
  if (dts < 2 || dts > room) {
    return BlockCorruption(index, offset, fmt::format("device table size {} out of range [2, {}]", dts, room));
  }
  const uint32_t frame_count = le::Load32(b + size - 8);
  const size_t max_frames = room / kMinFrameRecordSize;
  if (frame_count > max_frames) {
    return BlockCorruption(index, offset,
                           fmt::format("frame count {} exceeds the {} frames that fit in {} bytes", frame_count,
                                       max_frames, room));
  }
  const int64_t base_time = static_cast<int64_t>(le::Load64(b));
  if (base_time < kMinTimestampUs || base_time > kMaxTimestampUs) {
    return BlockCorruption(index, offset,
                           fmt::format("base time {} us out of range (valid: {})", base_time, kTimestampRange));
  }
  const uint64_t base_seq = version == kVersion1 ? 0 : le::Load64(b + 8);
  out->base_time_us = base_time;
  out->base_seq = base_seq;
  out->frame_count = frame_count;
  out->device_table_size = dts;
  out->data_start = static_cast<uint32_t>(data_start);
  out->device_table_offset = static_cast<uint32_t>(size - kBlockTrailerLen - dts);
  return Status::Ok();
}

uint64_t MaxZstdContentSize(uint64_t payload_len) {
  return payload_len / kZstdMinBlockBytes * kZstdMaxBlockContent;
}

uint64_t MaxZstdPayloadSize(uint64_t block_size) { return ZSTD_COMPRESSBOUND(block_size); }

Status CheckFrameTime(int64_t prev_us, uint64_t delta_us, int64_t* out) {
  // prev_us is in range (a verified base time or an earlier frame), so the
  // room above it fits in a uint64_t and the sum cannot overflow.
  const uint64_t room = static_cast<uint64_t>(kMaxTimestampUs) - static_cast<uint64_t>(prev_us);
  if (prev_us < kMinTimestampUs || prev_us > kMaxTimestampUs || delta_us > room) {
    return Status::Corruption(fmt::format("delta {} us takes the time past 9999-12-31T23:59:59.999999Z (valid: "
                                          "deltas up to {} us here)",
                                          delta_us, prev_us > kMaxTimestampUs ? 0 : room));
  }
  *out = prev_us + static_cast<int64_t>(delta_us);
  return Status::Ok();
}

ZstdBlockDecompressor::~ZstdBlockDecompressor() { ZSTD_freeDCtx(dctx_); }

Status ZstdBlockDecompressor::Precheck(std::span<const uint8_t> payload, size_t block_size, uint64_t index,
                                       uint64_t offset) {
  if (MaxZstdContentSize(payload.size()) < block_size) {
    return BlockCorruption(index, offset,
                           fmt::format("zstd payload of {} bytes cannot decompress to {} bytes", payload.size(),
                                       block_size));
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR && declared > block_size) {
    return BlockCorruption(index, offset,
                           fmt::format("decompressed to {} bytes, expected {} (size declared by the zstd frame)",
                                       declared, block_size));
  }
  return Status::Ok();
}

Status ZstdBlockDecompressor::Decompress(std::span<const uint8_t> payload, std::span<const uint8_t> dict,
                                         std::span<uint8_t> dst, uint64_t index, uint64_t offset) {
  if (dctx_ == nullptr) {
    dctx_ = ZSTD_createDCtx();
    if (dctx_ == nullptr) return Status::IOError("zstd: cannot create a decompression context (out of memory)");
  }
  size_t n;
  if (dict.empty()) {
    n = ZSTD_decompressDCtx(dctx_, dst.data(), dst.size(), payload.data(), payload.size());
  } else {
    n = ZSTD_decompress_usingDict(dctx_, dst.data(), dst.size(), payload.data(), payload.size(), dict.data(),
                                  dict.size());
  }
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
      return BlockCorruption(index, offset,
                             fmt::format("decompressed to more than {} bytes, expected {}", dst.size(), dst.size()));
    }
    return BlockCorruption(index, offset, fmt::format("zstd decode failed: {}", ZSTD_getErrorName(n)));
  }
  if (n != dst.size()) {
    return BlockCorruption(index, offset, fmt::format("decompressed to {} bytes, expected {}", n, dst.size()));
  }
  return Status::Ok();
}

Status ForEachBlockFrame(std::span<const uint8_t> block, const BlockLayout& layout,
                         const std::function<void(const can::Frame&)>& fn) {
  if (layout.data_start > layout.device_table_offset || layout.device_table_offset > block.size()) {
    return Status::InvalidArgument(fmt::format("block layout (frames {}..{}) does not fit a block of {} bytes",
                                               layout.data_start, layout.device_table_offset, block.size()));
  }
  const uint8_t* p = block.data() + layout.data_start;
  const uint8_t* const end = block.data() + layout.device_table_offset;
  int64_t time_us = layout.base_time_us;
  can::Frame f;
  for (uint32_t i = 0; i < layout.frame_count; ++i) {
    FrameRecord rec;
    const size_t used = DecodeFrameRecord(p, end, &rec);
    if (used == 0) {
      return Status::Corruption(fmt::format("frame record {} of {} (block offset {}) is cut off or malformed", i,
                                            layout.frame_count, p - block.data()));
    }
    if (i > 0) {
      Status t = CheckFrameTime(time_us, rec.delta_us, &time_us);
      if (!t.ok()) return t.WithContext(fmt::format("frame record {} of {}", i, layout.frame_count));
    }
    if (layout.base_seq > UINT64_MAX - i) {
      return Status::Corruption(
          fmt::format("frame record {}: its seq would wrap past 2^64-1 (base seq {})", i, layout.base_seq));
    }
    p += used;
    f.timestamp_us = time_us;
    f.header = can::ParseCanId(rec.can_id);
    f.seq = layout.base_seq + i;
    f.data = rec.data;
    fn(f);
  }
  return Status::Ok();
}

}  // namespace lplex::journal
