// lplex archive and lplex retention, run in-process on real directories.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "commands.h"
#include "core/file_system.h"
#include "keeper/archiver_factory.h"
#include "core/clock.h"
#include "core/time.h"
#include "support/capture_output.h"
#include "support/file_text.h"
#include "support/forwarding_file_system.h"
#include "support/process_gone.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;

using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::ProcessGone;
using lplex::testing::ReadAll;

// `lplex archive` / `lplex retention` run in-process with these options:
// exit code, stdout and stderr.
Captured Archive(const ArchiveOptions& o) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
}
Captured Retention(const RetentionOptions& o) {
  return Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
}

std::string MakeFile(const std::string& dir, const std::string& stamp, const std::string& content) {
  fs::create_directories(dir);
  std::string path = dir + "/nmea2k-" + stamp + ".lpj";
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(LplexArchive, ArchivesEveryUnarchivedFileToDirectoryTarget) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  auto b = MakeFile(j, "20260302T000000.000Z", "bbbb");
  auto c = MakeFile(j, "20260303T000000.000Z", "cc");
  std::ofstream(c + ".archived");
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  o.instance_id = "boat-9";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(ReadAll(dir.Sub("store") + "/boat-9/" + fs::path(a).filename().string()), "aaa");
  EXPECT_EQ(ReadAll(dir.Sub("store") + "/boat-9/" + fs::path(b).filename().string()), "bbbb");
  EXPECT_FALSE(fs::exists(dir.Sub("store") + "/boat-9/" + fs::path(c).filename().string()));  // already archived
  EXPECT_TRUE(fs::exists(a + ".archived"));
  EXPECT_TRUE(fs::exists(b + ".archived"));
  EXPECT_NE(r.out.find("2 archived, 0 failed"), std::string::npos) << r.out;
}

TEST(LplexArchive, FailureNamesFileAndReasonAndExitsNonZero) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  const std::string script = dir.Sub("fail.sh");
  std::ofstream(script) << "#!/bin/sh\nfor f in \"$@\"; do echo '{\"status\":\"error\",\"error\":\"bucket gone\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  ArchiveOptions o;
  o.dirs = {j};
  o.command = script;
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("FAILED " + a), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bucket gone"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(a + ".archived"));
}

TEST(LplexArchive, FileBeingWrittenIsSkipped) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  auto writing = FileSystem::Default()->NewExclusiveFile(j + "/nmea2k-20260301T000000.000Z.lpj");
  ASSERT_TRUE(writing.ok());
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("still being written"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(j + "/nmea2k-20260301T000000.000Z.lpj.archived"));
}

TEST(LplexArchive, BadTargetNamesTheValue) {
  TempDir dir;
  ArchiveOptions o;
  o.dirs = {dir.path()};
  o.target = "ftp://example/";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("ftp://example/"), std::string::npos) << r.err;
}

TEST(LplexRetention, DryRunPrintsPlanAndChangesNothing) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "x");
  auto young = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "y");
  RetentionOptions o;
  o.dirs = {j};
  o.dry_run = true;
  o.max_age = "P30D";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("would delete (unarchived) " + old), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(young), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(old));

  o.dry_run = false;
  r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(young));
}

TEST(LplexRetention, BadFlagsNameTheValue) {
  TempDir dir;
  RetentionOptions o;
  o.dirs = {dir.path()};
  o.max_age = "30 days";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("30 days"), std::string::npos) << r.err;
  o.max_age = "P30D";
  o.overflow_policy = "yolo";
  r = Retention(o);
  EXPECT_NE(r.err.find("yolo"), std::string::npos) << r.err;
}

