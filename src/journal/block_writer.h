// BlockWriter: writes blocks that arrive already encoded (the cloud's
// backfill sink: blocks a boat sends from its own journal) into rotating
// .lpj v2 files.
//
// Unlike the reference, every block is checked before anything touches the
// disk: an uncompressed block must be exactly block_size bytes with a good
// CRC; a compressed one must decompress to such a block; and its BaseTime and
// BaseSeq must equal the values given with it. A rejected block leaves no
// file behind. A file holds blocks of one kind: a block whose compression
// differs from the open file's finishes that file and starts another.
//
// Rotation after a block: when rotate_size bytes were written, or when the
// block's base time is rotate_duration past the file's first block. Finished
// files are indexed (compressed), fsynced and closed before on_rotate fires.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/block_decoder.h"
#include "journal/format.h"
#include "journal/journal_file.h"
#include "journal/writer.h"

namespace lplex::journal {

struct BlockWriterOptions {
  std::string dir;
  std::string prefix = "backfill";
  uint32_t block_size = kDefaultBlockSize;
  int64_t rotate_duration_us = 0;  // 0 = no limit
  uint64_t rotate_size = 0;        // 0 = no limit
  std::function<void(const RotatedFile&)> on_rotate;
  FileSystem* fs = nullptr;
};

class BlockWriter {
 public:
  // Checks the block size and creates the directory.
  static Result<std::unique_ptr<BlockWriter>> Create(BlockWriterOptions options);
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;
  ~BlockWriter();

  // Appends one block: `data` is the whole uncompressed block, or (when
  // `compressed`) one zstd frame of it. Errors name what is wrong with the
  // block; a rejected block changes nothing.
  Status AppendBlock(uint64_t base_seq, int64_t base_time_us, std::span<const uint8_t> data, bool compressed);

  // Finishes the open file, if any (on_rotate fires). Safe to call twice.
  Status Close();

  const std::string& current_path() const;

 private:
  explicit BlockWriter(BlockWriterOptions options);
  Status Check(uint64_t base_seq, int64_t base_time_us, std::span<const uint8_t> data, bool compressed);
  Status Finish();

  BlockWriterOptions opt_;
  FileSystem* fs_;
  ZstdBlockDecompressor decompressor_;
  std::vector<uint8_t> scratch_;
  std::unique_ptr<JournalFile> file_;
  Compression file_compression_ = Compression::kNone;
  int64_t file_start_us_ = 0;
  uint64_t blocks_ = 0;
};

}  // namespace lplex::journal
