#include "sources/journal_replay.h"

#include <fmt/format.h>

#include <algorithm>

namespace lplex::sources {

Result<std::unique_ptr<JournalDirCursor>> JournalDirCursor::Open(const std::string& dir, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return entries.status().WithContext("replay " + dir);
  std::vector<FileOrder> files;
  for (const DirEntry& e : *entries) {
    if (e.is_dir || e.name.starts_with('.') || !e.name.ends_with(".lpj")) continue;
    FileOrder f{dir + "/" + e.name, 0, 0};
    auto r = journal::JournalReader::OpenPath(f.path, fs);
    if (!r.ok()) return r.status().WithContext("replay " + f.path);
    if ((*r)->block_count() == 0) continue;
    auto seq = (*r)->BlockBaseSeq(0);
    auto time = (*r)->BlockBaseTime(0);
    if (!time.ok()) return time.status().WithContext("replay " + f.path);
    f.first_seq = seq.ok() ? *seq : 0;
    f.first_time_us = *time;
    files.push_back(std::move(f));
  }
  if (files.empty()) {
    return Status::NotFound(fmt::format("replay {}: no journal (.lpj) with frames in this directory", dir));
  }
  const bool by_seq = std::all_of(files.begin(), files.end(), [](const FileOrder& f) { return f.first_seq > 0; });
  std::sort(files.begin(), files.end(), [by_seq](const FileOrder& a, const FileOrder& b) {
    if (by_seq && a.first_seq != b.first_seq) return a.first_seq < b.first_seq;
    if (!by_seq && a.first_time_us != b.first_time_us) return a.first_time_us < b.first_time_us;
    return a.path < b.path;
  });
  return std::unique_ptr<JournalDirCursor>(new JournalDirCursor(dir, fs, std::move(files)));
}

bool JournalDirCursor::Next(can::Frame* out) {
  for (;;) {
    if (!reader_) {
      if (next_file_ >= files_.size()) return false;
      auto r = journal::JournalReader::OpenPath(files_[next_file_].path, fs_);
      if (!r.ok()) {
        status_ = r.status().WithContext("replay " + files_[next_file_].path);
        return false;
      }
      reader_ = std::move(r).value();
      ++next_file_;
    }
    if (reader_->Next()) {
      const auto& jf = reader_->frame();
      out->timestamp_us = jf.timestamp_us;
      out->header = jf.header;
      out->data = jf.data;
      out->seq = 0;
      return true;
    }
    if (!reader_->status().ok()) {
      ++skipped_blocks_;
      reader_->SkipBlock();
      continue;
    }
    reader_.reset();
  }
}

Status JournalDirCursor::Rewind() {
  reader_.reset();
  next_file_ = 0;
  status_ = Status::Ok();
  return Status::Ok();
}

}  // namespace lplex::sources
