#include "core/file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace lplex {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Reads a file behind the FileSystem's back, so a test does not trust the
// code under test to check its own work.
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Spit(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// A fresh directory under /tmp for each test, removed afterwards.
class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed: " << std::strerror(errno);
    dir_ = tmp_.path();
  }
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  // Creates `name` through `fs` with `content` and closes it.
  void Create(FileSystem* fs, const std::string& name, const std::string& content) {
    auto f = fs->NewExclusiveFile(Path(name));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(Bytes(content)).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  lplex::testing::TempDir tmp_;
  FileSystem* fs_ = FileSystem::Default();
  std::string dir_;
};

// ---------------------------------------------------------------------------
// PosixFileSystem

TEST_F(FileSystemTest, DefaultIsSingleton) {
  ASSERT_NE(FileSystem::Default(), nullptr);
  EXPECT_EQ(FileSystem::Default(), FileSystem::Default());
}

TEST_F(FileSystemTest, NewExclusiveFileWritesAppendsInOrder) {
  auto f = fs_->NewExclusiveFile(Path("a.lpj"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append(Bytes("hello ")).ok());
  ASSERT_TRUE((*f)->Append(Bytes("")).ok());
  ASSERT_TRUE((*f)->Append(Bytes("world")).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Slurp(Path("a.lpj")), "hello world");
}

TEST_F(FileSystemTest, NewExclusiveFileOnExistingPathFailsAndNeverTruncates) {
  Spit(Path("a.lpj"), "precious journal bytes");
  auto f = fs_->NewExclusiveFile(Path("a.lpj"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(f.status().message(), HasSubstr(Path("a.lpj")));
  EXPECT_EQ(Slurp(Path("a.lpj")), "precious journal bytes");
}

// Even a file this process still has open for writing is not clobbered.
TEST_F(FileSystemTest, NewExclusiveFileOnFileStillOpenFails) {
  auto first = fs_->NewExclusiveFile(Path("a.lpj"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Append(Bytes("abc")).ok());
  auto second = fs_->NewExclusiveFile(Path("a.lpj"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kAlreadyExists);
  ASSERT_TRUE((*first)->Append(Bytes("def")).ok());
  ASSERT_TRUE((*first)->Close().ok());
  EXPECT_EQ(Slurp(Path("a.lpj")), "abcdef");
}

TEST_F(FileSystemTest, NewExclusiveFileInMissingDirectoryIsIOError) {
  auto f = fs_->NewExclusiveFile(Path("missing/a.lpj"));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsIOError()) << f.status().ToString();
  EXPECT_THAT(f.status().message(), HasSubstr("missing/a.lpj"));
}

TEST_F(FileSystemTest, CloseTwiceIsHarmless) {
  auto f = fs_->NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Close().ok());
  EXPECT_TRUE((*f)->Close().ok());
}

TEST_F(FileSystemTest, DestructorClosesAnUnclosedFile) {
  {
    auto f = fs_->NewExclusiveFile(Path("a"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(Bytes("xyz")).ok());
  }
  EXPECT_EQ(Slurp(Path("a")), "xyz");
}

TEST_F(FileSystemTest, RandomAccessFileReadsAtOffsets) {
  Spit(Path("r"), "0123456789");
  auto f = fs_->NewRandomAccessFile(Path("r"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto size = (*f)->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 10u);
  uint8_t buf[16] = {};
  auto n = (*f)->Read(3, 4, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "3456");
}

TEST_F(FileSystemTest, RandomAccessFileShortReadOnlyAtEnd) {
  Spit(Path("r"), "0123456789");
  auto f = fs_->NewRandomAccessFile(Path("r"));
  ASSERT_TRUE(f.ok());
  uint8_t buf[16] = {};
  auto n = (*f)->Read(7, 10, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "789");
  n = (*f)->Read(10, 4, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = (*f)->Read(1000, 4, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

// The reader sees bytes appended after it was opened (tailing a live journal).
TEST_F(FileSystemTest, RandomAccessFileSeesGrowth) {
  auto w = fs_->NewExclusiveFile(Path("live"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Bytes("abc")).ok());
  auto r = fs_->NewRandomAccessFile(Path("live"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Size(), 3u);
  ASSERT_TRUE((*w)->Append(Bytes("def")).ok());
  EXPECT_EQ(*(*r)->Size(), 6u);
  uint8_t buf[8] = {};
  auto n = (*r)->Read(3, 8, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), "def");
}

TEST_F(FileSystemTest, NewRandomAccessFileMissingIsNotFound) {
  auto f = fs_->NewRandomAccessFile(Path("nope"));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsNotFound()) << f.status().ToString();
  EXPECT_THAT(f.status().message(), HasSubstr(Path("nope")));
}

TEST_F(FileSystemTest, CreateDirsMakesParents) {
  const std::string deep = Path("a/b/c/d");
  ASSERT_TRUE(fs_->CreateDirs(deep).ok());
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_TRUE(std::filesystem::is_directory(Path("a/b")));
}

TEST_F(FileSystemTest, CreateDirsWhenItExistsIsOk) {
  ASSERT_TRUE(fs_->CreateDirs(Path("x")).ok());
  Spit(Path("x/keep"), "k");
  EXPECT_TRUE(fs_->CreateDirs(Path("x")).ok());
  EXPECT_TRUE(fs_->CreateDirs(dir_).ok());
  EXPECT_EQ(Slurp(Path("x/keep")), "k");
}

TEST_F(FileSystemTest, CreateDirsWithTrailingSlash) {
  ASSERT_TRUE(fs_->CreateDirs(Path("t/u/")).ok());
  EXPECT_TRUE(std::filesystem::is_directory(Path("t/u")));
}

TEST_F(FileSystemTest, CreateDirsOverAFileFails) {
  Spit(Path("f"), "data");
  Status s = fs_->CreateDirs(Path("f"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(Path("f")));
  Status under = fs_->CreateDirs(Path("f/sub"));
  EXPECT_FALSE(under.ok());
  EXPECT_EQ(Slurp(Path("f")), "data");
}

TEST_F(FileSystemTest, ListDirNamesFilesAndDirsWithoutDots) {
  Spit(Path("one.lpj"), "1");
  Spit(Path("two.lpj"), "22");
  ASSERT_TRUE(fs_->CreateDirs(Path("sub")).ok());
  auto entries = fs_->ListDir(dir_);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::vector<std::string> files;
  std::vector<std::string> dirs;
  for (const auto& e : *entries) (e.is_dir ? dirs : files).push_back(e.name);
  EXPECT_THAT(files, UnorderedElementsAre("one.lpj", "two.lpj"));
  EXPECT_THAT(dirs, UnorderedElementsAre("sub"));
}

TEST_F(FileSystemTest, ListDirEmpty) {
  auto entries = fs_->ListDir(dir_);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(FileSystemTest, ListDirMissingIsNotFound) {
  auto entries = fs_->ListDir(Path("gone"));
  ASSERT_FALSE(entries.ok());
  EXPECT_TRUE(entries.status().IsNotFound()) << entries.status().ToString();
}

TEST_F(FileSystemTest, FileSizeAndExists) {
  Spit(Path("s"), std::string(1234, 'x'));
  auto size = fs_->FileSize(Path("s"));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 1234u);
  EXPECT_TRUE(fs_->Exists(Path("s")));
  EXPECT_TRUE(fs_->Exists(dir_));
  EXPECT_FALSE(fs_->Exists(Path("t")));
  auto missing = fs_->FileSize(Path("t"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST_F(FileSystemTest, FileSizeOfEmptyFileIsZero) {
  Create(fs_, "empty", "");
  auto size = fs_->FileSize(Path("empty"));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 0u);
}

TEST_F(FileSystemTest, RemoveFile) {
  Spit(Path("r"), "x");
  ASSERT_TRUE(fs_->RemoveFile(Path("r")).ok());
  EXPECT_FALSE(fs_->Exists(Path("r")));
}

TEST_F(FileSystemTest, RemoveFileMissingIsNotFound) {
  Status s = fs_->RemoveFile(Path("never"));
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(Path("never")));
}

TEST_F(FileSystemTest, RenameFileMovesContent) {
  Spit(Path("from"), "payload");
  ASSERT_TRUE(fs_->RenameFile(Path("from"), Path("to")).ok());
  EXPECT_FALSE(fs_->Exists(Path("from")));
  EXPECT_EQ(Slurp(Path("to")), "payload");
}

// rename(2) semantics: the destination is replaced atomically.
TEST_F(FileSystemTest, RenameFileReplacesDestination) {
  Spit(Path("from"), "new");
  Spit(Path("to"), "old");
  ASSERT_TRUE(fs_->RenameFile(Path("from"), Path("to")).ok());
  EXPECT_EQ(Slurp(Path("to")), "new");
}

TEST_F(FileSystemTest, RenameFileMissingSourceFailsAndNamesIt) {
  Status s = fs_->RenameFile(Path("ghost"), Path("to"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(Path("ghost")));
  EXPECT_FALSE(fs_->Exists(Path("to")));
}

TEST_F(FileSystemTest, SyncDir) {
  EXPECT_TRUE(fs_->SyncDir(dir_).ok());
  Status s = fs_->SyncDir(Path("missing"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(Path("missing")));
}

// ---------------------------------------------------------------------------
// MemoryFile

TEST(MemoryFile, ReadsWithinBounds) {
  MemoryFile f({1, 2, 3, 4, 5});
  EXPECT_EQ(*f.Size(), 5u);
  uint8_t buf[5] = {};
  auto n = f.Read(1, 3, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(buf[0], 2);
  EXPECT_EQ(buf[2], 4);
}

TEST(MemoryFile, ReadPastEofIsShortThenEmpty) {
  MemoryFile f({1, 2, 3, 4, 5});
  uint8_t buf[16];
  std::memset(buf, 0xAA, sizeof buf);
  auto n = f.Read(3, 16, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(buf[0], 4);
  EXPECT_EQ(buf[1], 5);
  EXPECT_EQ(buf[2], 0xAA) << "scratch beyond the returned count must not be touched";
  n = f.Read(5, 1, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = f.Read(uint64_t{1} << 62, 4, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(MemoryFile, EmptyFile) {
  MemoryFile f({});
  EXPECT_EQ(*f.Size(), 0u);
  uint8_t buf[1];
  auto n = f.Read(0, 1, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

// ---------------------------------------------------------------------------
// FaultInjectingFileSystem

TEST_F(FileSystemTest, FaultFsPassesThroughWhenHealthy) {
  FaultInjectingFileSystem faulty(fs_);
  Create(&faulty, "a", "hello");
  EXPECT_EQ(Slurp(Path("a")), "hello");
  EXPECT_EQ(faulty.bytes_written(), 5u);
  EXPECT_TRUE(faulty.Exists(Path("a")));
  auto size = faulty.FileSize(Path("a"));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 5u);
}

TEST_F(FileSystemTest, FaultFsKeepsNeverTruncateGuarantee) {
  FaultInjectingFileSystem faulty(fs_);
  Spit(Path("a"), "keep me");
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(Slurp(Path("a")), "keep me");
}

TEST_F(FileSystemTest, FailWritesAfterGivesShortWriteOfRemainingBudgetThenENOSPC) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(10, ENOSPC);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(Bytes("1234")).ok());  // 6 left
  Status s = (*f)->Append(Bytes("abcdefghij"));   // only "abcdef" fits
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsIOError());
  EXPECT_THAT(s.message(), HasSubstr("No space left"));
  EXPECT_EQ(Slurp(Path("a")), "1234abcdef");
  EXPECT_EQ(faulty.bytes_written(), 10u);

  // The disk stays full: nothing more gets through.
  Status again = (*f)->Append(Bytes("z"));
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(again.message(), HasSubstr("No space left"));
  EXPECT_EQ(Slurp(Path("a")), "1234abcdef");
  EXPECT_EQ(faulty.bytes_written(), 10u);
}

TEST_F(FileSystemTest, FailWritesAfterExactFitSucceeds) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(4, ENOSPC);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append(Bytes("1234")).ok());
  EXPECT_FALSE((*f)->Append(Bytes("5")).ok());
  EXPECT_EQ(Slurp(Path("a")), "1234");
}

TEST_F(FileSystemTest, FailWritesAfterZeroFailsFirstAppendWithoutWriting) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(0, EIO);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  Status s = (*f)->Append(Bytes("x"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(std::strerror(EIO)));
  EXPECT_EQ(Slurp(Path("a")), "");
}

TEST_F(FileSystemTest, FailWritesBudgetIsSharedAcrossFiles) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(5, ENOSPC);
  auto a = faulty.NewExclusiveFile(Path("a"));
  auto b = faulty.NewExclusiveFile(Path("b"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*a)->Append(Bytes("aaa")).ok());
  EXPECT_FALSE((*b)->Append(Bytes("bbb")).ok());
  EXPECT_EQ(Slurp(Path("a")), "aaa");
  EXPECT_EQ(Slurp(Path("b")), "bb");
}

TEST_F(FileSystemTest, HealRestoresWrites) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(2, ENOSPC);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE((*f)->Append(Bytes("abc")).ok());
  faulty.Heal();
  EXPECT_TRUE((*f)->Append(Bytes("def")).ok());
  EXPECT_EQ(Slurp(Path("a")), "abdef");
  EXPECT_EQ(faulty.bytes_written(), 5u);
}

TEST_F(FileSystemTest, FailSyncsUntilTurnedOff) {
  FaultInjectingFileSystem faulty(fs_);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(Bytes("data")).ok());
  EXPECT_TRUE((*f)->Sync().ok());
  faulty.FailSyncs(EIO);
  Status s = (*f)->Sync();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_THAT(s.message(), HasSubstr(std::strerror(EIO)));
  EXPECT_FALSE((*f)->Sync().ok()) << "every sync fails, not just the first";
  // Appends still work while syncs fail.
  EXPECT_TRUE((*f)->Append(Bytes("more")).ok());
  faulty.FailSyncs(0);
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(Slurp(Path("a")), "datamore");
}

TEST_F(FileSystemTest, FailSyncsAppliesToFilesOpenedEarlier) {
  FaultInjectingFileSystem faulty(fs_);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  faulty.FailSyncs(EIO);
  EXPECT_FALSE((*f)->Sync().ok());
  faulty.Heal();
  EXPECT_TRUE((*f)->Sync().ok());
}

TEST_F(FileSystemTest, FailCreatesLeavesNoFileBehind) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailCreates(EACCES);
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsIOError());
  EXPECT_THAT(f.status().message(), HasSubstr(std::strerror(EACCES)));
  EXPECT_THAT(f.status().message(), HasSubstr(Path("a")));
  EXPECT_FALSE(fs_->Exists(Path("a")));
  faulty.FailCreates(0);
  EXPECT_TRUE(faulty.NewExclusiveFile(Path("a")).ok());
}

TEST_F(FileSystemTest, HealClearsEveryFault) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.FailWritesAfter(0, ENOSPC);
  faulty.FailSyncs(EIO);
  faulty.FailCreates(EROFS);
  EXPECT_FALSE(faulty.NewExclusiveFile(Path("a")).ok());
  faulty.Heal();
  auto f = faulty.NewExclusiveFile(Path("a"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append(Bytes("ok")).ok());
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Slurp(Path("a")), "ok");
}

// ---------------------------------------------------------------------------
// Path helpers

TEST(JoinPath, ExactlyOneSlash) {
  EXPECT_EQ(JoinPath("/data", "a.lpj"), "/data/a.lpj");
  EXPECT_EQ(JoinPath("/data/", "a.lpj"), "/data/a.lpj");
  EXPECT_EQ(JoinPath("", "a.lpj"), "a.lpj");
  EXPECT_EQ(JoinPath("/", "a.lpj"), "/a.lpj");
}

TEST(BaseName, PartAfterLastSlash) {
  EXPECT_EQ(BaseName("/data/journal/a.lpj"), "a.lpj");
  EXPECT_EQ(BaseName("a.lpj"), "a.lpj");
  EXPECT_EQ(BaseName("/data/"), "");
  EXPECT_EQ(BaseName(""), "");
}

}  // namespace
}  // namespace lplex

namespace lplex {
namespace {

TEST(FileSystemLock, FileBeingWrittenIsLockedUntilClosed) {
  lplex::testing::TempDir dir;
  FileSystem* fs = FileSystem::Default();
  const std::string p = dir.Sub("a.lpj");
  EXPECT_FALSE(fs->IsBeingWritten(p));  // missing
  auto f = fs->NewExclusiveFile(p);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(fs->IsBeingWritten(p));
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_FALSE(fs->IsBeingWritten(p));
}

}  // namespace
}  // namespace lplex
