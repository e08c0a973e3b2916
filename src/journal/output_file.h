// OutputFile: the file a journal writer is filling now, and the one sequence
// every writer follows around it (JournalWriter for frames, BlockWriter for
// ready blocks):
//
//   Open     on_open_change(path, true) → exclusive create + header
//            (JournalFile::Create; a name that cannot be used is reported
//            (path, false) again)
//   Append   blocks, as the writer encoded them
//   Finish   index (compressed files) → fsync → close → fsync dir →
//            on_open_change(path, false) → on_rotate({path})
//
// So a keeper sharing the open-file set (ADR 004) never sees a file it was
// not told about, and on_rotate never names a file still marked open. Finish
// reports the file even when finishing it failed: the file exists and holds
// whole blocks, and a reader recovers them.
//
// Counts what went to disk across all files, for the writers' statistics.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"
#include "journal/journal_file.h"
#include "journal/rotated_file.h"

namespace lplex::journal {

struct OutputFileOptions {
  FileSystem* fs = nullptr;  // required
  std::string dir;           // created (with parents) when a file is opened
  std::string prefix;        // file names: {dir}/{prefix}-{stamp}.lpj
  uint32_t block_size = kDefaultBlockSize;
  std::function<void(const RotatedFile&)> on_rotate;                      // may be empty
  std::function<void(const std::string& path, bool open)> on_open_change;  // may be empty
};

class OutputFile {
 public:
  explicit OutputFile(OutputFileOptions options);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Finishes an open file (so it is never left marked open).
  ~OutputFile();

  bool is_open() const { return file_ != nullptr; }

  // Creates the file for blocks of `compression` whose first frame is at
  // `first_frame_us` (it names the file). Requires !is_open(). On error no
  // file is open and none is marked open.
  Status Open(int64_t first_frame_us, Compression compression);

  // Appends one block made of `pieces` written back to back. Requires
  // is_open(). On error the file may end in a partial block, like a crashed
  // one; the caller finishes it with Finish(/*write_index=*/false).
  Status AppendBlock(std::initializer_list<std::span<const uint8_t>> pieces);

  // Makes the blocks written so far durable. Requires is_open().
  Status Sync();

  // The Finish sequence above. Nothing when no file is open. Returns the
  // first error of finishing; the file is closed and handed on either way.
  Status Finish(bool write_index = true);

  // The open file's path, or "" when none is open.
  const std::string& path() const;
  // Bytes in the open file (header and blocks), 0 when none is open.
  uint64_t size() const { return file_ ? file_->size() : 0; }
  // The open file's compression (what its header says). Requires is_open().
  Compression compression() const { return file_->compression(); }

  // Totals over the writer's life: file bytes (headers, blocks, indexes)
  // and files finished.
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t files_finished() const { return files_finished_; }

 private:
  OutputFileOptions opt_;
  std::unique_ptr<JournalFile> file_;
  uint64_t bytes_written_ = 0;
  uint64_t files_finished_ = 0;
};

}  // namespace lplex::journal
