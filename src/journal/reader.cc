#include "journal/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

#include "core/endian.h"
#include "journal/block_decoder.h"

namespace lplex::journal {

namespace {

constexpr size_t kIndexFooterLen = 8;  // count u32 + "LPJI"
constexpr uint32_t kCanIdMask = 0x1FFFFFFFu;

// Reads exactly n bytes or explains why not. `what` names the read.
Status ReadExact(const RandomAccessFile& f, uint64_t offset, size_t n, uint8_t* dst, std::string_view what) {
  Result<size_t> got = f.Read(offset, n, dst);
  if (!got.ok()) return got.status().WithContext(what);
  if (*got != n) {
    return Status::Corruption(fmt::format("{}: file ends after {} of {} bytes at offset {}", what, *got, n, offset));
  }
  return Status::Ok();
}

}  // namespace

class JournalReader::Impl {
 public:
  Impl(std::unique_ptr<RandomAccessFile> file, std::string name, FileHeader header, uint64_t size,
       Reporter* reporter)
      : file_(std::move(file)), name_(std::move(name)), header_(header), file_size_(size), reporter_(reporter) {}

  // Finds the blocks (§4.1/§4.2 and the index/block agreement rule in the
  // header comment). Only an I/O error during the forward scan fails.
  Status LocateBlocks();

  bool Next();
  void SkipBlock();
  Status SeekBlock(uint64_t n);
  Status SeekToTime(int64_t t_us);
  Status SeekToSeq(uint64_t seq);
  Result<int64_t> BlockBaseTime(uint64_t n);
  Result<uint64_t> BlockBaseSeq(uint64_t n);
  Result<uint64_t> BlockFileOffset(uint64_t n) const {
    if (n >= block_count_) return OutOfRange(n);
    return BlockOffset(n);
  }
  Result<BlockInfo> InspectBlock(uint64_t n);
  Result<std::vector<DeviceEntry>> BlockDevices() const;
  Result<std::vector<DeviceEntry>> BlockDevicesAt(uint32_t frame_index) const;

  const FileHeader& header() const { return header_; }
  uint64_t block_count() const { return block_count_; }
  bool has_index() const { return has_index_; }
  int64_t current_block() const { return pos_; }
  const can::Frame& frame() const { return frame_; }
  uint32_t can_id() const { return can_id_; }
  uint32_t frame_index() const { return frame_index_; }
  const Status& status() const { return status_; }
  uint64_t truncated_blocks() const { return truncated_; }

 private:
  struct BlockRef {
    uint64_t offset = 0;
    int64_t base_time_us = 0;
    uint64_t base_seq = 0;
  };

  bool compressed() const { return header_.compression != Compression::kNone; }
  size_t outer_header_len() const { return CompressedHeaderLen(header_.version, header_.compression); }
  uint64_t BlockOffset(uint64_t n) const {
    return compressed() ? blocks_[n].offset : kFileHeaderSize + n * header_.block_size;
  }
  Status OutOfRange(uint64_t n) const {
    return Status::OutOfRange(fmt::format("{}: block {} out of range [0, {})", name_, n, block_count_));
  }

  // Reads the LPJI footer and checks the §4.2 rules plus "the first entry is
  // 16". NotFound when there is no footer. On OK, `offsets` holds the entries;
  // `table_start` is where the index table starts whenever the footer's count
  // fits in the file (even when an entry breaks a rule), else the footer's
  // own offset.
  Status ReadIndex(std::vector<uint64_t>* offsets, uint64_t* table_start);
  // Reads each indexed block's outer header into `out` (one BlockRef per
  // offset) and checks that the blocks chain: block i ends exactly where
  // entry i+1 (or, for the last, the index table) starts. The first
  // disagreement is returned as Corruption naming the entry.
  Status ReadIndexedBlocks(const std::vector<uint64_t>& offsets, uint64_t table_start, std::vector<BlockRef>* out);
  // Walks the outer headers from offset 16 and stops at the first one that is
  // empty, whose block would run past `limit`, or that is where the block
  // index of the blocks found so far starts (its first entries are their
  // offsets: an index whose footer is damaged, or data appended after a
  // closed file); *at_index says whether that last case stopped it. Returns
  // where it stopped (== limit when whole blocks fill [16, limit)). Only I/O
  // errors fail.
  Result<uint64_t> ScanBlocks(uint64_t limit, std::vector<BlockRef>* out, bool* at_index);
  // True when the bytes at `off` start with the offsets of `blocks` (the
  // first few of them), as a block index of those blocks does.
  Result<bool> IndexStartsAt(uint64_t off, const std::vector<BlockRef>& blocks);
  // Where in [from, end) an index of `blocks` starts, or nullopt (also when
  // `blocks` is empty or the range is too large to search).
  Result<std::optional<uint64_t>> FindIndex(uint64_t from, uint64_t end, const std::vector<BlockRef>& blocks);
  // True when the bytes [at, end) after the last whole block can be the
  // start of a real block cut off by the end of the file: they begin with a
  // plausible outer header (or uncompressed block start) whose block runs
  // past `end`, or they are too long to be anything but blocks. See
  // ReportTail.
  Result<bool> LooksLikeCutBlock(uint64_t at, uint64_t end);
  // Reports the bytes [at, end) after the last whole block of a file without
  // a usable footer: frames lost when they can be a cut-off block, a warning
  // (0 bytes lost) when they cannot be a block (the index, or trailing data).
  Status ReportTail(uint64_t at, uint64_t end, bool at_index);
  // Tells the reporter, if any.
  void Report(uint64_t dropped_bytes, std::string what);

