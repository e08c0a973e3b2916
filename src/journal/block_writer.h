// BlockWriter: writes blocks that arrive already encoded (the cloud's
// backfill sink: blocks a boat sends from its own journal) into rotating
// .lpj v2 files.
//
// Unlike the reference, every block is checked before anything touches the
// disk: it must decode (zstd: with its own dictionary, if it has one) to
// exactly block_size bytes with a good CRC, and its BaseTime and BaseSeq must
// equal the values given with it. A rejected block leaves no file behind. A
// file holds blocks of one kind (none, zstd or zstd+dict, as its header
// says): a block of another kind finishes the open file and starts another.
//
// Rotation after a block: when rotate_size bytes were written, or when the
// block's base time is rotate_duration past the file's first block. Files
// are opened and finished as JournalWriter's are (OutputFile): (path, true)
// is reported before a file is created; a finished file is indexed
// (compressed), fsynced and closed, then reported (path, false), then handed
// to on_rotate. Not thread-safe.
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
#include "journal/output_file.h"
#include "journal/rotated_file.h"

namespace lplex::journal {

struct BlockWriterOptions {
  std::string dir;
  std::string prefix = "backfill";
  uint32_t block_size = kDefaultBlockSize;  // journal::ValidateBlockSize
  int64_t rotate_duration_us = 0;  // 0 = no limit
  uint64_t rotate_size = 0;        // 0 = no limit
  std::function<void(const RotatedFile&)> on_rotate;  // may be empty
  // Same contract as WriterOptions::on_open_change: hears (path, true)
  // before a file is created and (path, false) once it is finished (just
  // before on_rotate) or could not be created. The cloud wires it to the
  // keeper's open-file set (ADR 004) so backfill files are never archived
  // half-written. May be empty.
  std::function<void(const std::string& path, bool open)> on_open_change;
  FileSystem* fs = nullptr;  // null = FileSystem::Default()
};

class BlockWriter {
 public:
  // Checks the block size and prefix, and creates the directory.
  static Result<std::unique_ptr<BlockWriter>> Create(BlockWriterOptions options);
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;
  // Calls Close().
  ~BlockWriter();

  // Appends one block whose bytes are encoded as `kind` says — the three
  // block types of spec/journal.md §1:
  //  - kNone:     `data` is the whole uncompressed block (block_size bytes);
  //  - kZstd:     `data` is one zstd frame of it;
  //  - kZstdDict: `data` is one zstd frame of it, compressed with
  //               `dictionary`, the block's own dictionary as a type-2 block
  //               stores it: either empty (DictLen 0: plain zstd), or a
  //               formatted zstd dictionary (magic 0xEC30A437, nonzero ID)
  //               whose ID the frame header names — what the Go writer and
  //               BlockCompressor produce, and what a Go reader can decode.
  // `dictionary` must be empty for kNone and kZstd.
  // The block must decode to block_size bytes with a good CRC and the given
  // base_seq and base_time_us. A zstd+dict block is written with the 24-byte
  // header (BaseTime, BaseSeq, DictLen, CompressedLen), the dictionary and
  // the payload, into a file whose header says zstd+dict.
  // A block of another kind than the open file's first finishes that file.
  // Errors name what is wrong with the block (InvalidArgument, Corruption);
  // a rejected block changes nothing: no file is created or finished. A
  // failed write (IOError) finishes the file as it stands (no index) and
  // hands it on, like JournalWriter.
  Status AppendBlock(uint64_t base_seq, int64_t base_time_us, Compression kind, std::span<const uint8_t> data,
                     std::span<const uint8_t> dictionary = {});

  // AppendBlock in two steps, for a caller that must look inside a block
  // before deciding to keep it whole (the cloud keeps only the frames a
  // backfill block adds). CheckBlock runs AppendBlock's checks and writes
  // nothing; on OK, *out holds the block's layout and its uncompressed
  // bytes (valid until the next CheckBlock/AppendBlock).
  struct CheckedBlock {
    BlockLayout layout;
    std::span<const uint8_t> block;
  };
  Status CheckBlock(uint64_t base_seq, int64_t base_time_us, Compression kind, std::span<const uint8_t> data,
                    std::span<const uint8_t> dictionary, CheckedBlock* out);
  // Writes the block CheckBlock just passed with exactly these arguments
  // (not checked again). Errors and rotation as AppendBlock.
  Status AppendCheckedBlock(uint64_t base_seq, int64_t base_time_us, Compression kind, std::span<const uint8_t> data,
                            std::span<const uint8_t> dictionary = {});

  // Finishes the open file, if any (on_open_change(path, false), then
  // on_rotate). Safe to call twice.
  Status Close();

  // Path of the file being written, or "" when none is open.
  const std::string& current_path() const { return file_.path(); }

  // Files finished so far (rotations, kind changes, Close).
  uint64_t files_finished() const { return file_.files_finished(); }

 private:
  explicit BlockWriter(BlockWriterOptions options);

  BlockWriterOptions opt_;
  ZstdBlockDecompressor decompressor_;
  std::vector<uint8_t> scratch_;
  OutputFile file_;
  int64_t file_start_us_ = 0;
  uint64_t blocks_ = 0;  // accepted so far; names blocks in messages
};

}  // namespace lplex::journal
