// StoredBlockReader: a journal file's blocks as they are stored on disk, for
// block-level copying (replication backfill, spec/cloud.md §1.6), where a
// block is sent as it is rather than decoded into frames and encoded again.
//
// Blocks are located exactly as JournalReader locates them (it does the
// work): the LPJI index when it is sound and agrees with the blocks,
// otherwise a forward scan over the outer headers; uncompressed files are
// whole block_size slices. Damage stepped over while locating (a damaged
// index, a block cut off at the end of the file, trailing data) is not an
// error: it is listed in damage(), and a cut-off block is not counted in
// block_count(), so it can never be returned.
//
// Three levels of reading, cheapest first:
//  - BlockMeta / FindBlockForSeq / BlocksForSeqRange: what the outer headers
//    say (a small read per block at most; none to find a seq in a
//    compressed file, whose table is in memory after Open).
//  - ReadStoredBytes: the block's bytes exactly as on disk (outer header,
//    dictionary, zstd payload; or the whole uncompressed block). Nothing is
//    decompressed or checked beyond the lengths.
//  - ReadVerifiedBlock / ReadBackfillBlock: the stored bytes, decompressed
//    into a scratch buffer only to check them (CRC-32C, trailer ranges) and
//    to learn what the outer header does not hold (the frame count, the last
//    frame's time). The stored bytes are what is handed on; only a block
//    compressed with its own dictionary is re-encoded (see ReadBackfillBlock
//    and docs/adr/007-backfill-sends-stored-blocks.md).
//
// Any byte sequence is safe input: a truncated or corrupt file gives an
// error value naming the file, the block and its offset, never a crash or an
// allocation larger than the file (or than one block for the scratch buffer).
//
// Not thread-safe; one reader per thread. Spans returned by a read stay
// valid until the next read call on the same reader.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

// What the outer header (compressed) or block start (uncompressed) says
// about one block, read without decompressing anything.
struct StoredBlockMeta {
  uint64_t index = 0;
  uint64_t offset = 0;        // file offset (of the outer header when compressed)
  uint64_t stored_len = 0;    // bytes on disk: outer header + dictionary + payload, or block_size
  int64_t base_time_us = 0;   // as stored in front of the block (the outer header when compressed)
  uint64_t base_seq = 0;      // likewise; 0 for v1
  Compression compression = Compression::kNone;  // the file's
  uint32_t dict_len = 0;      // > 0: the payload needs this block's own dictionary (zstd+dict)
  uint32_t payload_len = 0;   // zstd payload bytes; 0 when uncompressed
};

// A block whose stored bytes were checked by decompressing them.
struct VerifiedBlock {
  StoredBlockMeta meta;       // base_time_us / base_seq: the block's own (CRC-protected) values
  uint32_t frame_count = 0;   // from the verified trailer
  // Time of the last frame that can be read (the base time when the block
  // has no frames). When a frame record is malformed although the CRC is
  // good (the reader then skips the block's remaining frames), the time of
  // the frame before it, and truncated is true.
  int64_t last_time_us = 0;
  bool truncated = false;
  // Views into the reader's buffers (valid until its next read):
  std::span<const uint8_t> stored;      // meta.stored_len bytes exactly as on disk
  std::span<const uint8_t> dictionary;  // inside `stored`; empty unless zstd+dict with a dictionary
  std::span<const uint8_t> payload;     // inside `stored`: the zstd frame, or the whole uncompressed block
  std::span<const uint8_t> decoded;     // block_size bytes: the verified uncompressed block
};

// What one backfill Block message carries (spec/cloud.md §1.2 `Block`,
// §1.6, P6), ready to be copied into it.
struct BackfillBlock {
  uint64_t base_seq = 0;
  int64_t base_time_us = 0;
  uint32_t frame_count = 0;
  int64_t last_time_us = 0;
  uint32_t block_size = 0;
  // True for zstd data: the payload of a zstd block or of a zstd+dict block
  // without a dictionary, copied as stored; or a dictionary block
  // re-encoded as plain zstd (reencoded). False: `data` is the whole
  // uncompressed block, stored bytes as they are (trailer CRC included).
  bool compressed = false;
  bool reencoded = false;
  std::span<const uint8_t> data;  // valid until the reader's next read
};

// Blocks [first, end) of one file; empty when first == end.
struct BlockRange {
  uint64_t first = 0;
  uint64_t end = 0;
  bool empty() const { return first >= end; }
  uint64_t size() const { return empty() ? 0 : end - first; }
};