// A script that fails every file it is given.
std::string FailingScript(const TempDir& dir) {
  const std::string script = dir.Sub("fail.sh");
  std::ofstream(script)
      << "#!/bin/sh\nfor f in \"$@\"; do echo '{\"status\":\"error\",\"error\":\"bucket gone\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

// Every regular file under `root`, relative: what an operator would see.
std::vector<std::string> Files(const std::string& root) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- Finding 1: a directory target that overlaps the journal directory ---

// Runs `lplex archive --target file://TARGET DIR` and checks that it refused
// before touching anything: exit 2, the message names the journal directory,
// no marker and no copy anywhere.
void ExpectArchiveRefused(const TempDir& dir, const std::string& j, const std::string& target,
                          const std::string& instance_id, const std::string& relation) {
  const auto before = Files(dir.path());
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + target;
  o.instance_id = instance_id;
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2) << target << "\n" << r.out << r.err;
  EXPECT_NE(r.err.find(relation + " the journal directory " + j), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--target file://" + target), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("archived"), std::string::npos) << r.out;
  EXPECT_EQ(Files(dir.path()), before) << "something was written";
}

TEST(LplexArchive, ArchiveRefusesTargetThatIsTheJournalDir) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  MakeFile(j, "20260301T000000.000Z", "aaa");
  ExpectArchiveRefused(dir, j, j, "", "is");
  ExpectArchiveRefused(dir, j, j + "/", "", "is");
  ExpectArchiveRefused(dir, j, j, "boat-1", "is");
}

TEST(LplexArchive, ArchiveRefusesTargetInsideJournalDir) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  MakeFile(j, "20260301T000000.000Z", "aaa");
  ExpectArchiveRefused(dir, j, j + "/archive", "", "lies inside");
  ExpectArchiveRefused(dir, j, j + "/archive/deeper", "boat-1", "lies inside");
}

TEST(LplexArchive, ArchiveRefusesTargetContainingJournalDir) {
  TempDir dir;
  const std::string j = dir.Sub("data/journal");
  MakeFile(j, "20260301T000000.000Z", "aaa");
  // With --instance-id journal the copies would land on the files themselves.
  ExpectArchiveRefused(dir, j, dir.Sub("data"), "journal", "contains");
  ExpectArchiveRefused(dir, j, dir.Sub("data"), "", "contains");
}

TEST(LplexArchive, ArchiveRefusesTargetReachedThroughSymlink) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  MakeFile(j, "20260301T000000.000Z", "aaa");
  fs::create_directory_symlink(j, dir.Sub("looks-separate"));
  ExpectArchiveRefused(dir, j, dir.Sub("looks-separate"), "", "is");
  // The journal given through the link, the target as the real path.
  ExpectArchiveRefused(dir, dir.Sub("looks-separate"), j, "", "is");
  // The instance's subdirectory of a separate root leads back into the journal.
  fs::create_directories(dir.Sub("store"));
  fs::create_directory_symlink(j, dir.Sub("store/boat-1"));
  ExpectArchiveRefused(dir, j, dir.Sub("store"), "boat-1", "is");
}

// The data-loss sequence of the report, end to end: it no longer happens.
TEST(LplexArchive, ArchiveOntoItselfThenRetentionLosesNothing) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "precious");
  ArchiveOptions ao;
  ao.dirs = {j};
  ao.target = "file://" + j;
  auto r = Archive(ao);
  EXPECT_NE(r.rc, 0);
  RetentionOptions ro;
  ro.dirs = {j};
  ro.max_age = "P30D";
  ro.target = "file://" + j;
  r = Retention(ro);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_EQ(ReadAll(a), "precious");
  EXPECT_FALSE(fs::exists(a + ".archived"));
}

TEST(LplexRetention, RetentionRefusesTargetThatIsTheJournalDir) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "precious");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.target = "file://" + j + "/../journal";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("is the journal directory " + j), std::string::npos) << r.err;
  EXPECT_EQ(Files(dir.path()), std::vector<std::string>{"journal/nmea2k-20200101T000000.000Z.lpj"});
}

// --- Finding 2: instance ids that climb out of the archive root ---

TEST(LplexArchive, ArchiveRejectsInstanceIdWithDotDot) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  MakeFile(j, "20260301T000000.000Z", "aaa");
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("archive/x");
  o.instance_id = "../../evil";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--instance-id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"../../evil\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("A-Z a-z 0-9 . _ -"), std::string::npos) << r.err;
  EXPECT_EQ(Files(dir.path()), std::vector<std::string>{"journal/nmea2k-20260301T000000.000Z.lpj"})
      << "a copy or marker was written";

  // The S3 form of the report: refused before credentials or a request matter.
  o.target = "s3://qa-bucket/boats/";
  r = Archive(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("\"../../evil\""), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("archived"), std::string::npos) << r.out;
}

