// JournalReader: reads .lpj files (v1 and v2; none, zstd and zstd+dict).
//
// Any byte sequence is safe input. Opening checks only the file header and
// locates the blocks:
//  - uncompressed files: every whole block_size slice after the header;
//  - compressed files: from the LPJI index when it is sound AND agrees with
//    the blocks (each entry is where the previous block's outer header says
//    that block ends, the first is 16, the last block ends where the index
//    table starts); otherwise by a forward scan over the outer headers. When
//    the index disagrees but the scan cannot get through the blocks either,
//    the index is kept (a block's outer header is what is damaged; that
//    block then fails to load and the others read normally).
// Blocks are loaded and verified (size, zstd, CRC-32C, trailer ranges) one
// at a time as iteration reaches them.
//
// Errors:
//  - a block that cannot be loaded stops Next(); status() says which block,
//    at which file offset, and why. SkipBlock() moves past it so the caller
//    can go on with the next block (lplex dump does; lplex verify reports).
//  - damage the reader steps over without stopping goes to the Reporter
//    given at Open (when there is one), once per occurrence:
//      * a damaged index (the blocks were located by a forward scan);
//      * bytes after the last whole block that are not a whole block: a
//        block cut off by a crash or still being written (its bytes are
//        lost), or, with 0 bytes lost, trailing data that cannot be a block
//        (the index with a damaged footer, data appended after the index,
//        bytes of the index's size or without a plausible block header;
//        the rule is in docs/format.md, "Bytes after the last whole block");
//      * a frame record that is malformed inside a block whose CRC is good,
//        or whose time would leave years 0001..9999 or whose seq would wrap
//        past 2^64-1: the rest of that block is unreadable and skipped (also
//        counted in truncated_blocks());
//      * an outer header whose base time / base seq differ from the block's
//        own (CRC-protected) values, which are then used.
//
// Not thread-safe; one reader per thread. The file is read with pread, so
// several readers may share one RandomAccessFile.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "can/can_id.h"
#include "can/frame.h"
#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

// Frames are read back as can::Frame (the one frame type, can/frame.h):
// timestamp, header = ParseCanId of the stored identifier, seq = BaseSeq +
// index for v2 (0 for v1), bus 0 (a journal does not record buses), and
// `data` valid until the next call that moves the reader (Next, Seek*,
// SkipBlock, InspectBlock). JournalReader::can_id() gives the stored
// identifier itself.

// What InspectBlock reports about one block.
struct BlockInfo {
  uint64_t index = 0;
  uint64_t offset = 0;          // file offset of the block (its outer header when compressed)
  int64_t base_time_us = 0;     // from the loaded block
  uint64_t base_seq = 0;        // 0 for v1
  uint32_t frame_count = 0;
  uint16_t device_count = 0;
  uint32_t compressed_len = 0;  // 0 when uncompressed
  uint32_t dict_len = 0;        // 0 unless zstd+dict with a dictionary
  uint64_t stored_len = 0;      // bytes the block occupies in the file, headers included
};

class JournalReader {
 public:
  // Told about damage the reader steps over (see the file comment). Must
  // outlive the reader. Called from Open and from the calls that move the
  // reader, on the reader's thread.
  class Reporter {
   public:
    virtual ~Reporter() = default;
    // `problem` (a Corruption) names the file, the block or file offset and
    // what is wrong. `dropped_bytes` is how many stored bytes could not be
    // read as frames because of it: 0 when no frame is lost (a damaged index
    // whose blocks a scan found, a wrong outer base time).
    virtual void Corruption(uint64_t dropped_bytes, const Status& problem) = 0;
  };

  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;
  ~JournalReader();

  // Opens a journal from any RandomAccessFile. `name` is only used in
  // messages. Fails on a bad header (magic, version, block size,
  // compression) and on an I/O error while locating the blocks. `reporter`
  // (may be null) hears of damage found while locating blocks before Open
  // returns, and of damage found later while reading.
  static Result<std::unique_ptr<JournalReader>> Open(std::unique_ptr<RandomAccessFile> file,
                                                     std::string name = "journal", Reporter* reporter = nullptr);
  // Opens the file at `path` through `fs` (FileSystem::Default() when null).
  static Result<std::unique_ptr<JournalReader>> OpenPath(const std::string& path, FileSystem* fs = nullptr,
                                                         Reporter* reporter = nullptr);

  uint8_t version() const;
  Compression compression() const;
  uint32_t block_size() const;
  uint64_t block_count() const;
  // True when the block table came from the LPJI footer (false after a
  // forward scan and always for uncompressed files).
  bool has_block_index() const;
  // Index of the loaded block (after a failed load: the block that failed),
  // or -1 before the first load.
  int64_t current_block() const;

  // Base time / base seq of block n as known without loading it (outer
  // headers for compressed files; read from disk for uncompressed ones).
  Result<int64_t> BlockBaseTime(uint64_t n);
  Result<uint64_t> BlockBaseSeq(uint64_t n);
  // File offset of block n as located at Open (its outer header when
  // compressed), without reading anything. OutOfRange for n >=
  // block_count(). For tools that read a block's stored bytes themselves
  // (journal/stored_blocks.h).
  Result<uint64_t> BlockOffset(uint64_t n) const;

  // Advances to the next frame. False at the end of the journal or when a
  // block fails to load (then status() is not OK).
  bool Next();
  // The current frame (valid after Next() returned true; see above for what
  // each field holds and how long `data` lives).
  const can::Frame& frame() const;
  // The current frame's identifier as stored (29 bits; bits 29..31 of the
  // stored word are cleared, the reserved bit 25 is kept). frame().header is
  // parsed from it. For tools that print or compare raw identifiers.
  uint32_t can_id() const;
  // Index of the current frame within its block.
  uint32_t frame_index() const;
  // The error that stopped iteration, or OK.
  const Status& status() const;

  // After a failed block load: clears the error and positions the reader
  // at the start of the following block (so the next Next() reads it).
  // Without a pending error it drops the rest of the current block; before
  // any block was loaded it does nothing.
  void SkipBlock();

  // Loads block n and positions before its first frame. A successful seek
  // clears an earlier iteration error.
  Status SeekBlock(uint64_t n);
  // Loads the last block whose base time is <= t (block 0 when t is before
  // all of them) — O(log N) block headers — and positions before its first
  // frame; the caller skips forward to the exact frame.
  Status SeekToTime(int64_t t_us);
  // Same by sequence number; requires v2 ("seq seeking requires journal v2").
  Status SeekToSeq(uint64_t seq);

  // Every device-table entry of the loaded block, in table order.
  // Corruption naming the block and the entry when the table cannot be
  // parsed (its CRC was good, so the writer produced it); NotFound when no
  // block is loaded (none yet, or the last load failed).
  Result<std::vector<DeviceEntry>> BlockDevices() const;
  // One entry per source as of frame `frame_index` of the loaded block: the
  // entry with the largest active_from <= frame_index (first wins a tie),
  // sorted by source. Errors as BlockDevices().
  Result<std::vector<DeviceEntry>> BlockDevicesAt(uint32_t frame_index) const;

  // Loads block n fully (every check applies) and describes it. Moves the
  // reader to that block.
  Result<BlockInfo> InspectBlock(uint64_t n);

  // Blocks whose frame records ended early (see the file comment); a block
  // read twice (after a seek) counts twice.
  uint64_t truncated_blocks() const;

 private:
  class Impl;
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lplex::journal
