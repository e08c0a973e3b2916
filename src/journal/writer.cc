#include "journal/writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "can/can_id.h"
#include "core/crc32c.h"
#include "core/endian.h"

namespace lplex::journal {
namespace {

using can::kPgnAddressClaim;
// Within a block, time that goes backwards is stored as a zero delta (the
// format has no negative deltas): that frame reads back at the time of the
// one before it. The running time (last_ts_) stays at that stored time, so
// the frames after it keep their own times. Jitter up to this much is
// clamped; a larger step (a clock being set) starts a new block whose
// BaseTime holds the true time.
constexpr int64_t kMaxClampUs = 1000;

DeviceEntry EntryFor(const can::Device& d, uint8_t source, uint64_t name, uint32_t active_from) {
  DeviceEntry e;
  e.source = source;
  e.name = name;
  e.active_from = active_from;
  e.product_code = d.product.product_code;
  e.model_id = d.product.model_id;
  e.software_version = d.product.software_version;
  e.model_version = d.product.model_version;
  e.model_serial = d.product.model_serial;
  return e;
}

}  // namespace

Result<std::unique_ptr<JournalWriter>> JournalWriter::Create(WriterOptions o) {
  LPLEX_RETURN_IF_ERROR(ValidateBlockSize(o.block_size));
  if (o.dir.empty()) return Status::InvalidArgument("journal directory is empty; give the directory to write to");
  if (o.prefix.empty() || o.prefix.find('/') != std::string::npos) {
    return Status::InvalidArgument(
        fmt::format("journal prefix \"{}\" must be non-empty and contain no '/' (default: nmea2k)", o.prefix));
  }
  if (o.zstd_level < 1 || o.zstd_level > 19) {
    return Status::InvalidArgument(fmt::format("zstd level {} out of range (valid: 1..19, default 3)", o.zstd_level));
  }
  if (o.rotate_duration_us < 0 || o.flush_interval_us < 0) {
    return Status::InvalidArgument("rotate duration and flush interval must not be negative");
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(std::move(o)));
}

JournalWriter::JournalWriter(WriterOptions options)
    : opt_(std::move(options)),
      clock_(opt_.clock ? opt_.clock : Clock::Real()),
      compressor_(opt_.compression, opt_.zstd_level),
      rotate_duration_us_(opt_.rotate_duration_us),
      rotate_size_(opt_.rotate_size),
      file_(OutputFileOptions{opt_.fs ? opt_.fs : FileSystem::Default(), opt_.dir, opt_.prefix, opt_.block_size,
                              opt_.on_rotate, opt_.on_open_change}) {
  block_.assign(opt_.block_size, 0);
  // Half the block at most, and what the u16 DTS field can express.
  table_cap_ = std::min<size_t>(65535, (opt_.block_size - kBlockDataOffsetV2 - kBlockTrailerLen) / 2);
}

JournalWriter::~JournalWriter() { (void)Close(); }

size_t JournalWriter::MaxRecordSize() const {
  return opt_.block_size - kBlockDataOffsetV2 - kBlockTrailerLen - table_cap_;
}

Status JournalWriter::Append(const can::Frame& f) {
  if (paused()) {
    ++stats_.frames_paused;
    return Status::Ok();
  }
  if (sealed_) LPLEX_RETURN_IF_ERROR(WriteSealedBlock());

  const can::CanHeader& h = f.header;
  if (f.timestamp_us < kMinTimestampUs || f.timestamp_us > kMaxTimestampUs) {
    // Readers refuse such a block as corrupt, and time arithmetic in the
    // block would leave int64 range: refuse the frame before it is recorded.
    ++stats_.frames_refused;
    return Status::InvalidArgument(fmt::format(
        "frame time {} us since the epoch (PGN {} from source {}) is outside the journal's range (valid: {})",
        f.timestamp_us, h.pgn, h.source, kTimestampRange));
  }
  if (FrameRecordSize(0, f.data.size()) > MaxRecordSize()) {
    ++stats_.frames_refused;
    return Status::InvalidArgument(fmt::format(
        "frame of {} bytes (PGN {} from source {}) cannot fit an empty {}-byte block; the largest payload this "
        "block size takes is about {} bytes (use a larger --block-size)",
        f.data.size(), h.pgn, h.source, opt_.block_size, MaxRecordSize() - 8));
  }

  // Frame-time duration rotation; a clock set back before the file's start
  // also begins a new file, so a file's name never postdates its frames.
  const int64_t rotate_duration_us = rotate_duration_us_.load(std::memory_order_relaxed);
  if (segment_open_ && rotate_duration_us > 0 &&
      (f.timestamp_us - segment_start_us_ >= rotate_duration_us ||
       f.timestamp_us < segment_start_us_ - kMaxClampUs)) {
    LPLEX_RETURN_IF_ERROR(FlushBlock());
    LPLEX_RETURN_IF_ERROR(FinishFile());
  }

  // Does this frame add a NAME→source binding the block does not hold yet?
  const bool is_claim = h.pgn == kPgnAddressClaim && f.data.size() >= 8;
  const uint64_t claim_name = is_claim ? le::Load64(f.data.data()) : 0;
  auto binding_differs = [&] {
    auto it = std::find_if(claims_.rbegin(), claims_.rend(), [&](const Claim& c) { return c.source == h.source; });
    if (it != claims_.rend()) return it->name != claim_name;
    for (const DeviceEntry& e : start_entries_) {
      if (e.source == h.source) return e.name != claim_name;
    }
    return true;
  };
  bool new_claim = is_claim && block_frames_ > 0 && binding_differs();

  bool counts_toward_rotation = true;
  if (block_frames_ > 0) {
    const bool seq_break = (f.seq != 0 || base_seq_ != 0) && f.seq != base_seq_ + block_frames_;
    const uint64_t delta = f.timestamp_us >= last_ts_ ? static_cast<uint64_t>(f.timestamp_us - last_ts_) : 0;
    const size_t table = start_table_size_ + kDeviceEntryMaxSize * (claims_.size() + (new_claim ? 1 : 0));
    const bool fits =
        table <= table_cap_ && data_offset_ + FrameRecordSize(delta, f.data.size()) + table + kBlockTrailerLen <=
                                   opt_.block_size;
    const bool time_break = f.timestamp_us < last_ts_ - kMaxClampUs;
    if (seq_break || time_break || !fits) {
      if (seq_break) ++stats_.seq_break_blocks;
      if (time_break) ++stats_.time_break_blocks;
      LPLEX_RETURN_IF_ERROR(FlushBlock());
      if (RotationDue()) {
        LPLEX_RETURN_IF_ERROR(FinishFile());
        // The reference counts the frame that caused a rotation toward the
        // file it could not fit in, not the next one; test 75 pins this.
        counts_toward_rotation = false;
      }
    }
  }
  if (block_frames_ == 0 && RotationDue()) {
    // The last block was written without a rotation check (WriteOpenBlock,
    // or a sealed block a retry wrote): the file rotates before this frame.
    LPLEX_RETURN_IF_ERROR(FinishFile());
  }
  if (block_frames_ == 0) {
    StartBlock(f);
    new_claim = is_claim && binding_differs();
  }

  const uint64_t delta =
      block_frames_ == 0 || f.timestamp_us < last_ts_ ? 0 : static_cast<uint64_t>(f.timestamp_us - last_ts_);
  data_offset_ += EncodeFrameRecord(block_.data() + data_offset_, delta, can::BuildCanId(h), f.data);
  registry_.Observe(f.timestamp_us, h.source, h.pgn, f.data);
  if (new_claim) claims_.push_back({h.source, claim_name, block_frames_});
  // The time the reader will compute for this frame (a clamped frame's is
  // the previous one's): the next delta must be relative to it, or every
  // later frame of the block would read back shifted by the clamp.
  last_ts_ = std::max(last_ts_, f.timestamp_us);
  ++block_frames_;
  if (counts_toward_rotation) ++segment_frames_;
  ++stats_.frames_written;
  return Status::Ok();
}

void JournalWriter::StartBlock(const can::Frame& f) {
  const int64_t now = clock_->NowMicros();
  if (!segment_open_) {
    segment_open_ = true;
    segment_start_us_ = f.timestamp_us;
    segment_wall_start_us_ = now;
    segment_frames_ = 0;
  }
  std::memset(block_.data(), 0, block_.size());
  data_offset_ = kBlockDataOffsetV2;
  block_frames_ = 0;
  base_seq_ = f.seq;
  last_ts_ = f.timestamp_us;
  block_opened_wall_us_ = now;
  le::Store64(block_.data(), static_cast<uint64_t>(f.timestamp_us));
  le::Store64(block_.data() + 8, f.seq);

  // Devices known at block start, ActiveFrom 0. Leave room for at least one
  // in-block claim; a registry too large for the table is cut (by source).
  start_entries_.clear();
  start_table_size_ = 2;
  bool full = false;
  registry_.ForEachNamed([&](const can::Device& d) {
    if (full) return;
    DeviceEntry e = EntryFor(d, d.source, d.name, 0);
    const size_t size = DeviceEntrySize(e);
    if (start_table_size_ + size + kDeviceEntryMaxSize > table_cap_) {
      full = true;
      return;
    }
    start_table_size_ += size;
    start_entries_.push_back(std::move(e));
  });
  claims_.clear();
}

void JournalWriter::SealBlock() {
  table_scratch_ = start_entries_;
  static const can::Device kNoProduct;
  for (const Claim& c : claims_) {
    const can::Device* d = registry_.Find(c.source);
    // Product details are only meaningful if the source still holds this NAME.
    const can::Device& known = (d != nullptr && d->name == c.name) ? *d : kNoProduct;
    table_scratch_.push_back(EntryFor(known, c.source, c.name, c.frame_index));
  }
  size_t dts = 2;
  for (const DeviceEntry& e : table_scratch_) dts += DeviceEntrySize(e);
  const size_t table_offset = opt_.block_size - kBlockTrailerLen - dts;
  EncodeDeviceTable(block_.data() + table_offset, table_scratch_);
  uint8_t* trailer = block_.data() + opt_.block_size - kBlockTrailerLen;
  le::Store16(trailer, static_cast<uint16_t>(dts));
  le::Store32(trailer + 2, block_frames_);
  le::Store32(trailer + 6, crc32c::Value(block_.data(), opt_.block_size - 4));
  sealed_ = true;
  sealed_frames_end_ = data_offset_;
}

Status JournalWriter::FlushBlock() {
  if (!sealed_ && block_frames_ == 0) return Status::Ok();
  if (!sealed_) SealBlock();
  return WriteSealedBlock();
}

Status JournalWriter::WriteSealedBlock() {
  if (!file_.is_open()) {
    Status s = file_.Open(segment_start_us_, opt_.compression);
    if (!s.ok()) {
      ++stats_.write_errors;
      return s;
    }
  }

  std::span<const uint8_t> body;
  std::span<const uint8_t> dict;
  uint8_t header[kDictHeaderLenV2];
  size_t header_len = 0;
  if (opt_.compression == Compression::kNone) {
    body = block_;
  } else {
    Status s = compressor_.Compress(block_, sealed_frames_end_);
    if (!s.ok()) {
      ++stats_.write_errors;
      return s;
    }
    body = compressor_.payload();
    dict = compressor_.dictionary();
    header_len = EncodeCompressedHeaderV2(opt_.compression, static_cast<int64_t>(le::Load64(block_.data())),
                                          base_seq_, dict.size(), body.size(), header);
  }

  Status s = file_.AppendBlock({{header, header_len}, dict, body});
  if (!s.ok()) {
    // The file now ends in a partial block, like a crashed one; readers
    // recover every block before it. Finish it (no index: the disk refused
    // bytes already) so it still reaches the archive, and keep the block for
    // the next file.
    ++stats_.write_errors;
    (void)FinishFile(/*write_index=*/false);
    segment_open_ = true;  // the pending block still belongs to this segment
    return s.WithContext("journal block write");
  }
  ++stats_.blocks_written;
  stats_.frames_on_disk += block_frames_;
  if (opt_.on_block_written) opt_.on_block_written(base_seq_, block_frames_);
  sealed_ = false;
  block_frames_ = 0;
  data_offset_ = kBlockDataOffsetV2;
  return Status::Ok();
}

const std::string& JournalWriter::current_path() const { return file_.path(); }

const WriterStats& JournalWriter::stats() const {
  stats_.bytes_written = file_.bytes_written();
  stats_.files_finished = file_.files_finished();
  return stats_;
}

bool JournalWriter::RotationDue() const {
  if (!file_.is_open()) return false;
  const uint64_t rotate_size = rotate_size_.load(std::memory_order_relaxed);
  return (rotate_size > 0 && file_.size() >= rotate_size) ||
         (opt_.rotate_count > 0 && segment_frames_ >= opt_.rotate_count);
}

Status JournalWriter::FinishFile(bool write_index) {
  segment_open_ = false;
  segment_frames_ = 0;
  // Whatever happens, the file exists and holds whole blocks: it is handed on.
  Status s = file_.Finish(write_index);
  if (!s.ok()) ++stats_.write_errors;
  return s;
}

Status JournalWriter::Tick(int64_t now_us) {
  if (sealed_) LPLEX_RETURN_IF_ERROR(WriteSealedBlock());
  if (block_frames_ > 0 && opt_.flush_interval_us > 0 && now_us - block_opened_wall_us_ >= opt_.flush_interval_us) {
    ++stats_.timed_flushes;
    LPLEX_RETURN_IF_ERROR(FlushBlock());
    // A quiet bus writes rarely; make what was written survive power loss too.
    if (file_.is_open()) LPLEX_RETURN_IF_ERROR(file_.Sync());
    if (RotationDue()) LPLEX_RETURN_IF_ERROR(FinishFile());
  }
  const int64_t rotate_duration_us = rotate_duration_us_.load(std::memory_order_relaxed);
  if (segment_open_ && rotate_duration_us > 0 && now_us - segment_wall_start_us_ >= rotate_duration_us) {
    LPLEX_RETURN_IF_ERROR(FlushBlock());
    LPLEX_RETURN_IF_ERROR(FinishFile());
  }
  return Status::Ok();
}

Status JournalWriter::Close() {
  Status s = FlushBlock();
  Status f = FinishFile();
  if (!s.ok()) {
    // The block could not be written; it is lost with the writer's state.
    sealed_ = false;
    block_frames_ = 0;
    return s;
  }
  return f;
}

}  // namespace lplex::journal