TEST(LplexRetention, RetentionRejectsInstanceIdWithDotDot) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "aaa");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.target = "file://" + dir.Sub("archive/x");
  o.instance_id = "../../evil";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--instance-id"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(a));
  EXPECT_FALSE(fs::exists(dir.Sub("evil")));
}

// --- Finding 5: retention's exit code ---

// Runs `fn` where permission bits apply: in a child process that dropped to
// the user nobody when we are root (as in the build container), else here.
Captured RunUnprivileged(const std::function<int(std::FILE*, std::FILE*)>& fn, std::string* skip) {
  if (::geteuid() != 0) return Capture(fn);
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(99);
    const int rc = fn(out, err);
    std::fflush(out);
    std::fflush(err);
    ::_exit(rc);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Captured c;
  c.out = lplex::testing::SlurpAndClose(out);
  c.err = lplex::testing::SlurpAndClose(err);
  c.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (c.rc == 99) *skip = "cannot drop privileges to nobody";
  return c;
}

TEST(LplexRetention, RetentionExitsNonZeroWhenDeleteFails) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "x");
  // Readable, but no one but root may remove entries (and the test runs the
  // command as someone else when it is root itself).
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(j, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                         fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  std::string skip;
  auto r = RunUnprivileged([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); }, &skip);
  fs::permissions(j, fs::perms::owner_all);
  if (!skip.empty()) GTEST_SKIP() << skip;
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED to delete " + old + ": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 deleted (0 unarchived), 0 archived, 0 failed to archive, 1 failed to delete"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(old));
}

TEST(LplexRetention, RetentionRefusesMissingDirectory) {
  TempDir dir;
  const std::string there = dir.Sub("journal");
  auto old = MakeFile(there, "20200101T000000.000Z", "x");
  RetentionOptions o;
  o.dirs = {there, dir.Sub("typo")};
  o.max_age = "P30D";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(dir.Sub("typo") + ": no such directory"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(old)) << "nothing may be done when one directory is wrong";
  o.dry_run = true;
  r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
}

// --- Finding 6: one run does everything; the overflow policy applies ---

TEST(LplexRetention, RetentionArchivesAndDeletesInOneRun) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "old");
  auto young = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "young");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.target = "file://" + dir.Sub("store");
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(old)) << "archived, so deleted in the same run";
  EXPECT_FALSE(fs::exists(old + ".archived"));
  EXPECT_EQ(ReadAll(dir.Sub("store") + "/" + fs::path(old).filename().string()), "old");
  EXPECT_TRUE(fs::exists(young));
  EXPECT_NE(r.out.find("deleted " + old), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 deleted (0 unarchived), 1 archived, 0 failed to archive"), std::string::npos) << r.out;
}

TEST(LplexRetention, RetentionOverflowPolicyPauseKeepsFilesThatFailedToArchive) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", std::string(600, 'a'));
  auto b = MakeFile(j, "20260302T000000.000Z", std::string(600, 'b'));
  RetentionOptions o;
  o.dirs = {j};
  o.max_size = 1000;
  o.soft_pct = 0;
  o.command = FailingScript(dir);
  o.overflow_policy = "pause-recording";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_TRUE(fs::exists(a)) << "pause-recording keeps files that could not be archived";
  EXPECT_TRUE(fs::exists(b));
  EXPECT_NE(r.out.find("kept files over --max-size in " + j), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pause-recording"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 deleted (0 unarchived), 0 archived, 1 failed to archive"), std::string::npos) << r.out;
}

TEST(LplexRetention, RetentionOverflowPolicyDeleteUnarchivedDeletesFilesThatFailedToArchive) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", std::string(600, 'a'));
  auto b = MakeFile(j, "20260302T000000.000Z", std::string(600, 'b'));
  RetentionOptions o;
  o.dirs = {j};
  o.max_size = 1000;
  o.soft_pct = 0;
  o.command = FailingScript(dir);
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_FALSE(fs::exists(a)) << "over the cap and not archivable: delete-unarchived deletes it";
  EXPECT_TRUE(fs::exists(b));
  EXPECT_NE(r.out.find("deleted (unarchived) " + a), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 deleted (1 unarchived), 0 archived, 1 failed to archive"), std::string::npos) << r.out;
}

