#include "journal/stored_blocks.h"

#include <fmt/format.h>

#include <new>

#include "core/endian.h"
#include "journal/block_compressor.h"
#include "journal/block_decoder.h"
#include "journal/reader.h"

namespace lplex::journal {
namespace {

constexpr size_t kIndexFooterLen = 8;  // count u32 + "LPJI"

// Lends the reader's file to the JournalReader that locates its blocks;
// the StoredBlockReader owns the file and outlives the JournalReader.
class BorrowedFile final : public RandomAccessFile {
 public:
  explicit BorrowedFile(const RandomAccessFile* f) : f_(f) {}
  Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override {
    return f_->Read(offset, n, scratch);
  }
  Result<uint64_t> Size() const override { return f_->Size(); }

 private:
  const RandomAccessFile* f_;
};

// Keeps what JournalReader steps over while locating blocks.
class DamageList final : public JournalReader::Reporter {
 public:
  void Corruption(uint64_t /*dropped_bytes*/, const Status& problem) override { damage.push_back(problem); }
  std::vector<Status> damage;
};

}  // namespace

uint64_t MaxFramesPerBlock(uint32_t block_size) {
  if (block_size < kBlockDataOffsetV2 + kBlockTrailerLen) return 0;
  return (block_size - kBlockDataOffsetV2 - kBlockTrailerLen) / kMinFrameRecordSize;
}

class StoredBlockReader::Impl {
 public:
  Impl(std::unique_ptr<RandomAccessFile> file, std::string name, Options options)
      : file_(std::move(file)), name_(std::move(name)), options_(options) {}

  Status Open() {
    LPLEX_ASSIGN_OR_RETURN(file_size_, file_->Size());
    LPLEX_ASSIGN_OR_RETURN(reader_,
                           JournalReader::Open(std::make_unique<BorrowedFile>(file_.get()), name_, &damage_list_));
    return Status::Ok();
  }

  const std::string& name() const { return name_; }
  const JournalReader& reader() const { return *reader_; }
  const std::vector<Status>& damage() const { return damage_list_.damage; }

  Result<StoredBlockMeta> BlockMeta(uint64_t n);
  Result<uint64_t> FindBlockForSeq(uint64_t seq);
  Result<BlockRange> BlocksForSeqRange(uint64_t start, uint64_t end);
  Result<std::span<const uint8_t>> ReadStoredBytes(uint64_t n, StoredBlockMeta* meta);
  Result<VerifiedBlock> ReadVerifiedBlock(uint64_t n);
  Result<BackfillBlock> ReadBackfillBlock(uint64_t n);

 private:
  bool compressed() const { return reader_->compression() != Compression::kNone; }
  Status ReadExact(uint64_t offset, size_t n, uint8_t* dst, uint64_t block) const;
  Status RequireSeqs(std::string_view what) const;
  // First block n in [0, block_count) whose base seq makes `pred` true
  // (pred is false, then true, along the file), or block_count.
  template <typename Pred>
  Result<uint64_t> PartitionPoint(Pred pred);
  // Where block n's stored bytes must end: the next block, the index table
  // (indexed file), or at most the end of the file. *exact says whether the
  // block must end exactly there.
  Result<uint64_t> BlockLimit(uint64_t n, bool* exact) const;

  // Declared first: reader_ reads through it and is destroyed before it.
  std::unique_ptr<RandomAccessFile> file_;
  std::string name_;
  Options options_;
  uint64_t file_size_ = 0;
  DamageList damage_list_;
  std::unique_ptr<JournalReader> reader_;

