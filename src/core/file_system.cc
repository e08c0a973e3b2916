#include "core/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace lplex {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::span<const uint8_t> data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("write " + path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno("fdatasync " + path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::FromErrno("close " + path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("read " + path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno("stat " + path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) return Status::AlreadyExists(path + " already exists");
      return Status::FromErrno("create " + path, errno);
    }
    // Advisory: tells other processes (lplex archive) the file is being written.
    (void)::flock(fd, LOCK_EX | LOCK_NB);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such file");
      return Status::FromErrno("open " + path, errno);
    }
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return Status::Ok();
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      partial = path.substr(0, pos);
      if (partial.empty()) continue;
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno("create directory " + partial, errno);
      }
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("stat " + path, errno);
    if (!S_ISDIR(st.st_mode)) return Status::IOError(path + " exists and is not a directory");
    return Status::Ok();
  }

  Result<std::vector<DirEntry>> ListDir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such directory");
      return Status::FromErrno("open directory " + path, errno);
    }
    std::vector<DirEntry> out;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::stat(JoinPath(path, e->d_name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      out.push_back({e->d_name, is_dir});
    }
    ::closedir(d);
    return out;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such file");
      return Status::FromErrno("stat " + path, errno);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such file");
      return Status::FromErrno("remove " + path, errno);
    }
    return Status::Ok();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno("rename " + from + " to " + to, errno);
    return Status::Ok();
  }

  bool IsBeingWritten(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    // flock locks belong to open file descriptions, so this conflicts with a
    // writer's lock even inside the same process.
    const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open directory " + path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("fsync directory " + path, err);
    return Status::Ok();
  }
};

}  // namespace

Result<size_t> MemoryFile::Read(uint64_t offset, size_t n, uint8_t* scratch) const {
  if (offset >= bytes_.size()) return size_t{0};
  size_t avail = bytes_.size() - static_cast<size_t>(offset);
  size_t take = n < avail ? n : avail;
  std::memcpy(scratch, bytes_.data() + offset, take);
  return take;
}

FileSystem* FileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();  // intentionally leaked
  return fs;
}

// ---------------------------------------------------------------------------
// FaultInjectingFileSystem

struct FaultInjectingFileSystem::State {
  std::mutex mu;
  bool limit_writes = false;
  uint64_t write_budget = 0;
  int write_err = 0;
  int sync_err = 0;
  int create_err = 0;
  uint64_t bytes_written = 0;
};

std::shared_ptr<FaultInjectingFileSystem::State> FaultInjectingFileSystem::MakeState() {
  return std::make_shared<State>();
}

class FaultInjectingFileSystem::FaultyFile final : public WritableFile {
 public:
  FaultyFile(std::unique_ptr<WritableFile> target, std::shared_ptr<State> state)
      : target_(std::move(target)), state_(std::move(state)) {}

  Status Append(std::span<const uint8_t> data) override {
    size_t allowed = data.size();
    int err = 0;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->limit_writes && data.size() > state_->write_budget) {
        allowed = static_cast<size_t>(state_->write_budget);
        err = state_->write_err;
      }
      if (state_->limit_writes) state_->write_budget -= allowed;
      state_->bytes_written += allowed;
    }
    if (allowed > 0) LPLEX_RETURN_IF_ERROR(target_->Append(data.first(allowed)));
    if (err != 0) return Status::FromErrno("write (injected fault)", err);
    return Status::Ok();
  }

  Status Sync() override {
    int err;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      err = state_->sync_err;
    }
    if (err != 0) return Status::FromErrno("fdatasync (injected fault)", err);
    return target_->Sync();
  }

  Status Close() override { return target_->Close(); }

 private:
  std::unique_ptr<WritableFile> target_;
  std::shared_ptr<State> state_;
};

void FaultInjectingFileSystem::FailWritesAfter(uint64_t bytes, int err) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->limit_writes = true;
  state_->write_budget = bytes;
  state_->write_err = err;
}

void FaultInjectingFileSystem::FailSyncs(int err) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->sync_err = err;
}

void FaultInjectingFileSystem::FailCreates(int err) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->create_err = err;
}

void FaultInjectingFileSystem::Heal() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->limit_writes = false;
  state_->sync_err = 0;
  state_->create_err = 0;
}

uint64_t FaultInjectingFileSystem::bytes_written() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->bytes_written;
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::NewExclusiveFile(const std::string& path) {
  int err;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    err = state_->create_err;
  }
  if (err != 0) return Status::FromErrno("create " + path + " (injected fault)", err);
  LPLEX_ASSIGN_OR_RETURN(auto file, target_->NewExclusiveFile(path));
  return std::unique_ptr<WritableFile>(new FaultyFile(std::move(file), state_));
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace lplex