// --- Finding 7: deleting unarchived files is refused or said ---

TEST(LplexRetention, RetentionRefusesBeforeExpireWithoutTarget) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "x");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.archive_trigger = "before-expire";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--archive-trigger before-expire needs --target or --command"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(old));
  o.archive_trigger = "on-rotate";
  r = Retention(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("valid here: before-expire, disabled"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(old));
}

TEST(LplexRetention, RetentionDryRunSaysWhatIsDeletedUnarchived) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", std::string(2000, 'a'));
  auto b = MakeFile(j, "20260302T000000.000Z", std::string(2000, 'b'));
  std::ofstream(a + ".archived");
  RetentionOptions o;
  o.dirs = {j};
  o.dry_run = true;
  o.max_size = 1000;  // smaller than any file: every file goes, the newest too
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("  would delete " + a + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  would delete (unarchived) " + b + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would leave " + j + " without journal files"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(a) && fs::exists(b));

  // With a target: what is archived first, and what the overflow policy does
  // to a file whose archive fails.
  o.target = "file://" + dir.Sub("store");
  std::filesystem::remove(a + ".archived");
  r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("  would archive, then delete " + a + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("if archiving it fails: would delete (unarchived) " + a), std::string::npos) << r.out;
  o.overflow_policy = "pause-recording";
  r = Retention(o);
  EXPECT_NE(r.out.find("if archiving fails: would keep"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.Sub("store")));
}

TEST(LplexRetention, RetentionSummarySaysHowManyWereDeletedUnarchived) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "a");
  auto b = MakeFile(j, "20200102T000000.000Z", "b");
  auto c = MakeFile(j, "20200103T000000.000Z", "c");
  std::ofstream(a + ".archived");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("deleted " + a + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deleted (unarchived) " + b + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deleted (unarchived) " + c + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 deleted (2 unarchived)"), std::string::npos) << r.out;
}

// --- Finding 12 ---

TEST(LplexArchive, FailedLineNamesThePathOnce) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  ArchiveOptions o;
  o.dirs = {j};
  o.command = FailingScript(dir);
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 1);
  const size_t line = r.out.find("FAILED ");
  ASSERT_NE(line, std::string::npos) << r.out;
  const std::string failed = r.out.substr(line, r.out.find('\n', line) - line);
  const size_t first = failed.find(a);
  ASSERT_NE(first, std::string::npos) << failed;
  EXPECT_EQ(failed.find(a, first + 1), std::string::npos) << "path printed twice: " << failed;
}

TEST(LplexRetention, RetentionRefusesZeroMaxAgeWithAReason) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto young = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "y");
  RetentionOptions o;
  o.dirs = {j};
  for (const std::string zero : {"P0D", "PT0S"}) {
    o.max_age = zero;
    auto r = Retention(o);
    EXPECT_EQ(r.rc, 2) << zero;
    EXPECT_NE(r.err.find("--max-age " + zero + ": a zero age would expire every file"), std::string::npos) << r.err;
  }
  o.max_age = "P30D";
  o.min_keep = "P0D";  // no protection: the same as leaving it out
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(young));
}

TEST(LplexArchive, ErrorsNameFlagsNotConfigKeys) {
  TempDir dir;
  ArchiveOptions o;
  o.dirs = {dir.path()};
  o.target = "file://" + dir.Sub("store");
  o.command = "/bin/true";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--command and --target"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("journal.archive"), std::string::npos) << r.err;
  RetentionOptions ro;
  ro.dirs = {dir.path()};
  ro.max_age = "P30D";
  ro.target = "ftp://example/";
  r = Retention(ro);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--target: unknown archive target \"ftp://example/\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("journal.archive"), std::string::npos) << r.err;
}

// --- Issue 6, seams: the keeper's and the archivers' log lines ---

