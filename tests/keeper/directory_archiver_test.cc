// DirectoryArchiver: the local file:///path target.
#include "keeper/directory_archiver.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "support/forwarding_file_system.h"
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

// Re-archiving after a crash between the copy and the marker: the copy is
// there and equal, so it is success without another write.
TEST(DirectoryArchiver, ReArchiveOfIdenticalCopySucceedsWithoutWriting) {
  TempDir src, dst;
  FaultInjectingFileSystem faulty(FileSystem::Default());
  DirectoryArchiver a(dst.path(), &faulty);
  const std::string bytes = RandomBytes(3 << 20, 7);
  WriteFile(src.Sub(kFileName), bytes);
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName), "i")}, In(10s))[0].ok);
  const uint64_t written = faulty.bytes_written();
  auto out = a.Archive({Item(src.Sub(kFileName), "i")}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_EQ(faulty.bytes_written(), written);
  EXPECT_TRUE(ReadFile(dst.Sub("i/") + kFileName) == bytes);
  EXPECT_EQ(Tree(dst.path()), (std::vector<std::string>{"i", std::string("i/") + kFileName}));
}

// Two recordings with the same file names (a re-import with other options,
// another recorder archiving to the same place): the second used to replace
// the first one's copies, and retention then deleted the first's originals.
TEST(DirectoryArchiver, ArchiveRefusesToOverwriteCopyWithDifferentContent) {
  TempDir first, second, dst;
  DirectoryArchiver a(dst.path());
  const std::string original = RandomBytes(100000, 8);
  WriteFile(first.Sub(kFileName), original);
  ASSERT_TRUE(a.Archive({Item(first.Sub(kFileName), "i")}, In(10s))[0].ok);

  // Same size, one byte different: the byte comparison must catch it.
  std::string same_size = original;
  same_size[77777] ^= 1;
  WriteFile(second.Sub(kFileName), same_size);
  const std::string dest = dst.Sub("i/") + kFileName;
  auto out = a.Archive({Item(second.Sub(kFileName), "i")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("file://" + dest + ": the destination already exists with different content"),
            std::string::npos)
      << out[0].error;
  EXPECT_NE(out[0].error.find("not overwritten"), std::string::npos) << out[0].error;

  // Different size.
  WriteFile(second.Sub(kFileName), "short");
  out = a.Archive({Item(second.Sub(kFileName), "i")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("already exists with different content (100000 bytes there, 5 in the file)"), std::string::npos)
      << out[0].error;
  EXPECT_TRUE(ReadFile(dest) == original);
  EXPECT_EQ(Tree(dst.path()), (std::vector<std::string>{"i", std::string("i/") + kFileName}));
}

// Writes `dest` (as another writer of the same name would) when the archiver
// creates its temporary, i.e. after the existence check and before the final
// name is made.
class RacingWriterFileSystem final : public lplex::testing::ForwardingFileSystem {
 public:
  RacingWriterFileSystem(std::string dest, std::string bytes) : dest_(std::move(dest)), bytes_(std::move(bytes)) {}
  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& path) override {
    if (path.find(".tmp-") != std::string::npos) WriteFile(dest_, bytes_);
    return base()->NewExclusiveFile(path);
  }

 private:
  std::string dest_, bytes_;
};

TEST(DirectoryArchiver, ArchiveDoesNotClobberACopyWrittenConcurrentlyUnderTheSameName) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "our recording");
  RacingWriterFileSystem racing(dst.Sub(kFileName), "the other writer's recording");
  DirectoryArchiver a(dst.path(), &racing);
  auto out = a.Archive({Item(src.Sub(kFileName))}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("already exists with different content"), std::string::npos) << out[0].error;
  EXPECT_EQ(ReadFile(dst.Sub(kFileName)), "the other writer's recording");
  EXPECT_EQ(Tree(dst.path()), std::vector<std::string>{kFileName});  // our temporary is gone
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

// The deadline is on the archiver's clock, not steady_clock: here it has
// passed on the clock although steady_clock is decades short of it.
TEST(DirectoryArchiver, DeadlinePassedOnItsClockFailsWhateverSteadyClockSays) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  FakeClock clock(0, int64_t{1'000'000'000'000'000});  // ~31 years of monotonic time
  DirectoryArchiver a(dst.Sub("root"), FileSystem::Default(), &clock);
  auto out = a.Archive({Item(src.Sub(kFileName))}, clock.Monotonic() - 1ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("deadline"), std::string::npos) << out[0].error;
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

// Killed copies left ".{name}.tmp-<pid>-<n>" files in the archive for
// good: the sweep ran once per archiver and directory, and a killed writer
// that was not reaped yet (a zombie) still counted as alive.
TEST(DirectoryArchiver, StaleTemporaryIsRemovedOnEveryArchiveCallNotOnlyTheFirst) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  DirectoryArchiver a(dst.path());
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName))}, In(10s))[0].ok);
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = "." + std::string(kFileName) + ".tmp-" + std::to_string(dead) + "-9";
  WriteFile(dst.Sub(stale), "partial");
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName))}, In(10s))[0].ok);
  EXPECT_FALSE(fs::exists(dst.Sub(stale)));
}