  // Loads block n into block_ and verifies it; on success the reader is
  // positioned before its first frame, on failure status_ holds the error.
  Status LoadAndPosition(uint64_t n);
  Status LoadBlock(uint64_t n);
  // After a compressed block n verified: the outer header's base time/seq
  // (used for seeking) must match the block's own; a mismatch is reported
  // and the in-memory copy corrected.
  void CheckOuterHeader(uint64_t n);
  Status LoadUncompressed(uint64_t n);
  Status LoadCompressed(uint64_t n);
  Status EnsureBlockBuffer();
  // Binary search: the last block whose key (base time or seq) is <= target,
  // else block 0; then loads it.
  template <typename Key, typename KeyOf>
  Status SeekByKey(Key target, KeyOf key_of);

  std::unique_ptr<RandomAccessFile> file_;
  std::string name_;
  FileHeader header_;
  uint64_t file_size_;
  Reporter* reporter_;

  uint64_t block_count_ = 0;
  std::vector<BlockRef> blocks_;  // compressed files only
  bool has_index_ = false;

  // The loaded block. Allocated on the first load, once a block of this size
  // has been shown to exist in the file (or its payload to be able to hold it).
  std::unique_ptr<uint8_t[]> block_;
  std::vector<uint8_t> stored_;  // dictionary + payload of the compressed block being loaded
  ZstdBlockDecompressor zstd_;
  BlockLayout layout_;
  int64_t loaded_ = -1;  // block whose verified bytes are in block_, or -1
  uint32_t loaded_dict_len_ = 0;
  uint32_t loaded_compressed_len_ = 0;
  uint64_t loaded_stored_len_ = 0;