// They used to reach the process's stdout, between the result lines scripts
// parse. Now they go to the command's stderr and name the instance.
TEST(LplexRetention, RetentionLogLinesGoToStderrNotStdout) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "old");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.target = "file://" + dir.Sub("store");
  o.instance_id = "boat-1";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("[boat-1] keeper: archived " + old + " to "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[boat-1] keeper: deleted " + old), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("keeper:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deleted " + old), std::string::npos) << r.out;  // the result line stays on stdout
}

TEST(LplexArchive, ArchiveLogLinesGoToStderrNotStdout) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  const std::string script = dir.Sub("chatty.sh");
  std::ofstream(script) << "#!/bin/sh\ncat >/dev/null\necho 'uploading now'\n"
                           "for f in \"$@\"; do echo '{\"status\":\"ok\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  ArchiveOptions o;
  o.dirs = {j};
  o.command = script;
  o.instance_id = "boat-1";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("[boat-1] archive script: ignoring output line that is not a JSON answer: \"uploading now\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("lplex archive: 1 files to archive to script " + script), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("uploading now"), std::string::npos) << r.out;
  EXPECT_EQ(r.out, "archived " + a + "\n1 archived, 0 failed, 0 still being written\n");
}

// --- Interruption, --timeout, messages, escaping (newcomer's second round) ---

const std::string kLplexBinary = std::string(LPLEX_BINARY_DIR) + "/apps/lplex/lplex";

// The built lplex, started as a child with stdout/stderr in files.
struct LplexChild {
  pid_t pid = -1;
  std::string out_path, err_path;

