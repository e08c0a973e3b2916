// DirectoryArchiver: the local file:///path target.
#include "keeper/directory_archiver.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;
using namespace std::chrono_literals;

constexpr char kFileName[] = "nmea2k-20260310T120000Z.lpj";

Deadline In(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ArchiveItem Item(const std::string& path, const std::string& instance_id = "") {
  ArchiveItem item;
  item.path = path;
  item.instance_id = instance_id;
  return item;
}

// Every entry under `root`, relative, sorted: what an operator would see.
std::vector<std::string> Tree(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) out.push_back(fs::relative(e.path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DirectoryArchiver, CopiesByteEqualUnderInstanceId) {
  TempDir src, dst;
  const std::string bytes = RandomBytes(3 << 20, 1);  // several copy chunks
  WriteFile(src.Sub(kFileName), bytes);
  const std::string root = dst.Sub("archive/nested");  // created on demand
  DirectoryArchiver a(root);
  EXPECT_EQ(a.Describe(), "file://" + root);

  auto out = a.Archive({Item(src.Sub(kFileName), "boat-1"), Item(src.Sub(kFileName))}, In(10s));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  EXPECT_TRUE(ReadFile(root + "/boat-1/" + kFileName) == bytes);
  EXPECT_TRUE(ReadFile(root + "/" + kFileName) == bytes);
  // No temporary left behind; the source is untouched.
  EXPECT_EQ(Tree(root), (std::vector<std::string>{"boat-1", std::string("boat-1/") + kFileName, kFileName}));
  EXPECT_TRUE(ReadFile(src.Sub(kFileName)) == bytes);
}

TEST(DirectoryArchiver, EmptyFileIsCopied) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "");
  DirectoryArchiver a(dst.path());
  auto out = a.Archive({Item(src.Sub(kFileName))}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(fs::exists(dst.Sub(kFileName)));
  EXPECT_EQ(fs::file_size(dst.Sub(kFileName)), 0u);
}

TEST(DirectoryArchiver, ReArchiveOverwritesAtomically) {
  TempDir src, dst;
  DirectoryArchiver a(dst.path());
  WriteFile(src.Sub(kFileName), "the first, longer version of the file");
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName), "i")}, In(10s))[0].ok);
  WriteFile(src.Sub(kFileName), "second");
  auto out = a.Archive({Item(src.Sub(kFileName), "i")}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_EQ(ReadFile(dst.Sub("i/") + kFileName), "second");
  EXPECT_EQ(Tree(dst.path()), (std::vector<std::string>{"i", std::string("i/") + kFileName}));
}

TEST(DirectoryArchiver, DiskFullFailsWithoutPartialFileAndRecovers) {
  TempDir src, dst;
  const std::string bytes = RandomBytes(2 << 20, 2);
  WriteFile(src.Sub(kFileName), bytes);
  FaultInjectingFileSystem faulty(FileSystem::Default());
  faulty.FailWritesAfter(1 << 20, ENOSPC);  // the disk fills half way through
  DirectoryArchiver a(dst.path(), &faulty);

  auto out = a.Archive({Item(src.Sub(kFileName), "boat-1")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("No space left on device"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(src.Sub(kFileName)), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("file://" + dst.path() + "/boat-1/" + kFileName), std::string::npos) << out[0].error;
  // Neither the final name nor the temporary exists.
  EXPECT_EQ(Tree(dst.path()), std::vector<std::string>{"boat-1"});

  faulty.Heal();  // space freed: the retry succeeds
  out = a.Archive({Item(src.Sub(kFileName), "boat-1")}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(ReadFile(dst.Sub("boat-1/") + kFileName) == bytes);
}

TEST(DirectoryArchiver, DiskFullOnReArchiveKeepsThePreviousCopy) {
  TempDir src, dst;
  FaultInjectingFileSystem faulty(FileSystem::Default());
  DirectoryArchiver a(dst.path(), &faulty);
  WriteFile(src.Sub(kFileName), "old complete copy");
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName))}, In(10s))[0].ok);
  WriteFile(src.Sub(kFileName), RandomBytes(100000, 3));
  faulty.FailWritesAfter(10, ENOSPC);
  auto out = a.Archive({Item(src.Sub(kFileName))}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_EQ(ReadFile(dst.Sub(kFileName)), "old complete copy");
  EXPECT_EQ(Tree(dst.path()), std::vector<std::string>{kFileName});
}

TEST(DirectoryArchiver, FailedSyncIsFailureAndRemovesTheTemporary) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "bytes");
  FaultInjectingFileSystem faulty(FileSystem::Default());
  faulty.FailSyncs(EIO);
  DirectoryArchiver a(dst.path(), &faulty);
  auto out = a.Archive({Item(src.Sub(kFileName))}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("Input/output error"), std::string::npos) << out[0].error;
  EXPECT_TRUE(Tree(dst.path()).empty());
}

TEST(DirectoryArchiver, MissingSourceFailsNamingIt) {
  TempDir dst;
  DirectoryArchiver a(dst.path());
  auto out = a.Archive({Item("/nonexistent/x.lpj")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("/nonexistent/x.lpj"), std::string::npos) << out[0].error;
}

TEST(DirectoryArchiver, RootThatIsAFileFails) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  WriteFile(dst.Sub("plain-file"), "");
  DirectoryArchiver a(dst.Sub("plain-file"));
  auto out = a.Archive({Item(src.Sub(kFileName), "i")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("plain-file"), std::string::npos) << out[0].error;
}

TEST(DirectoryArchiver, DeadlinePassedFailsEveryItemWithoutWriting) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  DirectoryArchiver a(dst.Sub("root"));
  auto out = a.Archive({Item(src.Sub(kFileName)), Item(src.Sub(kFileName), "i")},
                       std::chrono::steady_clock::now() - 1ms);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find("deadline"), std::string::npos) << o.error;
  }
  EXPECT_FALSE(fs::exists(dst.Sub("root")));
}

TEST(DirectoryArchiver, StaleTemporaryOfDeadProcessIsRemovedLiveOnesKept) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  // A pid that surely is gone: a child we started and reaped.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = "." + std::string(kFileName) + ".tmp-" + std::to_string(dead) + "-0";
  const std::string live = ".other.lpj.tmp-" + std::to_string(::getppid()) + "-3";
  const std::string unrelated = ".hidden-note";
  WriteFile(dst.Sub(stale), "partial");
  WriteFile(dst.Sub(live), "in progress");
  WriteFile(dst.Sub(unrelated), "");

  DirectoryArchiver a(dst.path());
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName))}, In(10s))[0].ok);
  EXPECT_FALSE(fs::exists(dst.Sub(stale)));
  EXPECT_TRUE(fs::exists(dst.Sub(live)));
  EXPECT_TRUE(fs::exists(dst.Sub(unrelated)));
}

}  // namespace
}  // namespace lplex::keeper