  // Iteration over block pos_.
  int64_t pos_ = -1;
  uint32_t block_frames_ = 0;  // frames to read in pos_; 0 when pos_ is not loaded
  uint32_t next_frame_ = 0;
  const uint8_t* cursor_ = nullptr;
  const uint8_t* frames_end_ = nullptr;
  int64_t prev_time_us_ = 0;
  can::Frame frame_;    // bus stays 0: a journal does not record buses
  uint32_t can_id_ = 0; // the stored 29-bit identifier of frame_
  uint32_t frame_index_ = 0;
  Status status_;
  uint64_t truncated_ = 0;
};

// ---------------------------------------------------------------------------
// Locating blocks

void JournalReader::Impl::Report(uint64_t dropped_bytes, std::string what) {
  if (reporter_ != nullptr) reporter_->Corruption(dropped_bytes, Status::Corruption(fmt::format("{}: {}", name_, what)));
}

Status JournalReader::Impl::LocateBlocks() {
  if (!compressed()) {
    const uint64_t body = file_size_ >= kFileHeaderSize ? file_size_ - kFileHeaderSize : 0;
    block_count_ = body / header_.block_size;
    if (const uint64_t tail = body % header_.block_size; tail != 0) {
      const uint64_t at = kFileHeaderSize + block_count_ * header_.block_size;
      return ReportTail(at, file_size_, false);
    }
    return Status::Ok();
  }
  std::vector<uint64_t> offsets;
  uint64_t table_start = file_size_;
  Status index = ReadIndex(&offsets, &table_start);
  if (index.IsNotFound()) {
    // No footer: a file cut off by a crash, or still being written.
    bool at_index = false;
    Result<uint64_t> stop = ScanBlocks(file_size_, &blocks_, &at_index);
    if (!stop.ok()) return stop.status().WithContext(fmt::format("{}: scan compressed blocks", name_));
    block_count_ = blocks_.size();
    if (*stop < file_size_) return ReportTail(*stop, file_size_, at_index);
    return Status::Ok();
  }
  std::vector<BlockRef> indexed;
  if (index.ok()) index = ReadIndexedBlocks(offsets, table_start, &indexed);
  if (index.ok()) {
    blocks_ = std::move(indexed);
    block_count_ = blocks_.size();
    has_index_ = true;
    return Status::Ok();
  }
  // The index is there but disagrees with the blocks. Whichever of the two
  // accounts for every byte up to the index table wins.
  std::vector<BlockRef> scanned;
  bool at_index = false;
  Result<uint64_t> stop = ScanBlocks(table_start, &scanned, &at_index);
  if (!stop.ok()) return stop.status().WithContext(fmt::format("{}: scan compressed blocks", name_));
  if (*stop != table_start && !at_index && indexed.size() == offsets.size() && !offsets.empty()) {
    // The scan is derailed too, so an outer header's lengths are what is
    // damaged, not the index: keep the index, whose offsets bound every
    // block; the damaged block fails when it is loaded.
    blocks_ = std::move(indexed);
    block_count_ = blocks_.size();
    has_index_ = true;
    return Status::Ok();
  }
  blocks_ = std::move(scanned);
  block_count_ = blocks_.size();
  Report(0, fmt::format("block index damaged: {}; blocks located by forward scan", index.message()));
  if (at_index) {
    // The scan met the real index table before where the footer's count put
    // it (the count is damaged): every block was found.
    return Status::Ok();
  }
  if (*stop < table_start) {
    Report(table_start - *stop,
           fmt::format("{} bytes at file offset {} before the block index are not a whole block (block {} is "
                       "cut off or its outer header is damaged)",
                       table_start - *stop, *stop, block_count_));
  }
  return Status::Ok();
}

Status JournalReader::Impl::ReadIndex(std::vector<uint64_t>* offsets, uint64_t* table_start) {
  if (file_size_ < kFileHeaderSize + kIndexFooterLen) return Status::NotFound("file too small for a block index");
  uint8_t footer[kIndexFooterLen];
  Status s = ReadExact(*file_, file_size_ - kIndexFooterLen, kIndexFooterLen, footer, "index footer");
  if (!s.ok()) return Status::NotFound(s.message());
  if (std::memcmp(footer + 4, kIndexMagic, 4) != 0) return Status::NotFound("no LPJI footer");
  *table_start = file_size_ - kIndexFooterLen;
  const uint32_t count = le::Load32(footer);
  if (count > kMaxIndexEntries) {
    return Status::Corruption(fmt::format("index count {} exceeds limit {}", count, kMaxIndexEntries));
  }
  const uint64_t table_len = uint64_t{8} * count;
  if (file_size_ - kIndexFooterLen < table_len || file_size_ - kIndexFooterLen - table_len < kFileHeaderSize) {
    return Status::Corruption(fmt::format("index of {} entries does not fit in {} bytes", count, file_size_));
  }
  *table_start = file_size_ - kIndexFooterLen - table_len;
  if (count == 0) return Status::Ok();

  std::vector<uint8_t> table(table_len);
  LPLEX_RETURN_IF_ERROR(ReadExact(*file_, *table_start, table.size(), table.data(), "index table"));
  offsets->resize(count);
  uint64_t prev = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t off = le::Load64(table.data() + 8 * i);
    if (i == 0 && off != kFileHeaderSize) {
      return Status::Corruption(fmt::format("index entry 0 has offset {} (valid: {}, right after the file header)",
                                            off, kFileHeaderSize));
    }
    if (off >= *table_start || (i > 0 && off <= prev)) {
      // Entry i must lie in (prev, table_start); entry 0 is 16.
      const uint64_t lowest = i == 0 ? kFileHeaderSize : prev + 1;
      if (lowest >= *table_start) {
        return Status::Corruption(fmt::format("index entry {} has offset {}, but the index table of {} entries "
                                              "starts at offset {}, leaving no room for block {}",
                                              i, off, count, *table_start, i));
      }
      return Status::Corruption(fmt::format("index entry {} has offset {} (valid: {}..{}, after entry {} and "
                                            "before the index table)",
                                            i, off, lowest, *table_start - 1, i - 1));
    }
    prev = off;
    (*offsets)[i] = off;
  }
  return Status::Ok();
}

Status JournalReader::Impl::ReadIndexedBlocks(const std::vector<uint64_t>& offsets, uint64_t table_start,
                                              std::vector<BlockRef>* out) {
  if (offsets.empty() && table_start != kFileHeaderSize) {
    return Status::Corruption(fmt::format("index lists no blocks, but {} bytes lie between the file header and the "
                                          "index table",
                                          table_start - kFileHeaderSize));
  }
  const size_t hlen = outer_header_len();
  const bool dict = header_.compression == Compression::kZstdDict;
  const size_t lens_at = header_.version == kVersion1 ? 8 : 16;
  Status first_mismatch;
  out->reserve(offsets.size());
  for (size_t i = 0; i < offsets.size(); ++i) {
    uint8_t h[kDictHeaderLenV2];
    const uint64_t off = offsets[i];
    const uint64_t next = i + 1 < offsets.size() ? offsets[i + 1] : table_start;
    // Offsets are below table_start <= file size - 8; a header may still run past the file.
    const size_t want = static_cast<size_t>(std::min<uint64_t>(hlen, file_size_ - off));
    LPLEX_RETURN_IF_ERROR(ReadExact(*file_, off, want, h, fmt::format("block {} header", i)));
    BlockRef b;
    b.offset = off;
    if (want >= lens_at) {
      b.base_time_us = static_cast<int64_t>(le::Load64(h));
      b.base_seq = header_.version == kVersion1 ? 0 : le::Load64(h + 8);
    }
    out->push_back(b);
    if (!first_mismatch.ok()) continue;
    uint64_t end = 0;
    if (want == hlen) {
      const uint32_t dict_len = dict ? le::Load32(h + lens_at) : 0;
      const uint32_t comp_len = le::Load32(h + lens_at + (dict ? 4 : 0));
      end = off + hlen + dict_len + comp_len;
    }
    if (want < hlen || end != next) {
      const std::string where = i + 1 < offsets.size() ? fmt::format("entry {} says block {} starts", i + 1, i + 1)
                                                        : std::string("the index table starts");
      first_mismatch = Status::Corruption(
          want < hlen ? fmt::format("entry {} (offset {}) leaves no room for a block header", i, off)
                      : fmt::format("{} at offset {}, but block {} (at offset {}) ends at {}", where, next, i, off,
                                    end));
    }
  }
  return first_mismatch;
}