TEST(DirectoryArchiver, StaleTemporaryOfAKilledUnreapedWriterIsRemoved) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);
  ASSERT_GT(zombie, 0);
  // Wait until it has exited, without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
  const std::string stale = "." + std::string(kFileName) + ".tmp-" + std::to_string(zombie) + "-0";
  WriteFile(dst.Sub(stale), "partial");
  DirectoryArchiver a(dst.path());
  auto out = a.Archive({Item(src.Sub(kFileName))}, In(10s));
  ::waitpid(zombie, nullptr, 0);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(fs::exists(dst.Sub(stale)));
}

TEST(DirectoryArchiver, StaleTemporaryUntouchedForAnHourIsRemovedEvenIfItsPidIsReused) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  // The pid is alive (our parent), as after pid reuse; the file is two hours old.
  const std::string old_tmp = ".a.lpj.tmp-" + std::to_string(::getppid()) + "-1";
  const std::string fresh_tmp = ".b.lpj.tmp-" + std::to_string(::getppid()) + "-2";
  const std::string lookalike = ".c.lpj.tmp-x1-2";  // not our pattern: never touched
  for (const auto& n : {old_tmp, fresh_tmp, lookalike}) WriteFile(dst.Sub(n), "partial");
  const auto two_hours_ago = fs::file_time_type::clock::now() - 2h;
  fs::last_write_time(dst.Sub(old_tmp), two_hours_ago);
  fs::last_write_time(dst.Sub(lookalike), two_hours_ago);
  DirectoryArchiver a(dst.path());
  ASSERT_TRUE(a.Archive({Item(src.Sub(kFileName))}, In(10s))[0].ok);
  EXPECT_FALSE(fs::exists(dst.Sub(old_tmp)));
  EXPECT_TRUE(fs::exists(dst.Sub(fresh_tmp)));
  EXPECT_TRUE(fs::exists(dst.Sub(lookalike)));
}

// Finding 1: a target that is the journal directory copied every file onto
// itself and reported success; the marker then let retention delete the only
// copy. The item must fail and the file stay as it was.
TEST(DirectoryArchiver, DirectoryArchiverFailsWhenDestinationIsTheSourceFile) {
  TempDir journal;
  const std::string bytes = RandomBytes(5000, 4);
  WriteFile(journal.Sub(kFileName), bytes);
  const auto inode_before = fs::status(journal.Sub(kFileName)).type();
  struct stat before {};
  ASSERT_EQ(::stat(journal.Sub(kFileName).c_str(), &before), 0);
  for (const std::string& root : {journal.path(), journal.path() + "/", journal.path() + "/./sub/.."}) {
    DirectoryArchiver a(root);
    auto out = a.Archive({Item(journal.Sub(kFileName))}, In(10s));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].ok) << root << " was accepted as a copy of the file itself";
    EXPECT_NE(out[0].error.find("is the file itself"), std::string::npos) << out[0].error;
    EXPECT_NE(out[0].error.find(journal.Sub(kFileName)), std::string::npos) << out[0].error;
  }
  // Untouched: same inode (not replaced by a copy), same bytes, nothing beside it.
  struct stat after {};
  ASSERT_EQ(::stat(journal.Sub(kFileName).c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(inode_before, fs::status(journal.Sub(kFileName)).type());
  EXPECT_TRUE(ReadFile(journal.Sub(kFileName)) == bytes);
  EXPECT_EQ(Tree(journal.path()), std::vector<std::string>{kFileName});
}

// The same file reached another way: the destination is a hard link or a
// symbolic link to the source (same device and inode).
TEST(DirectoryArchiver, DirectoryArchiverFailsWhenDestinationIsALinkToTheSource) {
  TempDir journal, dst;
  WriteFile(journal.Sub(kFileName), "journal bytes");
  fs::create_directories(dst.Sub("hard"));
  fs::create_hard_link(journal.Sub(kFileName), dst.Sub("hard/") + kFileName);
  fs::create_directories(dst.Sub("soft"));
  fs::create_symlink(journal.Sub(kFileName), dst.Sub("soft/") + kFileName);
  for (const std::string sub : {"hard", "soft"}) {
    DirectoryArchiver a(dst.Sub(sub));
    auto out = a.Archive({Item(journal.Sub(kFileName))}, In(10s));
    EXPECT_FALSE(out[0].ok) << sub;
    EXPECT_NE(out[0].error.find("is the file itself"), std::string::npos) << out[0].error;
  }
  EXPECT_EQ(ReadFile(journal.Sub(kFileName)), "journal bytes");
}

TEST(DirectoryArchiver, DirectoryArchiverFailsWhenDestinationLiesInsideTheSourceDirectory) {
  TempDir journal;
  WriteFile(journal.Sub(kFileName), "x");
  DirectoryArchiver a(journal.Sub("archive"));
  auto out = a.Archive({Item(journal.Sub(kFileName), "boat-1")}, In(10s));
  ASSERT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("lies inside the file's own directory"), std::string::npos) << out[0].error;
  EXPECT_FALSE(fs::exists(journal.Sub("archive"))) << "nothing may be created before the check";
}

