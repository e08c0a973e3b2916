#include "keeper/directory_archiver.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

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

}  // namespace

DirectoryArchiver::DirectoryArchiver(std::string root, FileSystem* fs)
    : root_(std::move(root)), fs_(fs), buffer_(kCopyChunk) {}

std::string DirectoryArchiver::Describe() const { return "file://" + root_; }

std::string DirectoryArchiver::DestinationFor(const ArchiveItem& item) const {
  return JoinPath(root_, ArchiveRelativePath(item));
}

Status DirectoryArchiver::ArchiveOne(const ArchiveItem& item, Deadline deadline) {
  if (std::chrono::steady_clock::now() >= deadline) {
    return Status::IOError("the archive deadline passed before the copy started");
  }
  const std::string name = BaseName(item.path);
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("\"{}\" does not name a file", item.path));
  }
  const std::string dest = DestinationFor(item);
  const std::string dir = ParentDir(dest);

  // A directory created here must itself be made durable: fsync its parent
  // (and the root's parent when the root was created too).
  const bool root_existed = fs_->Exists(root_);
  const bool dir_existed = dir == root_ ? root_existed : fs_->Exists(dir);
  LPLEX_RETURN_IF_ERROR(fs_->CreateDirs(dir));
  if (!root_existed) LPLEX_RETURN_IF_ERROR(fs_->SyncDir(ParentDir(root_)));
  if (!dir_existed && dir != root_) LPLEX_RETURN_IF_ERROR(fs_->SyncDir(ParentDir(dir)));
  RemoveStaleTemporaries(dir);

  const std::string tmp = JoinPath(
      dir, fmt::format(".{}{}{}-{}", name, kTmpTag, static_cast<long>(::getpid()), g_tmp_counter.fetch_add(1)));
  Status s = CopyTo(item.path, tmp, deadline);
  if (s.ok()) s = fs_->RenameFile(tmp, dest);
  if (!s.ok()) {
    Status removed = fs_->RemoveFile(tmp);
    if (!removed.ok() && !removed.IsNotFound()) {
      return Status::IOError(fmt::format("{}; removing the temporary {} failed too: {}", s.message(), tmp,
                                         removed.message()));
    }
    return s;
  }
  return fs_->SyncDir(dir);
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
    if (std::chrono::steady_clock::now() >= deadline) {
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

void DirectoryArchiver::RemoveStaleTemporaries(const std::string& dir) {
  if (!swept_dirs_.insert(dir).second) return;
  auto entries = fs_->ListDir(dir);
  if (!entries.ok()) return;  // best effort: the copy itself reports real problems
  for (const DirEntry& e : *entries) {
    if (e.is_dir) continue;
    pid_t owner = TemporaryOwner(e.name);
    if (owner <= 0 || owner == ::getpid()) continue;
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // its writer may still be at work
    (void)fs_->RemoveFile(JoinPath(dir, e.name));
  }
}

}  // namespace lplex::keeper
