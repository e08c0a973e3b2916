// DataDirLock: one lplex-cloud per data directory. Two clouds on the same
// -data-dir would both write its instances' journals and state files, and
// the second one's keeper sweep would run over the first one's live files
// before the second failed on a port. The lock is taken before anything
// else touches the directory and held for the life of the object.
//
// The lock is flock(LOCK_EX | LOCK_NB) on {data-dir}/.lock, which holds the
// holder's pid (for the message the second cloud prints). The kernel drops
// the lock when the holder exits, however it exits, so a stale .lock file
// never blocks a restart. The descriptor is close-on-exec: an archive
// script the cloud runs does not inherit (and outlive us holding) the lock.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace lplex::cloud_app {

class DataDirLock {
 public:
  // Locks `data_dir` (which must exist). AlreadyExists when another process
  // holds it: "data dir X is in use by another lplex-cloud (pid N)";
  // IOError when the lock file cannot be opened or locked (the message
  // names the file and the errno text).
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);

  ~DataDirLock();  // releases the lock (the file stays)
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // {data_dir}/.lock
  static std::string LockPath(const std::string& data_dir);

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace lplex::cloud_app
