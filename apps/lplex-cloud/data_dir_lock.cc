#include "data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <string>

#include "core/file_system.h"

namespace lplex::cloud_app {
namespace {

// The pid the holder wrote, or "unknown" (it may not have written it yet).
std::string HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

std::string DataDirLock::LockPath(const std::string& data_dir) { return JoinPath(data_dir, ".lock"); }

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = LockPath(data_dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("data dir {}: cannot open the lock file {}", data_dir, path), errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string pid = HolderPid(fd);
      ::close(fd);
      return Status::AlreadyExists(
          fmt::format("data dir {} is in use by another lplex-cloud (pid {}); stop it, or give this one another "
                      "-data-dir",
                      data_dir, pid));
    }
    ::close(fd);
    return Status::FromErrno(fmt::format("data dir {}: cannot lock {}", data_dir, path), err);
  }
  // Ours now: replace whatever pid an earlier holder left.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno(fmt::format("data dir {}: cannot write the lock file {}", data_dir, path), err);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }  // closing the last descriptor drops the flock

}  // namespace lplex::cloud_app
