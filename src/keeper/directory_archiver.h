// DirectoryArchiver: the local target (journal.archive.target =
// "file:///path"), the embedded default for a machine without object storage.
//
// Each file is copied to {root}/{instance_id}/{file name} (or {root}/{file
// name} without an instance id) through a temporary ".{name}.tmp-<pid>-<n>"
// in the same directory: write, fsync, rename over the final name, fsync the
// directory. A reader of the archive therefore sees either the old copy or
// the complete new one, never a partial file, and a copy reported ok
// survives a power loss. On any error (ENOSPC, EIO, ...) the temporary file
// is removed and the item fails with the errno text. Directories are created
// as needed. Temporaries left behind by a process that was killed mid-copy
// are removed the first time this archiver writes into that directory (only
// those whose pid no longer exists).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "keeper/archiver.h"

namespace lplex::keeper {

class DirectoryArchiver final : public PerFileArchiver {
 public:
  // `root` is an absolute directory (created when missing). `fs` (not owned,
  // must outlive the archiver) does all file access, so tests can inject
  // faults.
  explicit DirectoryArchiver(std::string root, FileSystem* fs = FileSystem::Default());

  // "file:///srv/archive".
  std::string Describe() const override;

  // Where an item ends up: {root}/{ArchiveRelativePath(item)}.
  std::string DestinationFor(const ArchiveItem& item) const;

 private:
  Status ArchiveOne(const ArchiveItem& item, Deadline deadline) override;
  std::string DestinationUrl(const ArchiveItem& item) const override { return "file://" + DestinationFor(item); }
  Status CopyTo(const std::string& src_path, const std::string& tmp, Deadline deadline);
  void RemoveStaleTemporaries(const std::string& dir);

  const std::string root_;
  FileSystem* const fs_;
  std::vector<uint8_t> buffer_;
  std::set<std::string> swept_dirs_;  // directories already cleaned of stale temporaries
};

}  // namespace lplex::keeper
