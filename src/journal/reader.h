// JournalReader: reads .lpj files (v1 and v2; none, zstd and zstd+dict).
//
// Any byte sequence is safe input. Opening checks only the file header and
// locates the blocks (from the LPJI index when it is sound, else by a forward
// scan that stops at the first incomplete block, which is how a file cut off
// by a crash is recovered). Blocks are loaded and verified (size, zstd,
// CRC-32C, trailer ranges) one at a time as iteration reaches them.
//
// Errors:
//  - a block that cannot be loaded stops Next(); status() says which block,
//    at which file offset, and why. SkipBlock() moves past it so the caller
//    can go on with the next block (lplex dump does; lplex verify reports).
//  - a frame record that is malformed inside a block whose CRC is good ends
//    that block early (the rest of it is unreadable); the count of such
//    blocks is kept in truncated_blocks().
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
#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

// One frame as read back. `data` stays valid until the next call that moves
// the reader (Next, Seek*, SkipBlock, InspectBlock).
struct JournalFrame {
  int64_t timestamp_us = 0;
  uint32_t can_id = 0;        // 29-bit identifier
  can::CanHeader header;      // ParseCanId(can_id)
  uint64_t seq = 0;           // BaseSeq + index for v2; 0 for v1
  std::span<const uint8_t> data;
};

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
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;
  ~JournalReader();

  // Opens a journal from any RandomAccessFile. `name` is only used in
  // messages. Fails on a bad header (magic, version, block size, compression).
  static Result<std::unique_ptr<JournalReader>> Open(std::unique_ptr<RandomAccessFile> file,
                                                     std::string name = "journal");
  // Opens the file at `path` through `fs` (FileSystem::Default() when null).
  static Result<std::unique_ptr<JournalReader>> OpenPath(const std::string& path, FileSystem* fs = nullptr);

  uint8_t version() const;
  Compression compression() const;
  uint32_t block_size() const;
  uint64_t block_count() const;
  // True when the block table came from a sound LPJI footer (false after a
  // forward scan and always for uncompressed files).
  bool has_block_index() const;
  // Index of the loaded block (after a failed load: the block that failed),
  // or -1 before the first load.
  int64_t current_block() const;

  // Base time / base seq of block n as known without loading it (outer
  // headers for compressed files; read from disk for uncompressed ones).
  Result<int64_t> BlockBaseTime(uint64_t n);
  Result<uint64_t> BlockBaseSeq(uint64_t n);

  // Advances to the next frame. False at the end of the journal or when a
  // block fails to load (then status() is not OK).
  bool Next();
  // The current frame (valid after Next() returned true).
  const JournalFrame& frame() const;
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
  std::vector<DeviceEntry> BlockDevices() const;
  // One entry per source as of frame `frame_index` of the loaded block: the
  // entry with the largest active_from <= frame_index (first wins a tie),
  // sorted by source.
  std::vector<DeviceEntry> BlockDevicesAt(uint32_t frame_index) const;

  // Loads block n fully (every check applies) and describes it. Moves the
  // reader to that block.
  Result<BlockInfo> InspectBlock(uint64_t n);

  // Blocks whose frame records ended early (see the class comment); a block
  // read twice (after a seek) counts twice.
  uint64_t truncated_blocks() const;

 private:
  class Impl;
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lplex::journal
