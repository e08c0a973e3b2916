#include "keeper/directory_archiver.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string_view>
#include <memory>

#include <fmt/format.h>

#include "core/instance_id.h"

namespace lplex::keeper {
namespace {

constexpr size_t kCopyChunk = size_t{1} << 20;
constexpr std::string_view kTmpTag = ".tmp-";

// Unique within the process across archiver objects; the pid makes it
// unique across processes sharing the archive directory.
std::atomic<uint64_t> g_tmp_counter{0};

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The pid in ".{name}.tmp-<pid>-<n>", or -1 when `entry` is not a temporary.
pid_t TemporaryOwner(const std::string& entry) {
  if (entry.empty() || entry[0] != '.') return -1;
  size_t tag = entry.rfind(kTmpTag);
  if (tag == std::string::npos || tag < 2) return -1;
  std::string_view rest = std::string_view(entry).substr(tag + kTmpTag.size());
  size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash + 1 == rest.size()) return -1;
  long pid = 0;
  for (size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (i == dash) continue;
    if (c < '0' || c > '9') return -1;
    if (i < dash) {
      pid = pid * 10 + (c - '0');
      if (pid > 1L << 30) return -1;
    }
  }
  return static_cast<pid_t>(pid);
}

// A temporary untouched this long is abandoned even when its pid is alive.
constexpr std::chrono::hours kStaleTemporaryAge{1};

// True when process `pid` no longer runs: it does not exist, or it is a
// zombie (killed, not yet reaped by its parent: kill(pid, 0) still succeeds
// then, and a rerun started right after the kill saw it as alive).
bool WriterIsGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold any byte).
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

// The same file: both exist and share device and inode. stat follows
// symbolic links, so a link to the file counts as the file. (FileSystem has
// no identity query; this is a read-only look.)
bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// " (resolved: X)" when resolving symbolic links changed the path.
std::string ResolvedNote(const std::string& given, const std::string& resolved) {
  return given == resolved ? std::string() : fmt::format(" (resolved: {})", resolved);
}

}  // namespace

Result<std::string> ResolvePath(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("cannot resolve an empty path");
  std::string absolute = path;
  if (absolute.front() != '/') {
    std::unique_ptr<char, decltype(&::free)> cwd(::getcwd(nullptr, 0), &::free);
    if (!cwd) return Status::FromErrno(fmt::format("resolve {}: cannot read the working directory", path), errno);
    absolute = JoinPath(cwd.get(), path);
  }
  std::string resolved = "/";
  bool exists = true;  // `resolved` names something that exists
  size_t at = 0;
  while (at <= absolute.size()) {
    size_t slash = absolute.find('/', at);
    if (slash == std::string::npos) slash = absolute.size();
    const std::string part = absolute.substr(at, slash - at);
    at = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      // `resolved` has no symbolic links left, so its lexical parent is the
      // real one; below a missing component nothing can be a link either.
      resolved = ParentDir(resolved);
      continue;
    }
    const std::string next = JoinPath(resolved, part);
    if (exists) {
      char buf[PATH_MAX];
      if (::realpath(next.c_str(), buf) != nullptr) {
        resolved = buf;
        continue;
      }
      const int err = errno;
      struct stat st {};
      if (err != ENOENT) return Status::FromErrno(fmt::format("resolve {}: cannot resolve {}", path, next), err);
      if (::lstat(next.c_str(), &st) == 0) {
        return Status::InvalidArgument(
            fmt::format("resolve {}: {} is a dangling symbolic link (its target does not exist)", path, next));
      }
      exists = false;
    }
    resolved = next;
  }
  return resolved;
}