// Finding 2: "../../evil" put copies outside the archive root.
TEST(DirectoryArchiver, ArchiveRejectsInstanceIdWithDotDot) {
  TempDir src, dst;
  WriteFile(src.Sub(kFileName), "x");
  const std::string root = dst.Sub("archive/x");
  DirectoryArchiver a(root);
  for (const std::string& id : std::vector<std::string>{"../../evil", "..", "a/b", ".hidden", std::string(129, 'i')}) {
    auto out = a.Archive({Item(src.Sub(kFileName), id)}, In(10s));
    ASSERT_FALSE(out[0].ok) << id;
    EXPECT_NE(out[0].error.find("instance id"), std::string::npos) << out[0].error;
    EXPECT_NE(out[0].error.find(src.Sub(kFileName)), std::string::npos) << out[0].error;
  }
  EXPECT_TRUE(Tree(dst.path()).empty()) << "something was written for a bad instance id";
  EXPECT_FALSE(a.CheckJournalDir(src.path(), "../../evil").ok());
}

TEST(DirectoryArchiver, CheckJournalDirRefusesTargetThatIsContainsOrLiesInsideTheJournal) {
  TempDir dir;
  const std::string j = dir.Sub("data/journal");
  fs::create_directories(j);
  struct Case {
    std::string root;
    std::string id;
    const char* relation;
  };
  for (const Case& c : std::vector<Case>{{j, "", "is the journal directory"},
                                         {j + "/", "boat-1", "is the journal directory"},
                                         {j + "/archive", "", "lies inside the journal directory"},
                                         {dir.Sub("data"), "boat-1", "contains the journal directory"},
                                         {dir.Sub("data/journal/../journal"), "", "is the journal directory"},
                                         {"/", "", "contains the journal directory"}}) {
    Status s = DirectoryArchiver(c.root).CheckJournalDir(j, c.id);
    ASSERT_FALSE(s.ok()) << c.root << " accepted";
    EXPECT_NE(s.message().find(c.relation), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(j), std::string::npos) << s.message();
  }
  EXPECT_TRUE(DirectoryArchiver(dir.Sub("archive")).CheckJournalDir(j, "boat-1").ok());
  EXPECT_TRUE(DirectoryArchiver(dir.Sub("data/journal-archive")).CheckJournalDir(j, "").ok())
      << "a sibling whose name starts like the journal's is separate";
}

TEST(DirectoryArchiver, CheckJournalDirResolvesSymbolicLinks) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  fs::create_directory_symlink(j, dir.Sub("alias"));
  Status s = DirectoryArchiver(dir.Sub("alias")).CheckJournalDir(j, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("(resolved: " + j + ")"), std::string::npos) << s.message();
  // The directory the instance's copies go to, reached through a link.
  fs::create_directories(dir.Sub("archive"));
  fs::create_directory_symlink(j, dir.Sub("archive/boat-1"));
  EXPECT_FALSE(DirectoryArchiver(dir.Sub("archive")).CheckJournalDir(j, "boat-1").ok());
  EXPECT_TRUE(DirectoryArchiver(dir.Sub("archive")).CheckJournalDir(j, "boat-2").ok());
}

TEST(ResolvePath, FoldsDotsResolvesLinksAndKeepsTheMissingTail) {
  TempDir dir;
  fs::create_directories(dir.Sub("real/a"));
  fs::create_directory_symlink(dir.Sub("real"), dir.Sub("link"));
  const std::string real = fs::canonical(dir.path()).string();
  EXPECT_EQ(*ResolvePath(dir.Sub("link/a")), real + "/real/a");
  EXPECT_EQ(*ResolvePath(dir.Sub("link/a/../a/./")), real + "/real/a");
  EXPECT_EQ(*ResolvePath(dir.Sub("link/missing/deeper/..")), real + "/real/missing");
  EXPECT_EQ(*ResolvePath(dir.Sub("link/..")), real) << "'..' after a link goes to the link target's parent";
  EXPECT_EQ(*ResolvePath("/"), "/");
  fs::create_symlink(dir.Sub("nowhere"), dir.Sub("dangling"));
  auto dangling = ResolvePath(dir.Sub("dangling/x"));
  ASSERT_FALSE(dangling.ok());
  EXPECT_NE(dangling.status().message().find("dangling"), std::string::npos) << dangling.status().message();
  EXPECT_TRUE(PathIsWithin("/a/b", "/a"));
  EXPECT_TRUE(PathIsWithin("/a", "/a"));
  EXPECT_FALSE(PathIsWithin("/ab", "/a"));
  EXPECT_TRUE(PathIsWithin("/x", "/"));
}

}  // namespace
}  // namespace lplex::keeper
