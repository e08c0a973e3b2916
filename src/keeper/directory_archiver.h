// DirectoryArchiver: the local target (journal.archive.target =
// "file:///path"), the embedded default for a machine without object storage.
//
// Each file is copied to {root}/{instance_id}/{file name} (or {root}/{file
// name} without an instance id) through a temporary ".{name}.tmp-<pid>-<n>"
// in the same directory: write, fsync, link to the final name, fsync the
// directory. A reader of the archive therefore sees no copy or the complete
// one, never a partial file, and a copy reported ok
// survives a power loss. On any error (ENOSPC, EIO, ...) the temporary file
// is removed and the item fails with the errno text. Directories are created
// as needed. The final name is made with link() (then the temporary is
// unlinked), which never replaces: a copy another writer put there meanwhile
// is compared, not overwritten.
//
// An existing copy is never replaced. When the destination exists already
// (a retry after a crash between the copy and the marker, or another
// recording with the same file name), sizes and then bytes are compared:
// equal is success without writing; different fails with "<dest> already
// exists with different content; not overwritten" (AlreadyExists), so no
// marker is written and retention keeps the file.
//
// Temporaries of our naming pattern (".{name}.tmp-<pid>-<n>") left behind by
// a process killed mid-copy are removed from a directory the first time
// each Archive() call writes into it: those whose writer is gone (no such
// pid, or a zombie) and those untouched for an hour (the pid may have been
// reused). Nothing else in the archive is touched.
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
  // faults. `clock` (not owned, must outlive it; null = Clock::Real()) is the
  // time line of the deadlines Archive() is given.
  explicit DirectoryArchiver(std::string root, FileSystem* fs = FileSystem::Default(), Clock* clock = nullptr);

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
  // Equal content at `dest` is success; different content is AlreadyExists.
  Status CompareExisting(const std::string& src_path, const std::string& dest, Deadline deadline);
  void OnBatchStart() override;
  void RemoveStaleTemporaries(const std::string& dir);

  const std::string root_;
  FileSystem* const fs_;
  Clock* const clock_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> compare_buffer_;  // the existing copy's side of CompareExisting
  std::set<std::string> swept_dirs_;     // directories cleaned of stale temporaries in this Archive() call
};

}  // namespace lplex::keeper
