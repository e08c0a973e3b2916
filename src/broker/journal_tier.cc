#include "broker/journal_tier.h"

#include <algorithm>

namespace lplex::broker {

bool JournalTier::OpenFile(size_t idx) {
  reader_.reset();
  idx_ = idx;
  if (idx >= files_.size()) return false;
  auto r = journal::JournalReader::OpenPath(files_[idx].path, fs_);
  if (!r.ok()) return false;
  reader_ = std::move(r).value();
  return true;
}

Status JournalTier::Position(uint64_t seq) {
  LPLEX_ASSIGN_OR_RETURN(files_, journal::ListJournalFilesBySeq(dir_, "", fs_));
  next_ = 0;
  // The last file whose first seq <= seq (the first file when all start later).
  auto it = std::upper_bound(files_.begin(), files_.end(), seq,
                             [](uint64_t s, const journal::JournalFileSeq& f) { return s < f.first_seq; });
  size_t idx = it == files_.begin() ? 0 : static_cast<size_t>(it - files_.begin()) - 1;
  while (idx < files_.size() && !OpenFile(idx)) ++idx;
  if (reader_) {
    if (!reader_->SeekToSeq(seq).ok()) reader_->SkipBlock();  // a damaged block: read on from the next
    next_ = seq;
  }
  return Status::Ok();
}

Result<JournalTier::ReadResult> JournalTier::Read(uint64_t from, uint64_t limit, can::Frame* out) {
  if (!reader_ || from != next_) LPLEX_RETURN_IF_ERROR(Position(from));
  while (reader_) {
    if (reader_->Next()) {
      const can::Frame& f = reader_->frame();
      if (f.seq < from) continue;
      *out = f;
      next_ = f.seq + 1;
      return f.seq < limit ? ReadResult::kFrame : ReadResult::kAtLimit;
    }
    if (!reader_->status().ok()) {
      reader_->SkipBlock();  // goes on with the following block
      continue;
    }
    size_t idx = idx_ + 1;
    while (idx < files_.size() && !OpenFile(idx)) ++idx;
    if (idx >= files_.size()) reader_.reset();
  }
  next_ = 0;
  return ReadResult::kEnd;
}

}  // namespace lplex::broker