  // Waits up to `limit` for the exit; -1 if it did not end (then SIGKILLed).
  int Wait(std::chrono::seconds limit, bool* signaled) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
      ::usleep(10000);
    }
    *signaled = WIFSIGNALED(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

LplexChild StartLplex(const TempDir& dir, const std::vector<std::string>& args) {
  LplexChild c;
  c.out_path = dir.Sub("lplex.out");
  c.err_path = dir.Sub("lplex.err");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_store = {kLplexBinary};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (::posix_spawn(&c.pid, kLplexBinary.c_str(), &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

// The newcomer's slow copy script: 0.4 s per file, then a copy to DEST and
// an "ok" answer. It records its pid so the test can see it is gone.
std::string SlowCopyScript(const TempDir& dir, const std::string& dest) {
  const std::string script = dir.Sub("slow-cp.sh");
  std::ofstream(script) << "#!/bin/sh\necho $$ > '" << dir.Sub("script.pid") << "'\n"
                        << "for f in \"$@\"; do sleep 0.4; cp \"$f\" '" << dest
                        << "/' && echo '{\"status\":\"ok\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

size_t CountFiles(const std::string& d) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(d)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

bool WaitForFiles(const std::string& d, size_t n) {
  for (int i = 0; i < 1000; ++i) {
    if (CountFiles(d) >= n) return true;
    ::usleep(10000);
  }
  return false;
}

size_t CountLines(const std::string& text, const std::string& start) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.rfind(start, 0) == 0 ? 1 : 0;
  return n;
}

// Sends `sig` to `lplex archive --command slow-cp.sh` once the script has
// answered at least one file, and checks the outcome an operator relies on.
void ExpectArchiveInterruptedCleanly(int sig, const std::string& sig_name) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  const std::string dest = dir.Sub("dest");
  fs::create_directories(dest);
  std::vector<std::string> files;
  for (int d = 1; d <= 8; ++d) files.push_back(MakeFile(j, fmt::format("202001{:02d}T000000.000Z", d), "x"));
  LplexChild c = StartLplex(dir, {"archive", "--command", SlowCopyScript(dir, dest), j});
  ASSERT_GT(c.pid, 0);
  // The second copy starts only after the first "ok" was written.
  ASSERT_TRUE(WaitForFiles(dest, 2));
  ::kill(c.pid, sig);
  bool signaled = false;
  const int rc = c.Wait(std::chrono::seconds(20), &signaled);
  const std::string out = ReadAll(c.out_path), err = ReadAll(c.err_path);
  EXPECT_FALSE(signaled) << "lplex died of the signal instead of handling it";
  EXPECT_EQ(rc, 1) << out << err;
  EXPECT_TRUE(ProcessGone(std::stoi(ReadAll(dir.Sub("script.pid"))), std::chrono::seconds(4)))
      << "the archive script outlived lplex";
  // Every file answered "ok" got its marker (the next run will not redo it);
  // the others are listed as interrupted and have none.
  const size_t archived = CountLines(out, "archived ");
  EXPECT_GE(archived, 1u) << out;
  EXPECT_LT(archived, files.size()) << out;
  for (const std::string& f : files) {
    const bool said_archived = out.find("archived " + f + "\n") != std::string::npos;
    EXPECT_EQ(fs::exists(f + ".archived"), said_archived) << f << "\n" << out;
    if (said_archived) {
      EXPECT_TRUE(fs::exists(dest + "/" + fs::path(f).filename().string())) << f;
    }
  }
  EXPECT_EQ(CountLines(out, "interrupted, not archived: "), files.size() - archived) << out;
  EXPECT_NE(out.find("interrupted by " + sig_name), std::string::npos) << out;
  EXPECT_NE(out.find(fmt::format("{} archived, 0 failed", archived)), std::string::npos) << out;
}

TEST(LplexArchive, ArchiveSigtermStopsScriptKeepsMarkersAndSaysInterrupted) {
  ExpectArchiveInterruptedCleanly(SIGTERM, "SIGTERM");
}

// Ctrl-C: the terminal's SIGINT reaches lplex only (the script has its own
// process group), so lplex must stop the script itself.
TEST(LplexArchive, ArchiveCtrlCStopsScriptKeepsMarkersAndSaysInterrupted) {
  ExpectArchiveInterruptedCleanly(SIGINT, "SIGINT");
}

// An interrupted retention run deletes nothing whose archive was cut short,
// even with --overflow-policy delete-unarchived over the size cap.
TEST(LplexRetention, RetentionInterruptedDeletesNothingUnarchived) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  const std::string dest = dir.Sub("dest");
  fs::create_directories(dest);
  std::vector<std::string> files;
  for (int d = 1; d <= 8; ++d) files.push_back(MakeFile(j, fmt::format("202001{:02d}T000000.000Z", d), "x"));
  LplexChild c = StartLplex(dir, {"retention", "--max-size", "1", "--overflow-policy", "delete-unarchived",
                                  "--command", SlowCopyScript(dir, dest), j});
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(WaitForFiles(dest, 2));
  ::kill(c.pid, SIGTERM);
  bool signaled = false;
  const int rc = c.Wait(std::chrono::seconds(20), &signaled);
  const std::string out = ReadAll(c.out_path), err = ReadAll(c.err_path);
  EXPECT_FALSE(signaled);
  EXPECT_EQ(rc, 1) << out << err;
  EXPECT_TRUE(ProcessGone(std::stoi(ReadAll(dir.Sub("script.pid"))), std::chrono::seconds(4)));
  EXPECT_NE(out.find("interrupted by SIGTERM"), std::string::npos) << out;
  EXPECT_EQ(out.find("deleted (unarchived)"), std::string::npos) << out;
  size_t marked = 0;
  for (const std::string& f : files) {
    EXPECT_TRUE(fs::exists(f)) << f << " was deleted\n" << out;
    marked += fs::exists(f + ".archived") ? 1 : 0;
  }
  EXPECT_GE(marked, 1u) << "files the script answered ok for lost their markers";
}

// A file:// (or s3://) target stops between files: the copy in progress
// completes and counts, the files after it are not started.
TEST(LplexArchive, DirectoryTargetStopsBetweenFilesWhenCancelled) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  std::vector<keeper::ArchiveItem> batch;
  for (int d = 1; d <= 3; ++d) {
    keeper::ArchiveItem it;
    it.path = MakeFile(j, fmt::format("202001{:02d}T000000.000Z", d), "x");
    batch.push_back(it);
  }
  // A file system that raises the flag while the first copy is being
  // written, as a signal arriving mid-copy would.
  class FlagOnRename final : public lplex::testing::ForwardingFileSystem {
   public:
    explicit FlagOnRename(std::atomic<bool>* flag) : flag_(flag) {}
    Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& p) override {
      flag_->store(true);
      return base()->NewExclusiveFile(p);
    }

   private:
    std::atomic<bool>* flag_;
  };
  std::atomic<bool> cancel{false};
  FlagOnRename fs_with_flag(&cancel);
  keeper::ArchiverConfig config;
  config.target = "file://" + dir.Sub("store");
  config.fs = &fs_with_flag;
  config.cancel = &cancel;
  auto archiver = keeper::MakeArchiver(config);
  ASSERT_TRUE(archiver.ok()) << archiver.status().ToString();
  auto out = (*archiver)->Archive(batch, std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok) << out[0].error;
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_FALSE(out[i].ok);
    EXPECT_TRUE(out[i].interrupted);
    EXPECT_NE(out[i].error.find(batch[i].path + ": interrupted"), std::string::npos) << out[i].error;
  }
  EXPECT_EQ(Files(dir.Sub("store")), std::vector<std::string>{fs::path(batch[0].path).filename().string()});
}