  std::vector<uint8_t> stored_;          // the stored bytes of the last block read
  std::unique_ptr<uint8_t[]> decoded_;   // block_size bytes, allocated on the first decompression
  ZstdBlockDecompressor zstd_;
  std::unique_ptr<BlockCompressor> reencoder_;  // created on the first dictionary block
};

Status StoredBlockReader::Impl::ReadExact(uint64_t offset, size_t n, uint8_t* dst, uint64_t block) const {
  Result<size_t> got = file_->Read(offset, n, dst);
  if (!got.ok()) return got.status().WithContext(fmt::format("{}: block {} at file offset {}", name_, block, offset));
  if (*got != n) {
    return Status::Corruption(fmt::format("{}: block {} at file offset {}: file ends after {} of {} bytes", name_,
                                          block, offset, *got, n));
  }
  return Status::Ok();
}

Status StoredBlockReader::Impl::RequireSeqs(std::string_view what) const {
  if (reader_->version() >= kVersion2) return Status::Ok();
  return Status::Unsupported(fmt::format("{}: {} requires journal v2 (this file is v{}: its blocks carry no seqs)",
                                         name_, what, reader_->version()));
}

Result<uint64_t> StoredBlockReader::Impl::BlockLimit(uint64_t n, bool* exact) const {
  const uint64_t count = reader_->block_count();
  *exact = true;
  if (n + 1 < count) return reader_->BlockOffset(n + 1);
  if (reader_->has_block_index()) return file_size_ - kIndexFooterLen - 8 * count;  // the index table
  *exact = false;
  return file_size_;
}

Result<StoredBlockMeta> StoredBlockReader::Impl::BlockMeta(uint64_t n) {
  StoredBlockMeta m;
  m.index = n;
  m.compression = reader_->compression();
  LPLEX_ASSIGN_OR_RETURN(m.offset, reader_->BlockOffset(n));
  const bool v1 = reader_->version() == kVersion1;
  if (!compressed()) {
    uint8_t h[kBlockDataOffsetV2];
    const size_t hlen = BlockDataOffset(reader_->version());
    LPLEX_RETURN_IF_ERROR(ReadExact(m.offset, hlen, h, n));
    m.stored_len = reader_->block_size();
    m.base_time_us = static_cast<int64_t>(le::Load64(h));
    m.base_seq = v1 ? 0 : le::Load64(h + 8);
    return m;
  }
  const size_t hlen = CompressedHeaderLen(reader_->version(), m.compression);
  uint8_t h[kDictHeaderLenV2];
  LPLEX_RETURN_IF_ERROR(ReadExact(m.offset, hlen, h, n));
  const size_t lens_at = v1 ? 8 : 16;
  m.base_time_us = static_cast<int64_t>(le::Load64(h));
  m.base_seq = v1 ? 0 : le::Load64(h + 8);
  const bool dict = m.compression == Compression::kZstdDict;
  m.dict_len = dict ? le::Load32(h + lens_at) : 0;
  m.payload_len = le::Load32(h + lens_at + (dict ? 4 : 0));
  m.stored_len = hlen + uint64_t{m.dict_len} + m.payload_len;
  const uint64_t max_payload = MaxZstdPayloadSize(reader_->block_size());
  if (m.payload_len == 0 || m.payload_len > max_payload) {
    return Status::Corruption(fmt::format("{}: block {} at file offset {}: compressed length {} (valid: 1..{} for "
                                          "blocks of {} bytes)",
                                          name_, n, m.offset, m.payload_len, max_payload, reader_->block_size()));
  }
  bool exact = false;
  LPLEX_ASSIGN_OR_RETURN(const uint64_t limit, BlockLimit(n, &exact));
  const bool fits = limit >= m.offset && (exact ? m.stored_len == limit - m.offset : m.stored_len <= limit - m.offset);
  if (!fits) {
    const std::string where = n + 1 < reader_->block_count() ? fmt::format("block {}", n + 1)
                              : exact                        ? std::string("the block index")
                                                             : std::string("the end of the file");
    return Status::Corruption(fmt::format("{}: block {} at file offset {}: its outer header says {} bytes (header {} "
                                          "+ dictionary {} + payload {}), but {} starts at offset {} ({} bytes after "
                                          "it)",
                                          name_, n, m.offset, m.stored_len, hlen, m.dict_len, m.payload_len, where,
                                          limit, limit >= m.offset ? limit - m.offset : 0));
  }
  return m;
}

template <typename Pred>
Result<uint64_t> StoredBlockReader::Impl::PartitionPoint(Pred pred) {
  uint64_t lo = 0;
  uint64_t hi = reader_->block_count();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    LPLEX_ASSIGN_OR_RETURN(const uint64_t key, reader_->BlockBaseSeq(mid));
    if (pred(key)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

Result<uint64_t> StoredBlockReader::Impl::FindBlockForSeq(uint64_t seq) {
  LPLEX_RETURN_IF_ERROR(RequireSeqs(fmt::format("finding seq {}", seq)));
  if (reader_->block_count() == 0) return Status::NotFound(fmt::format("{}: no block holds seq {} (no blocks)", name_, seq));
  LPLEX_ASSIGN_OR_RETURN(const uint64_t after, PartitionPoint([seq](uint64_t key) { return key > seq; }));
  if (after == 0) {
    LPLEX_ASSIGN_OR_RETURN(const uint64_t first, reader_->BlockBaseSeq(0));
    return Status::NotFound(fmt::format("{}: seq {} is before block 0 (base seq {})", name_, seq, first));
  }
  return after - 1;
}

Result<BlockRange> StoredBlockReader::Impl::BlocksForSeqRange(uint64_t start, uint64_t end) {
  LPLEX_RETURN_IF_ERROR(RequireSeqs(fmt::format("selecting seqs [{}, {})", start, end)));
  BlockRange r;
  if (end <= start || reader_->block_count() == 0) return r;
  LPLEX_ASSIGN_OR_RETURN(const uint64_t after_start, PartitionPoint([start](uint64_t key) { return key > start; }));
  LPLEX_ASSIGN_OR_RETURN(const uint64_t at_end, PartitionPoint([end](uint64_t key) { return key >= end; }));
  r.first = after_start == 0 ? 0 : after_start - 1;
  r.end = at_end;
  if (r.end < r.first) r.end = r.first;
  return r;
}

Result<std::span<const uint8_t>> StoredBlockReader::Impl::ReadStoredBytes(uint64_t n, StoredBlockMeta* out) {
  StoredBlockMeta m;
  if (!compressed()) {
    // One read: the base time and seq are the block's first bytes.
    m.index = n;
    m.compression = Compression::kNone;
    LPLEX_ASSIGN_OR_RETURN(m.offset, reader_->BlockOffset(n));
    m.stored_len = reader_->block_size();
    if (stored_.size() < m.stored_len) stored_.resize(m.stored_len);
    LPLEX_RETURN_IF_ERROR(ReadExact(m.offset, m.stored_len, stored_.data(), n));
    m.base_time_us = static_cast<int64_t>(le::Load64(stored_.data()));
    m.base_seq = reader_->version() == kVersion1 ? 0 : le::Load64(stored_.data() + 8);
  } else {
    // BlockMeta bounded stored_len by the next block or the end of the file,
    // so the buffer is never larger than the file.
    LPLEX_ASSIGN_OR_RETURN(m, BlockMeta(n));
    if (stored_.size() < m.stored_len) stored_.resize(m.stored_len);
    LPLEX_RETURN_IF_ERROR(ReadExact(m.offset, m.stored_len, stored_.data(), n));
  }
  if (out != nullptr) *out = m;
  return std::span<const uint8_t>(stored_.data(), m.stored_len);
}

Result<VerifiedBlock> StoredBlockReader::Impl::ReadVerifiedBlock(uint64_t n) {
  VerifiedBlock v;
  LPLEX_ASSIGN_OR_RETURN(v.stored, ReadStoredBytes(n, &v.meta));
  const uint32_t block_size = reader_->block_size();
  const uint8_t version = reader_->version();
  if (!compressed()) {
    v.payload = v.stored;
    v.decoded = v.stored;
  } else {
    const size_t hlen = CompressedHeaderLen(version, v.meta.compression);
    v.dictionary = v.stored.subspan(hlen, v.meta.dict_len);
    v.payload = v.stored.subspan(hlen + v.meta.dict_len, v.meta.payload_len);
    // Refuse before the scratch buffer exists: a tiny payload cannot make
    // this reader allocate a block of the largest size.
    Status s = ZstdBlockDecompressor::Precheck(v.payload, block_size, n, v.meta.offset);
    if (!s.ok()) return s.WithContext(name_);
    if (!decoded_) {
      decoded_.reset(new (std::nothrow) uint8_t[block_size]);
      if (!decoded_) {
        return Status::IOError(fmt::format("{}: cannot allocate a block buffer of {} bytes", name_, block_size));
      }
    }
    const std::span<uint8_t> dst(decoded_.get(), block_size);
    s = zstd_.Decompress(v.payload, v.dictionary, dst, n, v.meta.offset);
    if (!s.ok()) return s.WithContext(name_);
    v.decoded = dst;
  }
  BlockLayout layout;
  Status s = VerifyBlock(v.decoded, version, n, v.meta.offset, &layout);
  if (!s.ok()) return s.WithContext(name_);
  // The block's own values (covered by its CRC) win over the outer header's.
  v.meta.base_time_us = layout.base_time_us;
  v.meta.base_seq = layout.base_seq;
  v.frame_count = layout.frame_count;

  // The last readable frame's time, with the reader's rules: frame 0 is at
  // the base time, every later one at the previous time plus its delta; a
  // malformed record, a time past year 9999 or a seq that would wrap ends
  // the block.
  const uint8_t* p = v.decoded.data() + layout.data_start;
  const uint8_t* const limit = v.decoded.data() + layout.device_table_offset;
  int64_t t = layout.base_time_us;
  v.last_time_us = t;
  for (uint32_t i = 0; i < layout.frame_count; ++i) {
    FrameRecord rec;
    const size_t used = DecodeFrameRecord(p, limit, &rec);
    int64_t ti = t;
    const bool bad = used == 0 || (i > 0 && !CheckFrameTime(t, rec.delta_us, &ti).ok()) ||
                     (version != kVersion1 && layout.base_seq > UINT64_MAX - i);
    if (bad) {
      v.truncated = true;
      break;
    }
    p += used;
    t = ti;
    v.last_time_us = t;
  }
  return v;
}

Result<BackfillBlock> StoredBlockReader::Impl::ReadBackfillBlock(uint64_t n) {
  LPLEX_RETURN_IF_ERROR(RequireSeqs("backfill"));
  LPLEX_ASSIGN_OR_RETURN(const VerifiedBlock v, ReadVerifiedBlock(n));
  BackfillBlock b;
  b.base_seq = v.meta.base_seq;
  b.base_time_us = v.meta.base_time_us;
  b.frame_count = v.frame_count;
  b.last_time_us = v.last_time_us;
  b.block_size = reader_->block_size();
  b.compressed = compressed();
  if (v.dictionary.empty()) {
    b.data = v.payload;  // the whole stored block, or its plain zstd frame
    return b;
  }
  // A dictionary block: a Block message has no field for the dictionary,
  // and the cloud stores the data behind a plain zstd header (P6).
  if (!reencoder_) reencoder_ = std::make_unique<BlockCompressor>(Compression::kZstd, options_.reencode_level);
  Status s = reencoder_->Compress(v.decoded, 0);
  if (!s.ok()) {
    return s.WithContext(fmt::format("{}: block {} at file offset {}: re-encoding as plain zstd", name_, n,
                                     v.meta.offset));
  }
  b.data = reencoder_->payload();
  b.reencoded = true;
  return b;
}

// ---------------------------------------------------------------------------
// StoredBlockReader

StoredBlockReader::StoredBlockReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoredBlockReader::~StoredBlockReader() = default;

Result<std::unique_ptr<StoredBlockReader>> StoredBlockReader::Open(std::unique_ptr<RandomAccessFile> file,
                                                                  std::string name, Options options) {
  if (!file) return Status::InvalidArgument(fmt::format("{}: no file to read", name));
  if (options.reencode_level < 1 || options.reencode_level > 19) {
    return Status::InvalidArgument(
        fmt::format("{}: re-encode zstd level {} out of range (valid: 1..19)", name, options.reencode_level));
  }
  auto impl = std::make_unique<Impl>(std::move(file), std::move(name), options);
  LPLEX_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<StoredBlockReader>(new StoredBlockReader(std::move(impl)));
}

Result<std::unique_ptr<StoredBlockReader>> StoredBlockReader::Open(std::unique_ptr<RandomAccessFile> file,
                                                                  std::string name) {
  return Open(std::move(file), std::move(name), Options{});
}

Result<std::unique_ptr<StoredBlockReader>> StoredBlockReader::OpenPath(const std::string& path, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  LPLEX_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  return Open(std::move(file), path, Options{});
}

const std::string& StoredBlockReader::name() const { return impl_->name(); }
uint8_t StoredBlockReader::version() const { return impl_->reader().version(); }
Compression StoredBlockReader::compression() const { return impl_->reader().compression(); }
uint32_t StoredBlockReader::block_size() const { return impl_->reader().block_size(); }
uint64_t StoredBlockReader::block_count() const { return impl_->reader().block_count(); }
bool StoredBlockReader::has_block_index() const { return impl_->reader().has_block_index(); }
const std::vector<Status>& StoredBlockReader::damage() const { return impl_->damage(); }
Result<StoredBlockMeta> StoredBlockReader::BlockMeta(uint64_t n) { return impl_->BlockMeta(n); }
Result<uint64_t> StoredBlockReader::FindBlockForSeq(uint64_t seq) { return impl_->FindBlockForSeq(seq); }
Result<BlockRange> StoredBlockReader::BlocksForSeqRange(uint64_t start, uint64_t end) {
  return impl_->BlocksForSeqRange(start, end);
}
Result<std::span<const uint8_t>> StoredBlockReader::ReadStoredBytes(uint64_t n, StoredBlockMeta* meta) {
  return impl_->ReadStoredBytes(n, meta);
}
Result<VerifiedBlock> StoredBlockReader::ReadVerifiedBlock(uint64_t n) { return impl_->ReadVerifiedBlock(n); }
Result<BackfillBlock> StoredBlockReader::ReadBackfillBlock(uint64_t n) { return impl_->ReadBackfillBlock(n); }

}  // namespace lplex::journal
