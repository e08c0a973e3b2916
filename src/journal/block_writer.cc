#include "journal/block_writer.h"

#include <fmt/format.h>

#include "core/endian.h"

namespace lplex::journal {

Result<std::unique_ptr<BlockWriter>> BlockWriter::Create(BlockWriterOptions o) {
  LPLEX_RETURN_IF_ERROR(ValidateBlockSize(o.block_size));
  if (o.dir.empty()) return Status::InvalidArgument("block writer directory is empty");
  if (o.prefix.empty() || o.prefix.find('/') != std::string::npos) {
    return Status::InvalidArgument(fmt::format("journal prefix \"{}\" must be non-empty and contain no '/'", o.prefix));
  }
  FileSystem* fs = o.fs ? o.fs : FileSystem::Default();
  LPLEX_RETURN_IF_ERROR(fs->CreateDirs(o.dir));
  return std::unique_ptr<BlockWriter>(new BlockWriter(std::move(o)));
}

BlockWriter::BlockWriter(BlockWriterOptions options)
    : opt_(std::move(options)), fs_(opt_.fs ? opt_.fs : FileSystem::Default()) {}

BlockWriter::~BlockWriter() { (void)Close(); }

const std::string& BlockWriter::current_path() const {
  static const std::string kNone;
  return file_ ? file_->path() : kNone;
}

Status BlockWriter::Check(uint64_t base_seq, int64_t base_time_us, std::span<const uint8_t> data, bool compressed) {
  std::span<const uint8_t> block = data;
  if (compressed) {
    LPLEX_RETURN_IF_ERROR(ZstdBlockDecompressor::Precheck(data, opt_.block_size, blocks_, 0));
    scratch_.resize(opt_.block_size);
    LPLEX_RETURN_IF_ERROR(decompressor_.Decompress(data, {}, scratch_, blocks_, 0));
    block = scratch_;
  } else if (data.size() != opt_.block_size) {
    return Status::InvalidArgument(
        fmt::format("uncompressed block size {} != expected {}", data.size(), opt_.block_size));
  }
  BlockLayout layout;
  LPLEX_RETURN_IF_ERROR(VerifyBlock(block, kVersion2, blocks_, 0, &layout));
  if (layout.base_time_us != base_time_us || layout.base_seq != base_seq) {
    return Status::InvalidArgument(fmt::format(
        "block says base time {} and base seq {}, but it was sent as base time {} and base seq {}",
        layout.base_time_us, layout.base_seq, base_time_us, base_seq));
  }
  return Status::Ok();
}

Status BlockWriter::AppendBlock(uint64_t base_seq, int64_t base_time_us, std::span<const uint8_t> data,
                                bool compressed) {
  LPLEX_RETURN_IF_ERROR(Check(base_seq, base_time_us, data, compressed));
  const Compression kind = compressed ? Compression::kZstd : Compression::kNone;
  if (file_ && kind != file_compression_) LPLEX_RETURN_IF_ERROR(Finish());
  if (!file_) {
    auto created = JournalFile::Create(fs_, opt_.dir, opt_.prefix, base_time_us, opt_.block_size, kind);
    if (!created.ok()) return created.status();
    file_ = std::move(created).value();
    file_compression_ = kind;
    file_start_us_ = base_time_us;
  }
  uint8_t header[kZstdHeaderLenV2];
  size_t header_len = 0;
  if (compressed) {
    le::Store64(header, static_cast<uint64_t>(base_time_us));
    le::Store64(header + 8, base_seq);
    le::Store32(header + 16, static_cast<uint32_t>(data.size()));
    header_len = kZstdHeaderLenV2;
  }
  Status s = file_->AppendBlock({{header, header_len}, data});
  if (!s.ok()) {
    (void)file_->Finish(/*write_index=*/false);
    RotatedFile done{file_->path(), ""};
    file_.reset();
    if (opt_.on_rotate) opt_.on_rotate(done);
    return s.WithContext("backfill block write");
  }
  ++blocks_;
  if ((opt_.rotate_size > 0 && file_->size() >= opt_.rotate_size) ||
      (opt_.rotate_duration_us > 0 && base_time_us - file_start_us_ >= opt_.rotate_duration_us)) {
    return Finish();
  }
  return Status::Ok();
}

Status BlockWriter::Finish() {
  if (!file_) return Status::Ok();
  Status s = file_->Finish();
  RotatedFile done{file_->path(), ""};
  file_.reset();
  if (opt_.on_rotate) opt_.on_rotate(done);
  return s;
}

Status BlockWriter::Close() { return Finish(); }

}  // namespace lplex::journal
