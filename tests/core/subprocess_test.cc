// Subprocess: spawning, the three pipes, the deadline, the process-group
// kill and how a run ended, each seen as a caller would.
#include "core/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/file_text.h"
#include "support/process_gone.h"
#include "support/temp_dir.h"

namespace lplex {
namespace {

using ::testing::HasSubstr;
using lplex::testing::ProcessGone;
using lplex::testing::ReadAll;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;
using Stream = SubprocessOptions::Stream;

SubprocessOptions Sh(const std::string& script) {
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", script};
  return o;
}

Result<SubprocessResult> RunFor(const SubprocessOptions& o, milliseconds timeout = std::chrono::seconds(30)) {
  return Subprocess::RunFor(o, timeout);
}

TEST(Subprocess, CapturesStdoutAndPassesArgv) {
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "$(x)", ""};
  auto r = RunFor(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->Describe();
  EXPECT_EQ(r->stdout_text, "a b|$(x)||");
}

TEST(Subprocess, SubprocessReportsExitCodeAndSignal) {
  auto exited = RunFor(Sh("exit 7"));
  ASSERT_TRUE(exited.ok());
  EXPECT_EQ(exited->ending, SubprocessResult::Ending::kExited);
  EXPECT_EQ(exited->exit_code, 7);
  EXPECT_FALSE(exited->ok());
  EXPECT_EQ(exited->Describe(), "exit status 7");

  auto signaled = RunFor(Sh("kill -TERM $$"));
  ASSERT_TRUE(signaled.ok());
  EXPECT_EQ(signaled->ending, SubprocessResult::Ending::kSignaled);
  EXPECT_EQ(signaled->signal, SIGTERM);
  EXPECT_FALSE(signaled->ok());
  EXPECT_EQ(signaled->Describe(), "killed by signal 15 (SIGTERM)");

  auto fine = RunFor(Sh("exit 0"));
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->ok());
  EXPECT_EQ(fine->Describe(), "exit status 0");
}

TEST(Subprocess, SubprocessMissingProgramIsAnError) {
  lplex::testing::TempDir dir;
  SubprocessOptions o;
  o.argv = {dir.Sub("no-such-program")};
  auto r = RunFor(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot run " + dir.Sub("no-such-program")));
  EXPECT_THAT(r.status().message(), HasSubstr("No such file or directory"));
}

TEST(Subprocess, SubprocessMissingProgramOnPathIsAnError) {
  SubprocessOptions o;
  o.argv = {"lplex-no-such-program-on-path"};
  o.display_name = "on-rotate hook lplex-no-such-program-on-path";
  auto r = RunFor(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("cannot run on-rotate hook lplex-no-such-program-on-path: No such file or directory"));
}

TEST(Subprocess, SubprocessNotExecutableIsAnError) {
  lplex::testing::TempDir dir;
  const std::string path = dir.Sub("s.sh");
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  ::chmod(path.c_str(), 0644);
  SubprocessOptions o;
  o.argv = {path};
  auto r = RunFor(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Permission denied"));
}

TEST(Subprocess, SubprocessEmptyArgvIsInvalid) {
  auto r = RunFor(SubprocessOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
}

// The program and what it started (in the background, holding stdout) are
// all killed at the deadline; what was written before still arrives.
TEST(Subprocess, SubprocessKillsProcessGroupOnTimeout) {
  lplex::testing::TempDir dir;
  auto o = Sh("echo $$ > '" + dir.Sub("pid") + "'; sleep 1000 & echo $! > '" + dir.Sub("child") +
              "'; echo before; wait");
  auto start = Steady::now();
  auto r = RunFor(o, milliseconds(300));
  auto took = Steady::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kTimedOut);
  EXPECT_EQ(r->Describe(), "still running at the deadline");
  EXPECT_FALSE(r->output_cut);  // the killed group closed stdout
  EXPECT_EQ(r->stdout_text, "before\n");
  pid_t pid = std::stoi(ReadAll(dir.Sub("pid")));
  pid_t child = std::stoi(ReadAll(dir.Sub("child")));
  EXPECT_NE(::kill(pid, 0), 0) << "the program was not reaped";
  EXPECT_TRUE(ProcessGone(child)) << "the background child survived";
}

// The program exits but leaves a background process holding stdout: the run
// ends with the program (the group is killed), not at the deadline.
TEST(Subprocess, SubprocessKillsLeftoversWhenProgramExits) {
  lplex::testing::TempDir dir;
  auto o = Sh("sleep 1000 & echo $! > '" + dir.Sub("child") + "'; echo done");
  auto start = Steady::now();
  auto r = RunFor(o, std::chrono::seconds(30));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe();
  EXPECT_EQ(r->stdout_text, "done\n");
  EXPECT_TRUE(ProcessGone(std::stoi(ReadAll(dir.Sub("child")))));
}

// A descendant that left the group (setsid) and holds stdout cannot be
// killed by group: the run ends at the deadline with the exit status known
// and output_cut set.
TEST(Subprocess, SubprocessEscapedDescendantCutsOutputAtDeadline) {
  if (::access("/usr/bin/setsid", X_OK) != 0) GTEST_SKIP() << "no setsid(1)";
  lplex::testing::TempDir dir;
  auto o = Sh("setsid sh -c 'echo $$ > \"" + dir.Sub("escaped") + "\"; exec sleep 5' & "
              "while [ ! -s '" + dir.Sub("escaped") + "' ]; do sleep 0.01; done; echo hi; exit 4");
  auto r = RunFor(o, milliseconds(500));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kExited);
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_TRUE(r->output_cut);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->stdout_text, "hi\n");
  EXPECT_EQ(r->Describe(), "exit status 4, output cut at the deadline");
  ::kill(std::stoi(ReadAll(dir.Sub("escaped"))), SIGKILL);
}

// stdin larger than a pipe, while the program writes more than a pipe holds
// before it reads: only concurrent writing and reading finish.
TEST(Subprocess, SubprocessLargeStdinDoesNotDeadlock) {
  SubprocessOptions o = Sh("head -c 1048576 /dev/zero | tr '\\0' x; wc -c");
  o.stdin_mode = Stream::kPipe;
  o.stdin_data.assign(3 << 20, 'i');  // 3 MiB
  o.max_captured_bytes = 2 << 20;
  auto start = Steady::now();
  auto r = RunFor(o, std::chrono::seconds(60));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(20));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe();
  ASSERT_EQ(r->stdout_text.size(), (1u << 20) + 8);
  EXPECT_EQ(r->stdout_text.substr(1 << 20), "3145728\n");
}