Result<uint64_t> JournalReader::Impl::ScanBlocks(uint64_t limit, std::vector<BlockRef>* out, bool* at_index) {
  const size_t hlen = outer_header_len();
  const bool dict = header_.compression == Compression::kZstdDict;
  const size_t lens_at = header_.version == kVersion1 ? 8 : 16;
  uint64_t off = kFileHeaderSize;
  uint8_t h[kDictHeaderLenV2];
  *at_index = false;
  while (off <= limit && limit - off >= hlen) {
    LPLEX_ASSIGN_OR_RETURN(const size_t got, file_->Read(off, hlen, h));
    if (got != hlen) break;  // the file shrank under us; keep what we have
    // An index's first entry (16) read as a base time; only then compare
    // more, so the scan stays one read per block.
    if (!out->empty() && le::Load64(h) == kFileHeaderSize) {
      LPLEX_ASSIGN_OR_RETURN(const bool index_here, IndexStartsAt(off, *out));
      if (index_here) {
        *at_index = true;
        break;
      }
    }
    const uint32_t dict_len = dict ? le::Load32(h + lens_at) : 0;
    const uint32_t comp_len = le::Load32(h + lens_at + (dict ? 4 : 0));
    if (comp_len == 0 && dict_len == 0) break;
    const uint64_t body = uint64_t{dict_len} + comp_len;
    if (body > limit - off - hlen) break;
    BlockRef b;
    b.offset = off;
    b.base_time_us = static_cast<int64_t>(le::Load64(h));
    b.base_seq = header_.version == kVersion1 ? 0 : le::Load64(h + 8);
    out->push_back(b);
    off += hlen + body;
  }
  return off;
}

Result<bool> JournalReader::Impl::IndexStartsAt(uint64_t off, const std::vector<BlockRef>& blocks) {
  constexpr size_t kCompared = 16;  // entries; enough to tell an index from a block header
  const size_t n = std::min(blocks.size(), kCompared);
  if (n == 0 || off > file_size_ || file_size_ - off < 8 * n) return false;
  std::array<uint8_t, 8 * kCompared> buf;
  LPLEX_ASSIGN_OR_RETURN(const size_t got, file_->Read(off, 8 * n, buf.data()));
  if (got != 8 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (le::Load64(buf.data() + 8 * i) != blocks[i].offset) return false;
  }
  return true;
}

Result<std::optional<uint64_t>> JournalReader::Impl::FindIndex(uint64_t from, uint64_t end,
                                                               const std::vector<BlockRef>& blocks) {
  constexpr uint64_t kMaxSearch = 64u << 20;  // bytes; a tail this long is blocks, not an index
  if (blocks.empty() || end <= from || end - from > kMaxSearch) return std::optional<uint64_t>();
  std::vector<uint8_t> tail(static_cast<size_t>(end - from));
  LPLEX_RETURN_IF_ERROR(ReadExact(*file_, from, tail.size(), tail.data(), "trailing data"));
  std::array<uint8_t, 16> first;  // entries 0 and 1 (or entry 0 and the count 1)
  le::Store64(first.data(), blocks[0].offset);
  const size_t want = blocks.size() > 1 ? 16 : 8;
  if (blocks.size() > 1) le::Store64(first.data() + 8, blocks[1].offset);
  for (auto it = tail.begin();;) {
    it = std::search(it, tail.end(), first.begin(), first.begin() + static_cast<ptrdiff_t>(want));
    if (it == tail.end()) return std::optional<uint64_t>();
    const uint64_t at = from + static_cast<uint64_t>(it - tail.begin());
    LPLEX_ASSIGN_OR_RETURN(const bool index_here, IndexStartsAt(at, blocks));
    if (index_here) return std::optional<uint64_t>(at);
    ++it;
  }
}