// --timeout P0D used to mean three different things depending on the target.
TEST(LplexArchive, ArchiveRefusesZeroTimeoutForEveryTarget) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "x");
  const std::string empty = dir.Sub("empty");
  fs::create_directories(empty);
  for (const std::string& value : {std::string("P0D"), std::string("PT0S"), std::string("P2D")}) {
    for (int kind = 0; kind < 3; ++kind) {
      ArchiveOptions o;
      o.dirs = {kind == 2 ? empty : j};
      if (kind == 0) o.command = FailingScript(dir);
      else o.target = "file://" + dir.Sub("store");
      o.timeout = value;
      auto r = Archive(o);
      EXPECT_EQ(r.rc, 2) << value << " kind " << kind << "\n" << r.out << r.err;
      EXPECT_NE(r.err.find("--timeout " + value + " out of range (valid: PT1S..P1D)"), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(a + ".archived"));
    }
  }
}

TEST(LplexRetention, RetentionHasATimeoutFlagThatTheScriptMessageNames) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "x");
  const std::string script = dir.Sub("hang.sh");
  std::ofstream(script) << "#!/bin/sh\nexec sleep 1000\n";
  fs::permissions(script, fs::perms::owner_all);
  std::vector<std::string> args = {"lplex", "retention", "--max-age", "P30D", "--command", script,
                                   "--timeout", "PT1S", j};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  auto r = Capture([&](std::FILE* out, std::FILE* err) {
    return RunMain(static_cast<int>(argv.size()), argv.data(), out, err);
  });
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("timed out after --timeout PT1S"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(a)) << "an unarchived file was deleted";

  args[7] = "P0D";
  argv.clear();
  for (auto& s : args) argv.push_back(s.data());
  r = Capture([&](std::FILE* out, std::FILE* err) {
    return RunMain(static_cast<int>(argv.size()), argv.data(), out, err);
  });
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--timeout P0D out of range (valid: PT1S..P1D)"), std::string::npos) << r.err;
}

// The script timeout message speaks the user's language: the flag and the
// value as typed, not "the keeper's deadline".
TEST(LplexArchive, ArchiveScriptTimeoutSaysTimedOutAfterTheFlagValue) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "x");
  const std::string script = dir.Sub("hang.sh");
  std::ofstream(script) << "#!/bin/sh\nexec sleep 1000\n";
  fs::permissions(script, fs::perms::owner_all);
  ArchiveOptions o;
  o.dirs = {j};
  o.command = script;
  o.timeout = "PT1S";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("FAILED " + a + ": no response from script " + script + " (timed out after --timeout PT1S)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("keeper"), std::string::npos) << r.out;
}

TEST(LplexRetention, RetentionRunSaysItLeftTheDirectoryWithoutJournalFiles) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  MakeFile(j, "20200101T000000.000Z", "xx");
  auto newest = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "yy");
  RetentionOptions o;
  o.dirs = {j};
  o.max_size = 1;
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(fs::exists(newest));
  EXPECT_NE(r.out.find("left " + j + " without journal files\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 deleted (2 unarchived), 0 archived, 0 failed to archive, 0 failed to delete; 1 directory "
                       "left without journal files"),
            std::string::npos)
      << r.out;
}