// A program that exits without reading a big stdin: EPIPE is not an error,
// and no SIGPIPE kills or stays pending in the caller.
TEST(Subprocess, SubprocessUnreadStdinIsNotAnError) {
  SubprocessOptions o = Sh("exit 0");
  o.stdin_mode = Stream::kPipe;
  o.stdin_data.assign(4 << 20, 'i');
  auto r = RunFor(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe();
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST(Subprocess, SubprocessStderrPipeAndCallbacks) {
  SubprocessOptions o = Sh("echo out; echo err >&2; echo more");
  o.stderr_mode = Stream::kPipe;
  std::string seen;
  o.on_stdout = [&](std::string_view chunk) { seen += chunk; };
  auto r = RunFor(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seen, "out\nmore\n");
  EXPECT_EQ(r->stdout_text, "");  // went to the callback
  EXPECT_EQ(r->stderr_text, "err\n");
}

TEST(Subprocess, SubprocessCaptureIsBoundedButDrained) {
  SubprocessOptions o = Sh("head -c 300000 /dev/zero | tr '\\0' y; echo end >&2");
  o.stderr_mode = Stream::kPipe;
  o.max_captured_bytes = 1000;
  auto r = RunFor(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe();
  EXPECT_EQ(r->stdout_text, std::string(1000, 'y'));
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stderr_text, "end\n");
  EXPECT_FALSE(r->stderr_truncated);
}

TEST(Subprocess, SubprocessNullStreams) {
  SubprocessOptions o = Sh("cat; echo gone");
  o.stdin_mode = Stream::kNull;  // cat sees EOF at once
  o.stdout_mode = Stream::kNull;
  auto r = RunFor(o, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->Describe();
  EXPECT_EQ(r->stdout_text, "");
}

TEST(Subprocess, SubprocessEnvironmentReplacedAndOverridden) {
  ::setenv("LPLEX_SUBPROCESS_TEST_INHERITED", "from-parent", 1);
  SubprocessOptions inherit = Sh("echo \"$LPLEX_SUBPROCESS_TEST_INHERITED/$EXTRA\"");
  inherit.env_overrides = {"EXTRA=added"};
  auto a = RunFor(inherit);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->stdout_text, "from-parent/added\n");

  SubprocessOptions replace = Sh("echo \"[$LPLEX_SUBPROCESS_TEST_INHERITED][$ONLY]\"");
  replace.env = std::vector<std::string>{"ONLY=one", "PATH=/usr/bin:/bin"};
  replace.env_overrides = {"ONLY=two"};
  auto b = RunFor(replace);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->stdout_text, "[][two]\n");
  ::unsetenv("LPLEX_SUBPROCESS_TEST_INHERITED");
}

// The child starts with default signal dispositions and an empty mask, even
// when the caller blocks or ignores signals, and gets no descriptor above 2.
TEST(Subprocess, SubprocessStartsWithCleanSignalsAndDescriptors) {
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction ign {}, old_int {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ign, &old_int);
  int stray = ::open("/dev/null", O_RDONLY);  // without O_CLOEXEC on purpose

  auto r = RunFor(Sh("grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | sort -n | tr '\\n' ' '"));

  ::close(stray);
  ::sigaction(SIGINT, &old_int, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ASSERT_TRUE(r.ok());
  // Signals 1..31; 32 and up belong to the C library and may show as ignored.
  EXPECT_THAT(r->stdout_text, HasSubstr("SigBlk:\t0000000000000000"));
  const size_t at = r->stdout_text.find("SigIgn:\t");
  ASSERT_NE(at, std::string::npos) << r->stdout_text;
  const unsigned long low = std::stoul(r->stdout_text.substr(at + 8 + 8, 8), nullptr, 16);
  EXPECT_EQ(low & 0x7fffffffUL, 0UL) << r->stdout_text;
  // 0, 1, 2 and the descriptor ls opens to read the directory.
  EXPECT_THAT(r->stdout_text, HasSubstr("0 1 2 3 "));
  EXPECT_THAT(r->stdout_text, ::testing::Not(HasSubstr(" 4 ")));
}

// With SIGCHLD ignored the kernel reaps the child: the run still ends when
// the program does, with its output and an unknown status.
TEST(Subprocess, SubprocessSigchldIgnoredEndsWithUnknownStatus) {
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGCHLD, &ign, &old);
  auto start = Steady::now();
  auto r = RunFor(Sh("echo x; exit 3"), std::chrono::seconds(30));
  auto took = Steady::now() - start;
  ::sigaction(SIGCHLD, &old, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kUnknown);
  EXPECT_EQ(r->stdout_text, "x\n");
}

TEST(Subprocess, SubprocessDeadlineAlreadyPassedStillReapsIt) {
  auto r = Subprocess::Run(Sh("sleep 1000"), Steady::now() - milliseconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kTimedOut);
}

// A cancel flag set while the program runs (a SIGINT handler's, a server's
// shutdown) stops the whole group long before the deadline; what the program
// wrote before still arrives.
TEST(Subprocess, SubprocessCancelStopsWholeProcessGroup) {
  lplex::testing::TempDir dir;
  auto o = Sh("echo $$ > '" + dir.Sub("pid") + "'; sleep 1000 & echo $! > '" + dir.Sub("child") +
              "'; echo before; wait");
  std::atomic<bool> cancel{false};
  o.cancel = &cancel;
  std::thread setter([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel.store(true);
  });
  auto start = Steady::now();
  auto r = RunFor(o, std::chrono::seconds(60));
  auto took = Steady::now() - start;
  setter.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(5)) << "the deadline, not the flag, ended the run";
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kCancelled);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->Describe(), "stopped: cancelled");
  EXPECT_EQ(r->stdout_text, "before\n");
  pid_t pid = std::stoi(ReadAll(dir.Sub("pid")));
  pid_t child = std::stoi(ReadAll(dir.Sub("child")));
  EXPECT_NE(::kill(pid, 0), 0) << "the program was not reaped";
  EXPECT_TRUE(ProcessGone(child)) << "the background child survived";
}

// SIGTERM comes first: a program that traps it can still say something.
TEST(Subprocess, SubprocessCancelSendsSigtermBeforeSigkill) {
  auto o = Sh("trap 'echo terminated; exit 5' TERM; echo ready; while :; do sleep 0.05; done");
  std::atomic<bool> cancel{false};
  o.cancel = &cancel;
  std::string seen;
  o.on_stdout = [&](std::string_view chunk) {
    seen.append(chunk);
    if (seen.find("ready") != std::string::npos) cancel.store(true);
  };
  auto r = RunFor(o, std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kCancelled);
  EXPECT_THAT(seen, HasSubstr("terminated"));
}

TEST(Subprocess, SubprocessAlreadyCancelledStartsNothing) {
  lplex::testing::TempDir dir;
  auto o = Sh("touch '" + dir.Sub("ran") + "'");
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  auto r = RunFor(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ending, SubprocessResult::Ending::kCancelled);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("ran")));
}

}  // namespace
}  // namespace lplex