Result<bool> JournalReader::Impl::LooksLikeCutBlock(uint64_t at, uint64_t end) {
  const uint64_t len = end - at;
  uint8_t h[kDictHeaderLenV2] = {};
  const size_t hlen = compressed() ? outer_header_len() : BlockDataOffset(header_.version);
  const size_t have = static_cast<size_t>(std::min<uint64_t>(len, hlen));
  LPLEX_RETURN_IF_ERROR(ReadExact(*file_, at, have, h, "trailing data"));
  // Every field that is there must be one a writer could have written. With
  // too few bytes to judge, assume a block was cut off: losing frames
  // silently is worse than a false alarm.
  const uint64_t max_payload = MaxZstdPayloadSize(header_.block_size);
  // Longer than the largest stored block (a damaged outer header stopped
  // the scan of a file without an index): there must be blocks in there.
  if (compressed() && len >= hlen + uint64_t{header_.block_size} + max_payload) return true;
  if (have >= 8) {
    const int64_t base_time = static_cast<int64_t>(le::Load64(h));
    if (base_time < kMinTimestampUs || base_time > kMaxTimestampUs) return false;
  }
  if (!compressed()) return true;  // shorter than a block by construction
  if (have < hlen) return true;
  const bool dict = header_.compression == Compression::kZstdDict;
  const size_t lens_at = header_.version == kVersion1 ? 8 : 16;
  const uint32_t dict_len = dict ? le::Load32(h + lens_at) : 0;
  const uint32_t comp_len = le::Load32(h + lens_at + (dict ? 4 : 0));
  if (comp_len == 0 || comp_len > max_payload || dict_len > header_.block_size) return false;
  if (MaxZstdContentSize(comp_len) < header_.block_size) return false;
  return hlen + uint64_t{dict_len} + comp_len > len;  // runs past the end: cut off
}

