// A FileSystem that passes every call on to another one (the real one by
// default). A test derives from it and overrides only the call whose timing
// or failure it stages, instead of restating the whole interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/file_system.h"

namespace lplex::testing {

class ForwardingFileSystem : public FileSystem {
 public:
  // `base` must outlive this object.
  explicit ForwardingFileSystem(FileSystem* base = FileSystem::Default()) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& p) override {
    return base_->NewExclusiveFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Result<std::vector<DirEntry>> ListDir(const std::string& p) override { return base_->ListDir(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RenameFile(const std::string& a, const std::string& b) override { return base_->RenameFile(a, b); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  bool IsBeingWritten(const std::string& p) override { return base_->IsBeingWritten(p); }

 protected:
  // What the overrides call for the real work.
  FileSystem* base() const { return base_; }

 private:
  FileSystem* base_;
};

}  // namespace lplex::testing
