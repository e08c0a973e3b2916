#include "broker/journal_tier.h"

#include <algorithm>

namespace lplex::broker {

Result<std::vector<JournalFileInfo>> ListJournalFilesBySeq(const std::string& dir, FileSystem* fs) {
  std::vector<JournalFileInfo> out;
  if (!fs->Exists(dir)) return out;
  LPLEX_ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
  for (const auto& e : entries) {
    if (e.is_dir || e.name.size() < 5 || e.name.compare(e.name.size() - 4, 4, ".lpj") != 0) continue;
    const std::string path = dir + "/" + e.name;
    auto r = journal::JournalReader::OpenPath(path, fs);
    if (!r.ok() || (*r)->version() < journal::kVersion2 || (*r)->block_count() == 0) continue;
    auto seq = (*r)->BlockBaseSeq(0);
    if (!seq.ok() || *seq == 0) continue;
    out.push_back({path, *seq});
  }
  std::sort(out.begin(), out.end(), [](const JournalFileInfo& a, const JournalFileInfo& b) {
    return a.first_seq != b.first_seq ? a.first_seq < b.first_seq : a.path < b.path;
  });
  return out;
}

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
  LPLEX_ASSIGN_OR_RETURN(files_, ListJournalFilesBySeq(dir_, fs_));
  next_ = 0;
  // The last file whose first seq <= seq (the first file when all start later).
  auto it = std::upper_bound(files_.begin(), files_.end(), seq,
                             [](uint64_t s, const JournalFileInfo& f) { return s < f.first_seq; });
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