Status JournalReader::Impl::ReportTail(uint64_t at, uint64_t end, bool at_index) {
  const uint64_t n = block_count_;
  std::optional<uint64_t> index_at;
  if (at_index) {
    index_at = at;
  } else if (compressed()) {
    LPLEX_ASSIGN_OR_RETURN(index_at, FindIndex(at, end, blocks_));
  }
  if (index_at) {
    // Blocks before the index that the scan could not step over are lost.
    if (*index_at > at) {
      Report(*index_at - at, fmt::format("{} bytes at file offset {} before the block index are not a whole block "
                                         "(block {} is cut off or its outer header is damaged)",
                                         *index_at - at, at, n));
    }
    // An intact index with bytes after it: something was appended to a
    // closed file.
    const uint64_t footer_at = *index_at + 8 * n;
    uint8_t footer[kIndexFooterLen];
    if (footer_at <= end && end - footer_at > kIndexFooterLen &&
        ReadExact(*file_, footer_at, kIndexFooterLen, footer, "index footer").ok() && le::Load32(footer) == n &&
        std::memcmp(footer + 4, kIndexMagic, 4) == 0) {
      const uint64_t extra_at = footer_at + kIndexFooterLen;
      Report(0, fmt::format("{} bytes of trailing data at file offset {} that are not a block (after the intact "
                            "block index at file offset {}: data appended to a closed file)",
                            end - extra_at, extra_at, *index_at));
      return Status::Ok();
    }
    Report(0, fmt::format("{} bytes of trailing data at file offset {} that are not a block (a damaged index?: they "
                          "start with the offsets of the {} blocks before them, but do not end in a valid footer)",
                          end - *index_at, *index_at, n));
    return Status::Ok();
  }
  const uint64_t len = end - at;
  if (compressed() && n > 0 && len == 8 * n + kIndexFooterLen) {
    Report(0, fmt::format("{} bytes of trailing data at file offset {} that are not a block (a damaged index?: the "
                          "size of the block index of the {} blocks before them)",
                          len, at, n));
    return Status::Ok();
  }
  LPLEX_ASSIGN_OR_RETURN(const bool cut, LooksLikeCutBlock(at, end));
  if (!cut) {
    Report(0, fmt::format("{} bytes of trailing data at file offset {} that are not a block (a damaged index?: they "
                          "do not start with a plausible block header)",
                          len, at));
    return Status::Ok();
  }
  if (compressed()) {
    Report(len, fmt::format("{} bytes at file offset {} after the last whole block are not a whole block (block {} "
                            "is cut off or its outer header is damaged; the file has no block index)",
                            len, at, n));
  } else {
    Report(len, fmt::format("{} bytes at file offset {} are not a whole block of {} bytes (block {} is cut off: the "
                            "file was truncated, or is still being written)",
                            len, at, header_.block_size, n));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Loading

Status JournalReader::Impl::EnsureBlockBuffer() {
  if (block_) return Status::Ok();
  block_.reset(new (std::nothrow) uint8_t[header_.block_size]);
  if (!block_) {
    return Status::IOError(fmt::format("{}: cannot allocate a block buffer of {} bytes", name_, header_.block_size));
  }
  return Status::Ok();
}

Status JournalReader::Impl::LoadUncompressed(uint64_t n) {
  LPLEX_RETURN_IF_ERROR(EnsureBlockBuffer());
  const uint64_t off = BlockOffset(n);
  loaded_dict_len_ = 0;
  loaded_compressed_len_ = 0;
  loaded_stored_len_ = header_.block_size;
  return ReadExact(*file_, off, header_.block_size, block_.get(),
                   fmt::format("block {} at file offset {}", n, off));
}

Status JournalReader::Impl::LoadCompressed(uint64_t n) {
  const uint64_t off = blocks_[n].offset;
  const uint64_t end = n + 1 < block_count_ ? blocks_[n + 1].offset : file_size_;
  const size_t hlen = outer_header_len();
  if (end < off || end - off < hlen) {
    return Status::Corruption(fmt::format("block {} has invalid boundaries: offset {}, next block or end of file at "
                                          "{}, header needs {} bytes",
                                          n, off, end, hlen));
  }
  const uint64_t limit = end - off - hlen;
  uint8_t h[kDictHeaderLenV2];
  LPLEX_RETURN_IF_ERROR(ReadExact(*file_, off, hlen, h, fmt::format("block {} header", n)));
  const size_t lens_at = header_.version == kVersion1 ? 8 : 16;
  uint32_t dict_len = 0;
  uint32_t comp_len;
  if (header_.compression == Compression::kZstd) {
    comp_len = le::Load32(h + lens_at);
    if (comp_len == 0 || comp_len > limit) {
      return Status::Corruption(fmt::format("block {} invalid compressed length {} (max {}) at file offset {}", n,
                                            comp_len, limit, off));
    }
  } else {
    dict_len = le::Load32(h + lens_at);
    comp_len = le::Load32(h + lens_at + 4);
    if (dict_len > limit) {
      return Status::Corruption(fmt::format("block {} invalid dictionary length {} (max {}) at file offset {}", n,
                                            dict_len, limit, off));
    }
    if (comp_len == 0 || comp_len > limit - dict_len) {
      return Status::Corruption(fmt::format("block {} invalid compressed length {} with dict {} (max {}) at file "
                                            "offset {}",
                                            n, comp_len, dict_len, limit - dict_len, off));
    }
  }
  const size_t body = size_t{dict_len} + comp_len;  // fits in the file, checked above
  if (stored_.size() < body) stored_.resize(body);
  LPLEX_RETURN_IF_ERROR(ReadExact(*file_, off + hlen, body, stored_.data(), fmt::format("block {} payload", n)));
  const std::span<const uint8_t> dict(stored_.data(), dict_len);
  const std::span<const uint8_t> payload(stored_.data() + dict_len, comp_len);
  LPLEX_RETURN_IF_ERROR(ZstdBlockDecompressor::Precheck(payload, header_.block_size, n, off));
  LPLEX_RETURN_IF_ERROR(EnsureBlockBuffer());
  LPLEX_RETURN_IF_ERROR(
      zstd_.Decompress(payload, dict, std::span<uint8_t>(block_.get(), header_.block_size), n, off));
  loaded_dict_len_ = dict_len;
  loaded_compressed_len_ = comp_len;
  loaded_stored_len_ = hlen + body;
  return Status::Ok();
}

Status JournalReader::Impl::LoadBlock(uint64_t n) {
  loaded_ = -1;  // block_ is about to be overwritten
  Status s = compressed() ? LoadCompressed(n) : LoadUncompressed(n);
  if (s.ok()) {
    s = VerifyBlock(std::span<const uint8_t>(block_.get(), header_.block_size), header_.version, n, BlockOffset(n),
                    &layout_);
  }
  if (!s.ok()) return s.WithContext(name_);
  loaded_ = static_cast<int64_t>(n);
  if (compressed()) CheckOuterHeader(n);
  return Status::Ok();
}

void JournalReader::Impl::CheckOuterHeader(uint64_t n) {
  BlockRef& ref = blocks_[n];
  const bool v1 = header_.version == kVersion1;
  if (ref.base_time_us == layout_.base_time_us && (v1 || ref.base_seq == layout_.base_seq)) return;
  Report(0, fmt::format("block {} at file offset {}: outer header says base time {} / base seq {}, the block "
                        "itself says {} / {} (outer header damaged; the block's values are used)",
                        n, ref.offset, ref.base_time_us, ref.base_seq, layout_.base_time_us, layout_.base_seq));
  ref.base_time_us = layout_.base_time_us;
  ref.base_seq = layout_.base_seq;
}

Status JournalReader::Impl::LoadAndPosition(uint64_t n) {
  pos_ = static_cast<int64_t>(n);
  block_frames_ = 0;
  next_frame_ = 0;
  Status s = LoadBlock(n);
  if (!s.ok()) {
    status_ = s;
    return s;
  }
  status_ = Status::Ok();
  block_frames_ = layout_.frame_count;
  cursor_ = block_.get() + layout_.data_start;
  frames_end_ = block_.get() + layout_.device_table_offset;
  prev_time_us_ = layout_.base_time_us;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Iteration

bool JournalReader::Impl::Next() {
  if (!status_.ok()) return false;
  for (;;) {
    if (next_frame_ < block_frames_) {
      FrameRecord rec;
      const size_t used = DecodeFrameRecord(cursor_, frames_end_, &rec);
      int64_t time_us = prev_time_us_;
      Status bad_time;
      if (used != 0 && next_frame_ > 0) bad_time = CheckFrameTime(prev_time_us_, rec.delta_us, &time_us);
      // Frame i carries seq BaseSeq + i, which must not wrap past 2^64-1.
      const bool v2 = header_.version != kVersion1;
      if (used != 0 && bad_time.ok() && v2 && layout_.base_seq > UINT64_MAX - next_frame_) {
        bad_time = Status::Corruption(fmt::format("its seq would wrap past 2^64-1 (base seq {} + frame {})",
                                                  layout_.base_seq, next_frame_));
      }
      if (used == 0 || !bad_time.ok()) {
        // The CRC was good, so the writer produced this; the rest of the block is unreadable.
        ++truncated_;
        const uint64_t at = static_cast<uint64_t>(cursor_ - block_.get());
        const std::string why =
            used == 0 ? fmt::format("is cut off or malformed (bad varint, or it runs into the device table at block "
                                    "offset {})",
                                    layout_.device_table_offset)
                      : fmt::format("is malformed: {}", bad_time.message());
        Report(static_cast<uint64_t>(frames_end_ - cursor_),
               fmt::format("block {} at file offset {}: frame record {} of {} (block offset {}) {}; the block's "
                           "last {} frames are skipped",
                           pos_, BlockOffset(static_cast<uint64_t>(pos_)), next_frame_, block_frames_, at, why,
                           block_frames_ - next_frame_));
        block_frames_ = 0;
        continue;
      }
      cursor_ += used;
      prev_time_us_ = time_us;
      frame_.timestamp_us = prev_time_us_;
      can_id_ = rec.can_id & kCanIdMask;
      frame_.header = can::ParseCanId(can_id_);
      frame_.seq = v2 ? layout_.base_seq + next_frame_ : 0;
      frame_.data = rec.data;
      frame_index_ = next_frame_++;
      return true;
    }
    const uint64_t next = static_cast<uint64_t>(pos_ + 1);
    if (next >= block_count_) return false;
    if (!LoadAndPosition(next).ok()) return false;
  }
}

void JournalReader::Impl::SkipBlock() {
  // Either clears a load error (pos_ is the failed block) or drops the rest of
  // the current block; the next Next() starts with block pos_ + 1.
  status_ = Status::Ok();
  block_frames_ = 0;
}

// ---------------------------------------------------------------------------
// Seeking

Result<int64_t> JournalReader::Impl::BlockBaseTime(uint64_t n) {
  if (n >= block_count_) return OutOfRange(n);
  if (compressed()) return blocks_[n].base_time_us;
  uint8_t b[8];
  const uint64_t off = BlockOffset(n);
  Status s = ReadExact(*file_, off, 8, b, fmt::format("{}: block {} base time", name_, n));
  if (!s.ok()) return s;
  return static_cast<int64_t>(le::Load64(b));
}

Result<uint64_t> JournalReader::Impl::BlockBaseSeq(uint64_t n) {
  if (n >= block_count_) return OutOfRange(n);
  if (header_.version == kVersion1) return uint64_t{0};
  if (compressed()) return blocks_[n].base_seq;
  uint8_t b[8];
  const uint64_t off = BlockOffset(n) + 8;
  Status s = ReadExact(*file_, off, 8, b, fmt::format("{}: block {} base seq", name_, n));
  if (!s.ok()) return s;
  return le::Load64(b);
}

Status JournalReader::Impl::SeekBlock(uint64_t n) {
  if (n >= block_count_) return OutOfRange(n);
  return LoadAndPosition(n);
}

template <typename Key, typename KeyOf>
Status JournalReader::Impl::SeekByKey(Key target, KeyOf key_of) {
  if (block_count_ == 0) return Status::OutOfRange(fmt::format("{}: empty journal", name_));
  // First block whose key is > target; the one before it is the answer.
  uint64_t lo = 0;
  uint64_t hi = block_count_;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    LPLEX_ASSIGN_OR_RETURN(const auto key, key_of(mid));
    if (key > target) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return LoadAndPosition(lo == 0 ? 0 : lo - 1);
}

Status JournalReader::Impl::SeekToTime(int64_t t_us) {
  return SeekByKey(t_us, [this](uint64_t n) { return BlockBaseTime(n); });
}

Status JournalReader::Impl::SeekToSeq(uint64_t seq) {
  if (header_.version == kVersion1) return Status::Unsupported(fmt::format("{}: seq seeking requires journal v2", name_));
  return SeekByKey(seq, [this](uint64_t n) { return BlockBaseSeq(n); });
}

// ---------------------------------------------------------------------------
// Inspection and devices

Result<BlockInfo> JournalReader::Impl::InspectBlock(uint64_t n) {
  LPLEX_RETURN_IF_ERROR(SeekBlock(n));
  BlockInfo info;
  info.index = n;
  info.offset = BlockOffset(n);
  info.base_time_us = layout_.base_time_us;
  info.base_seq = layout_.base_seq;
  info.frame_count = layout_.frame_count;
  info.device_count = le::Load16(block_.get() + layout_.device_table_offset);
  info.compressed_len = loaded_compressed_len_;
  info.dict_len = loaded_dict_len_;
  info.stored_len = loaded_stored_len_;
  return info;
}

Result<std::vector<DeviceEntry>> JournalReader::Impl::BlockDevices() const {
  if (loaded_ < 0) return Status::NotFound(fmt::format("{}: no block loaded", name_));
  Result<std::vector<DeviceEntry>> table =
      DecodeDeviceTable(block_.get() + layout_.device_table_offset, layout_.device_table_size);
  if (!table.ok()) {
    return table.status().WithContext(
        fmt::format("{}: block {} at file offset {}", name_, loaded_, BlockOffset(static_cast<uint64_t>(loaded_))));
  }
  return table;
}

Result<std::vector<DeviceEntry>> JournalReader::Impl::BlockDevicesAt(uint32_t frame_index) const {
  LPLEX_ASSIGN_OR_RETURN(const std::vector<DeviceEntry> all, BlockDevices());
  constexpr size_t kNone = SIZE_MAX;
  std::array<size_t, 256> pick;
  pick.fill(kNone);
  for (size_t k = 0; k < all.size(); ++k) {
    const DeviceEntry& e = all[k];
    if (e.active_from > frame_index) continue;
    size_t& p = pick[e.source];
    // Strictly greater: on a tie the entry earlier in the table stays.
    if (p == kNone || e.active_from > all[p].active_from) p = k;
  }
  std::vector<DeviceEntry> out;
  for (size_t p : pick) {  // by source, ascending
    if (p != kNone) out.push_back(std::move(all[p]));
  }
  return out;
}

// ---------------------------------------------------------------------------
// JournalReader

JournalReader::JournalReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalReader::~JournalReader() = default;

Result<std::unique_ptr<JournalReader>> JournalReader::Open(std::unique_ptr<RandomAccessFile> file, std::string name,
                                                          Reporter* reporter) {
  if (!file) return Status::InvalidArgument(fmt::format("{}: no file to read", name));
  Result<uint64_t> size = file->Size();
  if (!size.ok()) return size.status().WithContext(name);
  uint8_t hdr[kFileHeaderSize];
  Result<size_t> got = file->Read(0, kFileHeaderSize, hdr);
  if (!got.ok()) return got.status().WithContext(fmt::format("{}: read journal header", name));
  Result<FileHeader> header = DecodeFileHeader(std::span<const uint8_t>(hdr, *got));
  if (!header.ok()) return header.status().WithContext(name);
  auto impl = std::make_unique<Impl>(std::move(file), std::move(name), *header, *size, reporter);
  LPLEX_RETURN_IF_ERROR(impl->LocateBlocks());
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(impl)));
}

Result<std::unique_ptr<JournalReader>> JournalReader::OpenPath(const std::string& path, FileSystem* fs,
                                                              Reporter* reporter) {
  if (fs == nullptr) fs = FileSystem::Default();
  LPLEX_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  return Open(std::move(file), path, reporter);
}

uint8_t JournalReader::version() const { return impl_->header().version; }
Compression JournalReader::compression() const { return impl_->header().compression; }
uint32_t JournalReader::block_size() const { return impl_->header().block_size; }
uint64_t JournalReader::block_count() const { return impl_->block_count(); }
bool JournalReader::has_block_index() const { return impl_->has_index(); }
int64_t JournalReader::current_block() const { return impl_->current_block(); }
Result<int64_t> JournalReader::BlockBaseTime(uint64_t n) { return impl_->BlockBaseTime(n); }
Result<uint64_t> JournalReader::BlockBaseSeq(uint64_t n) { return impl_->BlockBaseSeq(n); }
Result<uint64_t> JournalReader::BlockOffset(uint64_t n) const { return impl_->BlockFileOffset(n); }
bool JournalReader::Next() { return impl_->Next(); }
const can::Frame& JournalReader::frame() const { return impl_->frame(); }
uint32_t JournalReader::can_id() const { return impl_->can_id(); }
uint32_t JournalReader::frame_index() const { return impl_->frame_index(); }
const Status& JournalReader::status() const { return impl_->status(); }
void JournalReader::SkipBlock() { impl_->SkipBlock(); }
Status JournalReader::SeekBlock(uint64_t n) { return impl_->SeekBlock(n); }
Status JournalReader::SeekToTime(int64_t t_us) { return impl_->SeekToTime(t_us); }
Status JournalReader::SeekToSeq(uint64_t seq) { return impl_->SeekToSeq(seq); }
Result<std::vector<DeviceEntry>> JournalReader::BlockDevices() const { return impl_->BlockDevices(); }
Result<std::vector<DeviceEntry>> JournalReader::BlockDevicesAt(uint32_t frame_index) const {
  return impl_->BlockDevicesAt(frame_index);
}
Result<BlockInfo> JournalReader::InspectBlock(uint64_t n) { return impl_->InspectBlock(n); }
uint64_t JournalReader::truncated_blocks() const { return impl_->truncated_blocks(); }

}  // namespace lplex::journal