bool PathIsWithin(const std::string& inner, const std::string& outer) {
  if (outer == "/") return !inner.empty() && inner.front() == '/';
  return inner == outer ||
         (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/');
}

DirectoryArchiver::DirectoryArchiver(std::string root, FileSystem* fs, Clock* clock)
    : root_(std::move(root)), fs_(fs), clock_(clock != nullptr ? clock : Clock::Real()), buffer_(kCopyChunk) {}

std::string DirectoryArchiver::Describe() const { return "file://" + root_; }

std::string DirectoryArchiver::DestinationFor(const ArchiveItem& item) const {
  return JoinPath(root_, ArchiveRelativePath(item));
}

Status DirectoryArchiver::CheckJournalDir(const std::string& journal_dir, const std::string& instance_id) const {
  if (!instance_id.empty()) LPLEX_RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  auto journal = ResolvePath(journal_dir);
  if (!journal.ok()) return journal.status();
  // The root, and the directory this instance's copies go to: a symbolic
  // link there could lead back into the journal.
  std::vector<std::string> archive_dirs = {root_};
  if (!instance_id.empty()) archive_dirs.push_back(JoinPath(root_, instance_id));
  for (const std::string& dir : archive_dirs) {
    auto resolved = ResolvePath(dir);
    if (!resolved.ok()) return resolved.status();
    const char* relation = nullptr;
    if (*resolved == *journal) {
      relation = "is";
    } else if (PathIsWithin(*resolved, *journal)) {
      relation = "lies inside";
    } else if (PathIsWithin(*journal, *resolved)) {
      relation = "contains";
    }
    if (relation == nullptr) continue;
    return Status::InvalidArgument(fmt::format(
        "archive directory {}{} {} the journal directory {}{}: the archive and the journals must be separate "
        "directories (a copy could be the file itself, and retention deletes a journal file once it is marked "
        "archived); choose an archive directory outside {}",
        dir, ResolvedNote(dir, *resolved), relation, journal_dir, ResolvedNote(journal_dir, *journal), journal_dir));
  }
  return Status::Ok();
}

Status DirectoryArchiver::CheckNotOntoItself(const ArchiveItem& item, const std::string& dest,
                                             const std::string& dir) const {
  auto src_dir = ResolvePath(ParentDir(item.path));
  if (!src_dir.ok()) return src_dir.status();
  auto dest_dir = ResolvePath(dir);
  if (!dest_dir.ok()) return dest_dir.status();
  if ((*dest_dir == *src_dir && BaseName(dest) == BaseName(item.path)) || SameFile(dest, item.path)) {
    return Status::InvalidArgument(
        fmt::format("the destination {} is the file itself; nothing was copied (archive to a directory outside {})",
                    dest, ParentDir(item.path)));
  }
  if (PathIsWithin(*dest_dir, *src_dir)) {
    return Status::InvalidArgument(fmt::format(
        "the destination directory {}{} lies inside the file's own directory {}; nothing was copied (archive to a "
        "directory outside it)",
        dir, ResolvedNote(dir, *dest_dir), ParentDir(item.path)));
  }
  return Status::Ok();
}

Status DirectoryArchiver::ArchiveOne(const ArchiveItem& item, Deadline deadline) {
  if (clock_->Monotonic() >= deadline) {
    return Status::IOError("the archive deadline passed before the copy started");
  }
  // Checked by PerFileArchiver::Archive already; again here because nothing
  // may be written for an item that could escape the root.
  LPLEX_RETURN_IF_ERROR(CheckArchiveItem(item));
  const std::string name = BaseName(item.path);
  const std::string dest = DestinationFor(item);
  const std::string dir = ParentDir(dest);
  LPLEX_RETURN_IF_ERROR(CheckNotOntoItself(item, dest, dir));

  // A directory created here must itself be made durable: fsync its parent
  // (and the root's parent when the root was created too).
  const bool root_existed = fs_->Exists(root_);
  const bool dir_existed = dir == root_ ? root_existed : fs_->Exists(dir);
  LPLEX_RETURN_IF_ERROR(fs_->CreateDirs(dir));
  if (!root_existed) LPLEX_RETURN_IF_ERROR(fs_->SyncDir(ParentDir(root_)));
  if (!dir_existed && dir != root_) LPLEX_RETURN_IF_ERROR(fs_->SyncDir(ParentDir(dir)));
  RemoveStaleTemporaries(dir);

  // A copy already there (a retry after a crash between the copy and the
  // marker) is success when it holds the same bytes. Different bytes under
  // the same name belong to another recording: never replaced.
  if (fs_->Exists(dest)) return CompareExisting(item.path, dest, deadline);

  const std::string tmp = JoinPath(
      dir, fmt::format(".{}{}{}-{}", name, kTmpTag, static_cast<long>(::getpid()), g_tmp_counter.fetch_add(1)));
  Status s = CopyTo(item.path, tmp, deadline);
  bool raced = false;  // someone else put `dest` in place meanwhile
  if (s.ok()) {
    // link() fails with EEXIST instead of replacing: a copy that appeared
    // since the check above (another writer of the same name) is kept.
    if (::link(tmp.c_str(), dest.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST) {
        raced = true;
      } else {
        s = Status::FromErrno(fmt::format("link {} to {}", tmp, dest), err);
      }
    }
  }
  Status removed = fs_->RemoveFile(tmp);
  if (!s.ok()) {
    if (!removed.ok() && !removed.IsNotFound()) {
      return Status::IOError(fmt::format("{}; removing the temporary {} failed too: {}", s.message(), tmp,
                                         removed.message()));
    }
    return s;
  }
  if (raced) return CompareExisting(item.path, dest, deadline);
  LPLEX_RETURN_IF_ERROR(removed);
  return fs_->SyncDir(dir);
}

Status DirectoryArchiver::CompareExisting(const std::string& src_path, const std::string& dest, Deadline deadline) {
  // The caller's message names the destination already.
  constexpr std::string_view different = "the destination already exists with different content";
  auto src = fs_->NewRandomAccessFile(src_path);
  if (!src.ok()) return src.status();
  auto dst = fs_->NewRandomAccessFile(dest);
  if (!dst.ok()) return dst.status();
  auto src_size = (*src)->Size();
  if (!src_size.ok()) return src_size.status();
  auto dst_size = (*dst)->Size();
  if (!dst_size.ok()) return dst_size.status();
  if (*src_size != *dst_size) {
    return Status::AlreadyExists(fmt::format("{} ({} bytes there, {} in the file); not overwritten", different,
                                             *dst_size, *src_size));
  }
  if (compare_buffer_.size() != buffer_.size()) compare_buffer_.resize(buffer_.size());
  uint64_t at = 0;
  while (at < *src_size) {
    if (clock_->Monotonic() >= deadline) {
      return Status::IOError(fmt::format("the archive deadline was reached comparing with the existing {} after {} "
                                         "of {} bytes",
                                         dest, at, *src_size));
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), *src_size - at));
    auto a = (*src)->Read(at, want, buffer_.data());
    if (!a.ok()) return a.status();
    auto b = (*dst)->Read(at, want, compare_buffer_.data());
    if (!b.ok()) return b.status();
    if (*a != want || *b != want) {
      return Status::IOError(fmt::format("{} or {} changed size during the comparison", src_path, dest));
    }
    if (std::memcmp(buffer_.data(), compare_buffer_.data(), want) != 0) {
      return Status::AlreadyExists(
          fmt::format("{} (same size, the bytes differ in the {} bytes from offset {}); not overwritten", different,
                      want, at));
    }
    at += want;
  }
  return Status::Ok();
}