class StoredBlockReader {
 public:
  struct Options {
    // zstd level for re-encoding a dictionary block as plain zstd (1..19;
    // the writer's default is 3).
    int reencode_level = 3;
  };

  StoredBlockReader(const StoredBlockReader&) = delete;
  StoredBlockReader& operator=(const StoredBlockReader&) = delete;
  ~StoredBlockReader();

  // Opens a journal from any RandomAccessFile; `name` is used in messages.
  // Fails as JournalReader::Open does (bad header, I/O error while locating
  // blocks); damage stepped over goes to damage().
  static Result<std::unique_ptr<StoredBlockReader>> Open(std::unique_ptr<RandomAccessFile> file, std::string name,
                                                         Options options);
  static Result<std::unique_ptr<StoredBlockReader>> Open(std::unique_ptr<RandomAccessFile> file,
                                                         std::string name = "journal");
  // Opens `path` through `fs` (FileSystem::Default() when null).
  static Result<std::unique_ptr<StoredBlockReader>> OpenPath(const std::string& path, FileSystem* fs = nullptr);

  const std::string& name() const;
  uint8_t version() const;
  Compression compression() const;
  uint32_t block_size() const;
  uint64_t block_count() const;
  // True when the blocks were located through the LPJI index (false after a
  // forward scan, and always for uncompressed files).
  bool has_block_index() const;
  // Damage stepped over while opening, one Corruption per occurrence,
  // naming the file and the offset (a damaged index, a cut-off last block,
  // trailing data).
  const std::vector<Status>& damage() const;

  // Block n as its outer header (or block start) describes it. Reads at most
  // one outer header; nothing for an uncompressed file's length, 16 bytes
  // for its base time and seq. Corruption when the stored lengths do not fit
  // between this block's offset and the next block (or the index table, or
  // the end of the file); OutOfRange for n >= block_count().
  Result<StoredBlockMeta> BlockMeta(uint64_t n);

  // The last block whose base seq is <= seq: a binary search over the base
  // seqs (the in-memory table of a compressed file, no read; one 8-byte read
  // per probe for an uncompressed file). Whether the block reaches `seq`
  // only its frame count tells (ReadVerifiedBlock). NotFound when the file
  // has no block or seq is before the first block's base seq; Unsupported
  // for v1 files ("seq ... requires journal v2").
  Result<uint64_t> FindBlockForSeq(uint64_t seq);

  // The blocks that can hold seqs in [start, end) (end exclusive, as the
  // protocol's SeqRange): from FindBlockForSeq(start) (or block 0 when
  // start is before it) through the last block whose base seq is < end.
  // The first may end before `start`, which only its frame count tells.
  // Empty when end <= start, the file is empty or every block starts at or
  // after end. Unsupported for v1 files.
  Result<BlockRange> BlocksForSeqRange(uint64_t start, uint64_t end);

  // Block n's stored bytes exactly as on disk, nothing decompressed. The
  // span is valid until the next read. Errors as BlockMeta, plus Corruption
  // when the file ends inside the block.
  Result<std::span<const uint8_t>> ReadStoredBytes(uint64_t n, StoredBlockMeta* meta = nullptr);

  // Block n's stored bytes, checked: decompressed (when compressed) into a
  // scratch buffer with the block's dictionary, then VerifyBlock (CRC-32C,
  // trailer ranges). Corruption naming the file, block and offset otherwise.
  Result<VerifiedBlock> ReadVerifiedBlock(uint64_t n);

  // Block n as a backfill Block message carries it (spec/cloud.md §1.6, P6):
  //  - uncompressed: the whole stored block;
  //  - zstd, or zstd+dict with DictLen 0: the stored zstd payload;
  //  - zstd+dict with a dictionary: the verified block re-encoded as one
  //    plain zstd frame (a Block has no field for a dictionary, and a cloud
  //    writes the data behind a 20-byte zstd header: sending the dictionary
  //    payload would store a block nobody can decode).
  // Every block is verified first (ReadVerifiedBlock), so a damaged block is
  // never sent. Unsupported for v1 files (their blocks carry no seqs, and a
  // v1 block inside a v2 file would be misread).
  Result<BackfillBlock> ReadBackfillBlock(uint64_t n);

 private:
  class Impl;
  explicit StoredBlockReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The most frames one block of `block_size` bytes can hold (VerifyBlock
// refuses more): every record takes at least kMinFrameRecordSize bytes of
// the room between the v2 data start and the trailer.
uint64_t MaxFramesPerBlock(uint32_t block_size);

}  // namespace lplex::journal
