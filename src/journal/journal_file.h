// JournalFile: one .lpj file being written — name, header, blocks, index.
//
// Create() picks `{dir}/{prefix}-{stamp}.lpj` for the given first-frame time
// and creates it exclusively: an existing file is never truncated. When the
// name is taken — a file of that name exists, or its ".archived" marker does
// (archived_marker.h) — the stamp's millisecond field moves forward (ADR
// 003), so the name still carries a timestamp. Blocks are appended as the caller encoded
// them; Finish() appends the LPJI index (compressed files with at least one
// block), fsyncs the file and its directory, and closes it.
//
// Writers use it through OutputFile (output_file.h), which adds the
// open-file reporting and the hand-on after Finish().
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

class JournalFile {
 public:
  // `on_open_change`, when set, hears (path, true) before each name is
  // created — so a keeper never sees the file before it is known to be open
  // — and (path, false) when that name could not be used.
  static Result<std::unique_ptr<JournalFile>> Create(
      FileSystem* fs, const std::string& dir, const std::string& prefix, int64_t first_frame_us, uint32_t block_size,
      Compression compression, const std::function<void(const std::string&, bool)>& on_open_change = nullptr);
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;
  // Closes without the index or fsync if Finish() was not called.
  ~JournalFile();

  // Appends one block made of `pieces` written back to back (outer header,
  // dictionary, payload; or the raw block). On error the file may end in a
  // partial block; the caller should Finish(false) it.
  Status AppendBlock(std::initializer_list<std::span<const uint8_t>> pieces);

  // Makes the blocks written so far durable (fdatasync).
  Status Sync() { return file_->Sync(); }

  // Index (when `write_index`, compressed, and any block) → fsync → close →
  // fsync of the directory. Returns the first error; the file is closed either way.
  Status Finish(bool write_index = true);

  const std::string& path() const { return path_; }
  // Bytes in the file: header and blocks (the index only after Finish).
  uint64_t size() const { return size_; }
  size_t block_count() const { return blocks_; }
  // What the file header says the blocks are.
  Compression compression() const { return compression_; }

 private:
  JournalFile(FileSystem* fs, std::string dir, std::string path, std::unique_ptr<WritableFile> file,
              Compression compression);

  FileSystem* fs_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  Compression compression_;
  uint64_t size_ = kFileHeaderSize;
  size_t blocks_ = 0;
  std::vector<uint64_t> offsets_;
  bool finished_ = false;
};

}  // namespace lplex::journal
