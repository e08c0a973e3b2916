// What lplex-server refuses before it starts (exit 2 for -validate-config,
// exit 1 at startup), and the second signal that must not leave the archive
// script running. Issue 7, the newcomer's findings 2-5.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "server_main.h"
#include "server_test_support.h"
#include "support/capture_output.h"
#include "support/process_gone.h"
#include "support/temp_dir.h"

namespace lplex::testing {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

Captured RunServer(const std::vector<std::string>& args) {
  return Capture([&](std::FILE* out, std::FILE* err) { return server::ServerMain(args, out, err); });
}

std::string RegularFile(const TempDir& dir, const std::string& name) {
  const std::string path = dir.Sub(name);
  std::ofstream(path) << "not a directory\n";
  return path;
}

// -- 2. journal directory not writable ------------------------------------

TEST(ServerStartupChecks, ValidateConfigRefusesJournalDirThatIsARegularFile) {
  TempDir dir;
  const std::string file = RegularFile(dir, "afile");
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-journal-dir", file});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("journal-dir " + file + ": not writable"));
  EXPECT_THAT(r.err, HasSubstr("is not a directory"));
}

TEST(ServerStartupChecks, ValidateConfigRefusesJournalDirBelowARegularFile) {
  TempDir dir;
  const std::string file = RegularFile(dir, "afile");
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-journal-dir", file + "/journal"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("journal-dir " + file + "/journal: not writable"));
  EXPECT_FALSE(std::filesystem::exists(file + "/journal"));
}

TEST(ServerStartupChecks, StartupRefusesJournalDirItCannotWriteToWithExitOne) {
  TempDir dir;
  const std::string file = RegularFile(dir, "afile");
  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "sim:", "-port", "0", "-journal-dir", file}, dir.Sub("log"), dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 1) << child.Log();
  EXPECT_THAT(child.Log(), HasSubstr("journal-dir " + file + ": not writable"));
  EXPECT_THAT(child.Log(), ::testing::Not(HasSubstr("lplex-server: ready")));
}

TEST(ServerStartupChecks, StartupCreatesAMissingJournalDirAndLeavesNoProbe) {
  TempDir dir;
  const std::string journal = dir.Sub("a/b/journal");
  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "sim:", "-port", "0", "-journal-dir", journal}, dir.Sub("log"), dir.Sub("out")));
  ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  EXPECT_TRUE(std::filesystem::is_directory(journal));
  EXPECT_FALSE(std::filesystem::exists(journal + "/.lplex-write-probe"));
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(seconds(30)), 0) << child.Log();
}

// -- 3. a second signal stops the archive script ---------------------------

TEST(ServerStartupChecks, SecondSignalStopsTheArchiveScriptBeforeExiting) {
  TempDir dir;
  const std::string script = dir.Sub("slow-archive.sh");
  std::ofstream(script) << "#!/bin/sh\necho $$ > '" << dir.Sub("script.pid") << "'\nexec sleep 30\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal"),
                           "-journal-archive-command", script, "-journal-archive-trigger", "on-rotate"},
                          dir.Sub("log"), dir.Sub("out")));
  ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  std::this_thread::sleep_for(milliseconds(1500));
  child.Signal(SIGINT);
  ASSERT_TRUE(child.WaitForLog("shutdown: finalized the journal", seconds(20))) << child.Log();
  // The keeper hands the last file to the script, which now sleeps.
  const auto end = std::chrono::steady_clock::now() + seconds(10);
  while (FileText(dir.Sub("script.pid")).empty() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::string pid_text = FileText(dir.Sub("script.pid"));
  ASSERT_FALSE(pid_text.empty()) << child.Log();
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  child.Signal(SIGINT);
  EXPECT_EQ(child.Wait(seconds(5)), 130) << child.Log();
  const bool gone = ProcessGone(pid, seconds(2));
  EXPECT_TRUE(gone) << "archive script " << pid << " still runs\n" << child.Log();
  if (!gone) ::kill(pid, SIGKILL);
}

// -- 4. archive target that is a regular file -------------------------------

TEST(ServerStartupChecks, ArchiveTargetThatIsARegularFileIsRefused) {
  TempDir dir;
  const std::string file = RegularFile(dir, "afile");
  const std::vector<std::string> args = {"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal"),
                                         "-journal-archive-target", "file://" + file};
  std::vector<std::string> validate = args;
  validate.push_back("-validate-config");
  const Captured r = RunServer(validate);
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("file://" + file + ": " + file + " is not a directory"));

  ChildServer child;
  ASSERT_TRUE(child.Start(args, dir.Sub("log"), dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 2) << child.Log();
  EXPECT_THAT(child.Log(), HasSubstr(file + " is not a directory"));
}

// -- 5. replay path that does not exist --------------------------------------

TEST(ServerStartupChecks, ReplayOfAMissingPathIsRefusedNamingIt) {
  TempDir dir;
  const std::string missing = dir.Sub("nonexistent");
  const Captured r = RunServer({"-validate-config", "-source", "replay:" + missing});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("replay " + missing + ": no such file or directory"));

  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "replay:" + missing, "-port", "0"}, dir.Sub("log"), dir.Sub("out")));
  EXPECT_NE(child.Wait(seconds(20)), 0) << child.Log();
  EXPECT_THAT(child.Log(), HasSubstr("replay " + missing + ": no such file or directory"));
  EXPECT_THAT(child.Log(), ::testing::Not(HasSubstr("no journal (.lpj)")));
}

TEST(ServerStartupChecks, ArchiveTargetWithoutAJournalDirIsRefused) {
  TempDir dir;
  const Captured r =
      RunServer({"-validate-config", "-source", "sim:", "-journal-archive-target", "file://" + dir.Sub("arch")});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-journal-archive-target is set but -journal-dir is not"));
}

// -validate-config passed these; only the real start refused them.
TEST(ServerStartupChecks, ValidateConfigRefusesAReplayFileThatIsNoCaptureAndADirWithoutJournals) {
  TempDir dir;
  const std::string garbage = RegularFile(dir, "garbage.bin");
  Captured r = RunServer({"-validate-config", "-source", "replay:" + garbage});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr(garbage + ": not a recognised capture"));
  std::filesystem::create_directory(dir.Sub("empty"));
  r = RunServer({"-validate-config", "-source", "replay:" + dir.Sub("empty")});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("no journal (.lpj) with frames in this directory"));
  r = RunServer({"-validate-config", "-source", "replay:" + kCaptures + "/can0-1.pcap"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

}  // namespace
}  // namespace lplex::testing