Status DirectoryArchiver::CopyTo(const std::string& src_path, const std::string& tmp, Deadline deadline) {
  auto src = fs_->NewRandomAccessFile(src_path);
  if (!src.ok()) return src.status();
  auto size = (*src)->Size();
  if (!size.ok()) return size.status();
  auto out = fs_->NewExclusiveFile(tmp);
  if (!out.ok()) return out.status();
  WritableFile& dst = **out;

  uint64_t copied = 0;
  for (;;) {
    if (clock_->Monotonic() >= deadline) {
      return Status::IOError(fmt::format("the archive deadline was reached after {} of {} bytes", copied, *size));
    }
    auto got = (*src)->Read(copied, buffer_.size(), buffer_.data());
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    LPLEX_RETURN_IF_ERROR(dst.Append(std::span<const uint8_t>(buffer_.data(), *got)));
    copied += *got;
  }
  // A finished journal file does not change; a different length means
  // someone is still writing it, and the copy would not equal the file.
  if (copied != *size) {
    return Status::IOError(
        fmt::format("{} changed during the copy: {} bytes at the start, {} copied", src_path, *size, copied));
  }
  LPLEX_RETURN_IF_ERROR(dst.Sync());
  return dst.Close();
}

void DirectoryArchiver::OnBatchStart() { swept_dirs_.clear(); }

void DirectoryArchiver::RemoveStaleTemporaries(const std::string& dir) {
  if (!swept_dirs_.insert(dir).second) return;
  auto entries = fs_->ListDir(dir);
  if (!entries.ok()) return;  // best effort: the copy itself reports real problems
  const auto now = std::chrono::system_clock::now();
  for (const DirEntry& e : *entries) {
    if (e.is_dir) continue;
    pid_t owner = TemporaryOwner(e.name);
    if (owner <= 0 || owner == ::getpid()) continue;
    const std::string path = JoinPath(dir, e.name);
    if (!WriterIsGone(owner)) {
      // Its pid is alive, but may belong to another program by now (pids
      // are reused). A copy in progress writes a chunk at least every few
      // seconds, so one untouched for an hour is abandoned.
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      const auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
      if (now - mtime < kStaleTemporaryAge) continue;
    }
    (void)fs_->RemoveFile(path);
  }
}

}  // namespace lplex::keeper
