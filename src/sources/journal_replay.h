// `replay:DIR` of a journal directory: a FrameCursor over every .lpj file in
// it, files in the order their frames were recorded. MakeSource uses it for
// any replay path that is a directory.
//
// Order: by the first block's base seq when every file has one (v2 files
// written with sequence numbers), otherwise by the first block's base time;
// the file name breaks ties. Names are not trusted for order (a clock stepped
// back, a collision suffix, files from two writers), which is lplex's P15.
// Files without blocks are skipped. A block that cannot be read is skipped
// (counted in skipped_blocks()) and replay goes on with the next one, as
// `lplex dump` does; a file that cannot be opened at all ends the replay with
// its error. Frames come out already reassembled, as recorded.
#pragma once

#include <cstdint>
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
  // first block header) through `fs` (null = FileSystem::Default()). Errors:
  // the directory cannot be listed (names it), a journal cannot be opened
  // (names the file), or no .lpj file holds a frame (NotFound, names the
  // directory).
  static Result<std::unique_ptr<JournalDirCursor>> Open(const std::string& dir, FileSystem* fs = nullptr);

  // The next frame, seq 0 (the broker assigns seqs); false at the end or when
  // a file could not be opened (then status() names it).
  bool Next(can::Frame* out) override;
  const Status& status() const override { return status_; }
  // Starts again with the first file; the order is not recomputed.
  Status Rewind() override;
  std::string name() const override { return dir_; }

  // The files in replay order.
  const std::vector<FileOrder>& files() const { return files_; }
  // Blocks skipped because they could not be read, over all passes.
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

}  // namespace lplex::sources