TEST(LplexRetention, RetentionSaysItSkipsAFileStillBeingWritten) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  const std::string locked = j + "/nmea2k-20200101T000000.000Z.lpj";
  auto writing = FileSystem::Default()->NewExclusiveFile(locked);
  ASSERT_TRUE(writing.ok());
  auto old = MakeFile(j, "20200102T000000.000Z", "x");
  auto young = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "y");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.dry_run = true;
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("skipped " + locked + ": still being written"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("skipped " + young), std::string::npos) << "a young file is not spared, just kept";

  o.dry_run = false;
  r = Retention(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("skipped " + locked + ": still being written"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(locked));
  EXPECT_FALSE(fs::exists(old));
}

// A file name with a newline must not print as two lines: the second could
// be a forged result line.
TEST(LplexArchive, ArchiveEscapesNewlineInFileName) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto odd = MakeFile(j, "x\narchived FORGED\nline-20200101T000000.000Z", "x");
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("archived " + j + "/nmea2k-x\\narchived FORGED\\nline-20200101T000000.000Z.lpj\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(CountLines(r.out, "archived FORGED"), 0u) << r.out;
  EXPECT_TRUE(fs::exists(odd + ".archived"));
}

TEST(LplexRetention, RetentionEscapesNewlineInFileName) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto odd = MakeFile(j, "x\ndeleted FORGED\nline-20200101T000000.000Z", "x");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  for (bool dry : {true, false}) {
    o.dry_run = dry;
    auto r = Retention(o);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("nmea2k-x\\ndeleted FORGED\\nline-"), std::string::npos) << r.out;
    EXPECT_EQ(CountLines(r.out, "deleted FORGED"), 0u) << r.out;
    EXPECT_EQ(r.err.find("\ndeleted FORGED"), std::string::npos) << "a log line was forged:\n" << r.err;
  }
  EXPECT_FALSE(fs::exists(odd));
}

TEST(LplexRetention, RetentionMinKeepWithoutMaxAgeSaysItNeedsMaxAge) {
  TempDir dir;
  RetentionOptions o;
  o.dirs = {dir.path()};
  o.min_keep = "P1D";
  auto r = Retention(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--min-keep P1D only works with --max-age"), std::string::npos) << r.err;
}

TEST(LplexArchive, ArchiveFileGivenAsDirectorySaysNotADirectory) {
  TempDir dir;
  auto f = MakeFile(dir.Sub("journal"), "20200101T000000.000Z", "x");
  ArchiveOptions o;
  o.dirs = {f};
  o.target = "file://" + dir.Sub("store");
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex archive: " + f + ": not a directory\n"), std::string::npos) << r.err;
  RetentionOptions ro;
  ro.dirs = {f};
  ro.max_age = "P30D";
  r = Retention(ro);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex retention: " + f + ": not a directory\n"), std::string::npos) << r.err;
}

// A regular file where the archive directory should be fails every copy;
// it is refused before anything is touched. A missing directory is created.
TEST(LplexArchive, ArchiveRefusesTargetThatIsARegularFile) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "x");
  const std::string rf = dir.Sub("rf");
  std::ofstream(rf) << "not a directory";
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + rf;
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--target file://" + rf + ": " + rf + " is not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(a + ".archived"));

  o.target = "file://" + dir.Sub("new/archive");
  r = Archive(o);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(a + ".archived"));
}

// An explicitly empty --instance-id is the same as none (docs/retention.md),
// and the message for a bad id says so.
TEST(LplexArchive, ArchiveEmptyInstanceIdMeansNone) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20200101T000000.000Z", "x");
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  o.instance_id = "";
  auto r = Archive(o);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.Sub("store") + "/" + fs::path(a).filename().string()));
  o.instance_id = "a/b";
  r = Archive(o);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("or leave it empty or out for none"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lplex::cli
