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
//
// A copy must be a second copy: an item fails, before anything is written,
// when its destination is the file itself (same resolved path, or the same
// device and inode, e.g. through a link) or lies in or under the file's own
// directory. CheckJournalDir refuses the whole configuration up front.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "keeper/archiver.h"

namespace lplex::keeper {

// `path` as the kernel would reach it: made absolute (against the working
// directory), "." and ".." folded and every symbolic link in the part that
// exists resolved (realpath); the part that does not exist yet is appended
// as written. Fails when a component cannot be examined (EACCES, ENOTDIR, a
// dangling symbolic link), naming the path.
Result<std::string> ResolvePath(const std::string& path);

// True when `inner` is `outer` or lies inside it; both resolved paths.
bool PathIsWithin(const std::string& inner, const std::string& outer);

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

  // Refuses `journal_dir` when the root, or the directory the copies of
  // `instance_id` go to ({root}/{instance_id}), is that directory, lies
  // inside it or contains it, after resolving symbolic links (ResolvePath).
  Status CheckJournalDir(const std::string& journal_dir, const std::string& instance_id) const override;

 private:
  Status ArchiveOne(const ArchiveItem& item, Deadline deadline) override;
  std::string DestinationUrl(const ArchiveItem& item) const override { return "file://" + DestinationFor(item); }
  Status CheckNotOntoItself(const ArchiveItem& item, const std::string& dest, const std::string& dir) const;
  Status CopyTo(const std::string& src_path, const std::string& tmp, Deadline deadline);
  void RemoveStaleTemporaries(const std::string& dir);

  const std::string root_;
  FileSystem* const fs_;
  std::vector<uint8_t> buffer_;
  std::set<std::string> swept_dirs_;  // directories already cleaned of stale temporaries
};

}  // namespace lplex::keeper
