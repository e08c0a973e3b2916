#include "journal/block_writer.h"

#include <fmt/format.h>
#include <zstd.h>

#include <limits>


namespace lplex::journal {
namespace {

constexpr uint64_t kMaxStoredLen = std::numeric_limits<uint32_t>::max();  // u32 length fields

// A non-empty type-2 dictionary must be one a Go reader can use: formatted
// (magic and a nonzero ID; raw content has no ID to match) — spec journal.md §1.8.
Status CheckDictionaryFormat(std::span<const uint8_t> dictionary, uint64_t index) {
  if (ZSTD_getDictID_fromDict(dictionary.data(), dictionary.size()) == 0) {
    return Status::InvalidArgument(
        fmt::format("block {} dictionary of {} bytes is not a formatted zstd dictionary (magic 0xEC30A437 and a "
                    "nonzero ID); a Go reader could not decode the block",
                    index, dictionary.size()));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<BlockWriter>> BlockWriter::Create(BlockWriterOptions o) {
  LPLEX_RETURN_IF_ERROR(ValidateBlockSize(o.block_size));
  if (o.dir.empty()) return Status::InvalidArgument("block writer directory is empty");
  if (o.prefix.empty() || o.prefix.find('/') != std::string::npos) {
    return Status::InvalidArgument(
        fmt::format("journal prefix \"{}\" must be non-empty and contain no '/' (default: backfill)", o.prefix));
  }
  if (o.rotate_duration_us < 0) {
    return Status::InvalidArgument(fmt::format("rotate duration {} us must not be negative", o.rotate_duration_us));
  }
  if (o.fs == nullptr) o.fs = FileSystem::Default();
  LPLEX_RETURN_IF_ERROR(o.fs->CreateDirs(o.dir));
  return std::unique_ptr<BlockWriter>(new BlockWriter(std::move(o)));
}

BlockWriter::BlockWriter(BlockWriterOptions options)
    : opt_(std::move(options)),
      file_(OutputFileOptions{opt_.fs, opt_.dir, opt_.prefix, opt_.block_size, opt_.on_rotate,
                              opt_.on_open_change}) {}

BlockWriter::~BlockWriter() { (void)Close(); }

Status BlockWriter::CheckBlock(uint64_t base_seq, int64_t base_time_us, Compression kind,
                               std::span<const uint8_t> data, std::span<const uint8_t> dictionary,
                               CheckedBlock* out) {
  if (kind != Compression::kNone && kind != Compression::kZstd && kind != Compression::kZstdDict) {
    return Status::InvalidArgument(
        fmt::format("unknown block compression {} (valid: 0 none, 1 zstd, 2 zstd-dict)", static_cast<int>(kind)));
  }
  if (kind != Compression::kZstdDict && !dictionary.empty()) {
    return Status::InvalidArgument(
        fmt::format("a {} block has no dictionary, but {} dictionary bytes came with block {} (send it as zstd-dict)",
                    CompressionName(kind), dictionary.size(), blocks_));
  }
  std::span<const uint8_t> block = data;
  if (kind == Compression::kNone) {
    if (data.size() != opt_.block_size) {
      return Status::InvalidArgument(
          fmt::format("uncompressed block size {} != expected {}", data.size(), opt_.block_size));
    }
  } else {
    if (data.size() > kMaxStoredLen || dictionary.size() > kMaxStoredLen) {
      return Status::InvalidArgument(fmt::format(
          "block {} payload of {} bytes or dictionary of {} bytes does not fit a 32-bit length (max {})", blocks_,
          data.size(), dictionary.size(), kMaxStoredLen));
    }
    if (!dictionary.empty()) LPLEX_RETURN_IF_ERROR(CheckDictionaryFormat(dictionary, blocks_));
    LPLEX_RETURN_IF_ERROR(ZstdBlockDecompressor::Precheck(data, opt_.block_size, blocks_, 0));
    scratch_.resize(opt_.block_size);
    LPLEX_RETURN_IF_ERROR(decompressor_.Decompress(data, dictionary, scratch_, blocks_, 0));
    // It decoded; now make sure a Go reader would pick the same dictionary:
    // it looks the dictionary up by the ID in the frame header.
    if (!dictionary.empty()) {
      const unsigned frame_id = ZSTD_getDictID_fromFrame(data.data(), data.size());
      const unsigned dict_id = ZSTD_getDictID_fromDict(dictionary.data(), dictionary.size());
      if (frame_id != dict_id) {
        return Status::InvalidArgument(fmt::format(
            "block {} zstd frame names dictionary ID {} but the block's dictionary has ID {}; a Go reader could "
            "not decode it",
            blocks_, frame_id, dict_id));
      }
    }
    block = scratch_;
  }
  BlockLayout layout;
  LPLEX_RETURN_IF_ERROR(VerifyBlock(block, kVersion2, blocks_, 0, &layout));
  if (layout.base_time_us != base_time_us || layout.base_seq != base_seq) {
    return Status::InvalidArgument(fmt::format(
        "block says base time {} and base seq {}, but it was sent as base time {} and base seq {}",
        layout.base_time_us, layout.base_seq, base_time_us, base_seq));
  }
  if (out != nullptr) {
    out->layout = layout;
    out->block = block;
  }
  return Status::Ok();
}

Status BlockWriter::AppendBlock(uint64_t base_seq, int64_t base_time_us, Compression kind,
                                std::span<const uint8_t> data, std::span<const uint8_t> dictionary) {
  LPLEX_RETURN_IF_ERROR(CheckBlock(base_seq, base_time_us, kind, data, dictionary, nullptr));
  return AppendCheckedBlock(base_seq, base_time_us, kind, data, dictionary);
}

Status BlockWriter::AppendCheckedBlock(uint64_t base_seq, int64_t base_time_us, Compression kind,
                                       std::span<const uint8_t> data, std::span<const uint8_t> dictionary) {
  if (file_.is_open() && file_.compression() != kind) LPLEX_RETURN_IF_ERROR(file_.Finish());
  if (!file_.is_open()) {
    LPLEX_RETURN_IF_ERROR(file_.Open(base_time_us, kind));
    file_start_us_ = base_time_us;
  }
  // The outer header of spec journal.md §1.7/§1.8 (v2); none for raw blocks.
  uint8_t header[kDictHeaderLenV2];
  const size_t header_len =
      EncodeCompressedHeaderV2(kind, base_time_us, base_seq, dictionary.size(), data.size(), header);
  Status s = file_.AppendBlock({{header, header_len}, dictionary, data});
  if (!s.ok()) {
    // The file ends in a partial block, like a crashed one; hand it on as it stands.
    (void)file_.Finish(/*write_index=*/false);
    return s.WithContext("backfill block write");
  }
  ++blocks_;
  if ((opt_.rotate_size > 0 && file_.size() >= opt_.rotate_size) ||
      (opt_.rotate_duration_us > 0 && base_time_us - file_start_us_ >= opt_.rotate_duration_us)) {
    return file_.Finish();
  }
  return Status::Ok();
}

Status BlockWriter::Close() { return file_.Finish(); }

}  // namespace lplex::journal
