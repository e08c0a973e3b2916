// FileSystem: every file the project touches goes through this interface, so
// tests can inject faults (ENOSPC, EIO, short writes) the way LevelDB's Env
// allows. PosixFileSystem (FileSystem::Default()) is the real one;
// FaultInjectingFileSystem wraps another and fails on command.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace lplex {

// A file open for appending. Not thread-safe. Close() is called by the
// destructor if the owner forgot, but then its error is lost.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;

  // Writes all of data or returns an error (a short write is an error).
  virtual Status Append(std::span<const uint8_t> data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// A file read at arbitrary offsets. Thread-safe for concurrent Read calls.
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile() = default;

  // Reads up to n bytes at offset into scratch and returns how many were
  // read; fewer than n only at end of file.
  virtual Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const = 0;
  // Current size of the file in bytes.
  virtual Result<uint64_t> Size() const = 0;
};

// A RandomAccessFile over bytes in memory (hand-built test vectors, fuzzers).
class MemoryFile final : public RandomAccessFile {
 public:
  explicit MemoryFile(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override;
  Result<uint64_t> Size() const override { return static_cast<uint64_t>(bytes_.size()); }

 private:
  std::vector<uint8_t> bytes_;
};

struct DirEntry {
  std::string name;  // file name only, no directory
  bool is_dir = false;
};

class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // Creates a new file. Fails with AlreadyExists, and leaves the existing
  // file untouched, when `path` exists (O_EXCL): nothing is ever truncated.
  // The file stays locked for writing (flock) until it is closed, so other
  // processes can tell it is still being written (IsBeingWritten).
  virtual Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  // Creates `path` and any missing parents (mode 0755). OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // Entries of a directory, excluding "." and "..", in no particular order.
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // fsyncs a directory so that a file created or renamed in it survives power loss.
  virtual Status SyncDir(const std::string& path) = 0;
  // True while some process (this one included) holds `path` open through
  // NewExclusiveFile. False for missing files.
  virtual bool IsBeingWritten(const std::string& path) = 0;

  // The real, POSIX file system (never null, never destroyed).
  static FileSystem* Default();
};

// Wraps another FileSystem and fails chosen operations. Thread-safe.
class FaultInjectingFileSystem final : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem* target) : target_(target) {}

  // After `bytes` more bytes have been appended (to any file), appends write
  // what still fits (a short write) and then fail with `err` (e.g. ENOSPC).
  void FailWritesAfter(uint64_t bytes, int err);
  // Every Sync fails with `err` (0 turns it off).
  void FailSyncs(int err);
  // Every NewExclusiveFile fails with `err` (0 turns it off).
  void FailCreates(int err);
  // Back to normal.
  void Heal();

  uint64_t bytes_written() const;

  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return target_->NewRandomAccessFile(path);
  }
  Status CreateDirs(const std::string& path) override { return target_->CreateDirs(path); }
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override { return target_->ListDir(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return target_->FileSize(path); }
  bool Exists(const std::string& path) override { return target_->Exists(path); }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status SyncDir(const std::string& path) override { return target_->SyncDir(path); }
  bool IsBeingWritten(const std::string& path) override { return target_->IsBeingWritten(path); }

 private:
  class FaultyFile;
  struct State;
  FileSystem* target_;
  std::shared_ptr<State> state_ = MakeState();
  static std::shared_ptr<State> MakeState();
};

// Joins a directory and a name with exactly one '/'.
std::string JoinPath(const std::string& dir, const std::string& name);
// The part after the last '/'.
std::string BaseName(const std::string& path);

}  // namespace lplex
