// `replay:DIR` of a journal directory: a FrameCursor over every .lpj file in
// it, files in the order their frames were recorded.
//
// Order: by the first block's base seq when every file has one (v2 files
// written with sequence numbers), otherwise by the first block's base time;
// the file name breaks ties. Names are not trusted for order (a clock stepped
// back, a collision suffix, files from two writers), which is lplex's P15.
// Files without blocks are skipped. A block that cannot be read is skipped
// (counted in skipped_blocks()) and replay goes on with the next one, as
// `lplex dump` does; a file that cannot be opened at all ends the replay with
// its error. Frames come out already reassembled, as recorded.
//
// Header-only on purpose: lplex_sources does not link lplex_journal (sources
// and journal are peers in the layering), so programs that link both make
// replay of directories available with
//   env.open_journal_dir = &sources::OpenJournalDirCursor;
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/reader.h"
#include "sources/replay_source.h"

namespace lplex::sources {

class JournalDirCursor final : public FrameCursor {
 public:
  struct FileOrder {
    std::string path;
    uint64_t first_seq = 0;
    int64_t first_time_us = 0;
  };

  // Lists and orders the directory's journals (opening each one's header and
  // first block header). Errors: the directory cannot be listed (names it), a
  // journal cannot be opened (names the file), or there is no .lpj file.
  static Result<std::unique_ptr<JournalDirCursor>> Open(const std::string& dir, FileSystem* fs = nullptr) {
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

  bool Next(can::Frame* out) override {
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

  const Status& status() const override { return status_; }

  Status Rewind() override {
    reader_.reset();
    next_file_ = 0;
    status_ = Status::Ok();
    return Status::Ok();
  }

  std::string name() const override { return dir_; }

  // The files in replay order.
  const std::vector<FileOrder>& files() const { return files_; }
  uint64_t skipped_blocks() const { return skipped_blocks_; }

 private:
  JournalDirCursor(std::string dir, FileSystem* fs, std::vector<FileOrder> files)
      : dir_(std::move(dir)), fs_(fs), files_(std::move(files)) {}

  std::string dir_;
  FileSystem* fs_;
  std::vector<FileOrder> files_;
  size_t next_file_ = 0;
  std::unique_ptr<journal::JournalReader> reader_;
  Status status_;
  uint64_t skipped_blocks_ = 0;
};

// The FrameCursor form, for SourceEnv::open_journal_dir.
inline Result<std::unique_ptr<FrameCursor>> OpenJournalDirCursor(const std::string& dir) {
  auto c = JournalDirCursor::Open(dir);
  if (!c.ok()) return c.status();
  return std::unique_ptr<FrameCursor>(std::move(c).value());
}

}  // namespace lplex::sources
