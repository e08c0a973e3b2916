// ScriptArchiver: the archive-script protocol of spec/journal.md §6.4
// (reference tests 71, 72, 80, 81, 82) and the ways a real script misbehaves.
// Every script is a small /bin/sh program written into a temporary directory.
#include "keeper/script_archiver.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/time.h"
#include "support/file_text.h"
#include "support/process_gone.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

using lplex::testing::ProcessGone;
using lplex::testing::ReadAll;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

Deadline Far() { return Steady::now() + std::chrono::minutes(10); }

class ScriptArchiverTest : public ::testing::Test {
 protected:
  // Writes an executable /bin/sh script; $D in the body is the temp dir.
  std::string Script(const std::string& name, const std::string& body, mode_t mode = 0755) {
    std::string path = dir_.Sub(name);
    std::ofstream(path) << "#!/bin/sh\nD='" << dir_.path() << "'\n" << body << "\n";
    ::chmod(path.c_str(), mode);
    return path;
  }
  ArchiveItem Item(const std::string& name, const std::string& instance = "", uint64_t size = 0) {
    ArchiveItem it;
    it.path = dir_.Sub(name);
    it.instance_id = instance;
    it.size = size;
    return it;
  }
  std::vector<ArchiveItem> Items(size_t n, size_t name_len = 16) {
    std::vector<ArchiveItem> v;
    for (size_t i = 0; i < n; ++i) {
      std::string name = "f";  // (not "f" + to_string: g++ 12 -Wrestrict false positive)
      name += std::to_string(i);
      name += '-';
      name.resize(name_len, 'x');
      v.push_back(Item(name + ".lpj", "boat", i));
    }
    return v;
  }
  ScriptArchiver Archiver(const std::string& cmd, milliseconds timeout = std::chrono::minutes(5)) {
    return ScriptArchiver(cmd, timeout, &log_);
  }
  bool Logged(const std::string& needle) const { return log_.Contains(needle); }

  testing::TempDir dir_;
  RecordingLogger log_;
};

constexpr const char* kOkPerArg = R"(for a in "$@"; do echo '{"path":"x","status":"ok"}'; done)";

// --- reference tests ---------------------------------------------------------

// 71: stdin carries path, instance_id, size and created in that order with
// Go's escaping; argv carries the path.
TEST_F(ScriptArchiverTest, Protocol) {
  std::string cmd = Script("s.sh", std::string("cat > \"$D/stdin\"\nprintf '%s\\n' \"$@\" > \"$D/argv\"\n") + kOkPerArg);
  ArchiveItem it = Item("nmea2k-a<b>&c.lpj", "test-instance", 42);
  it.created_us = timefmt::FromCivil({2026, 3, 2, 14, 0, 7, 123456});
  it.created_known = true;
  auto a = Archiver(cmd);
  auto out = a.Archive({it}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ok) << out[0].error;

  EXPECT_EQ(ReadAll(dir_.Sub("stdin")), "{\"path\":\"" + dir_.path() +
                                            "/nmea2k-a\\u003cb\\u003e\\u0026c.lpj\",\"instance_id\":\"test-instance\","
                                            "\"size\":42,\"created\":\"2026-03-02T14:00:07Z\"}\n");
  auto j = nlohmann::ordered_json::parse(Lines(ReadAll(dir_.Sub("stdin")))[0]);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"path", "instance_id", "size", "created"}));
  EXPECT_EQ(j["path"], it.path);
  EXPECT_EQ(Lines(ReadAll(dir_.Sub("argv"))), std::vector<std::string>{it.path});
}

// 72: two files are one run with two stdin lines and both paths in argv.
TEST_F(ScriptArchiverTest, BatchOfTwoIsOneRun) {
  std::string cmd = Script("s.sh", std::string("echo run >> \"$D/runs\"\ncat > \"$D/stdin\"\n"
                                               "printf '%s\\n' \"$@\" > \"$D/argv\"\n") +
                                       kOkPerArg);
  auto batch = std::vector<ArchiveItem>{Item("a.lpj", "i1", 1), Item("b.lpj", "", 2)};
  auto out = Archiver(cmd).Archive(batch, Far());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].ok && out[1].ok);
  EXPECT_EQ(Lines(ReadAll(dir_.Sub("runs"))).size(), 1u);
  auto in = Lines(ReadAll(dir_.Sub("stdin")));
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(in[0])["path"], batch[0].path);
  EXPECT_EQ(nlohmann::json::parse(in[1])["path"], batch[1].path);
  EXPECT_EQ(nlohmann::json::parse(in[1])["instance_id"], "");
  EXPECT_EQ(Lines(ReadAll(dir_.Sub("argv"))), (std::vector<std::string>{batch[0].path, batch[1].path}));
}

// 80: a script that prints nothing archives nothing.
TEST_F(ScriptArchiverTest, NoOutputIsNoResponse) {
  auto out = Archiver(Script("s.sh", "cat >/dev/null")).Archive({Item("a.lpj")}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("no response from script"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(dir_.Sub("a.lpj")), std::string::npos) << out[0].error;
}

// 81: "ok" answers count although the script then exits 1.
TEST_F(ScriptArchiverTest, OkLinesThenExitOneAreArchived) {
  auto out = Archiver(Script("s.sh", std::string(kOkPerArg) + "\nexit 1"))
                 .Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  EXPECT_TRUE(out[0].ok && out[1].ok);
  EXPECT_TRUE(Logged("exit status 1"));
}

// 81, harder: the script kills itself with SIGKILL after answering.
TEST_F(ScriptArchiverTest, OkLinesThenCrashBySignalAreArchived) {
  auto out = Archiver(Script("s.sh", std::string(kOkPerArg) + "\nkill -9 $$")).Archive({Item("a.lpj")}, Far());
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(Logged("killed by signal 9"));
}

// 82: a non-JSON line is no answer.
TEST_F(ScriptArchiverTest, GarbageLineIsNoAnswer) {
  auto out = Archiver(Script("s.sh", "echo 'this is not json'")).Archive({Item("a.lpj")}, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("no response from script"), std::string::npos);
  EXPECT_TRUE(Logged("this is not json"));
}

// 82: ... and it does not use up a slot: the next valid line answers file 1.
TEST_F(ScriptArchiverTest, GarbageLineDoesNotUseASlot) {
  auto out = Archiver(Script("s.sh", "echo garbage\necho '[1,2]'\necho 42\necho '{\"status\":1}'\n"
                                     "echo '{\"status\":\"ok\"}'\necho '{\"status\":\"ok\"'"))
                 .Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
}

// --- answers ----------------------------------------------------------------

TEST_F(ScriptArchiverTest, FewerLinesThanFiles) {
  auto out = Archiver(Script("s.sh", "echo '{\"status\":\"ok\"}'"))
                 .Archive({Item("a.lpj"), Item("b.lpj"), Item("c.lpj")}, Far());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok);
  for (int i : {1, 2}) {
    EXPECT_FALSE(out[i].ok);
    EXPECT_NE(out[i].error.find("no response from script"), std::string::npos) << out[i].error;
  }
  EXPECT_NE(out[2].error.find("c.lpj"), std::string::npos);
}

TEST_F(ScriptArchiverTest, StatusErrorCarriesTheMessage) {
  std::string cmd = Script("s.sh", R"(echo '{"path":"a","status":"error","error":"bucket gone"}')");
  auto out = Archiver(cmd).Archive({Item("a.lpj")}, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("bucket gone"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(cmd), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(dir_.Sub("a.lpj")), std::string::npos) << out[0].error;
  EXPECT_TRUE(Logged("bucket gone"));
}

// Only "ok" exactly: "OK", "success" and a missing status are failures.
TEST_F(ScriptArchiverTest, OnlyOkCounts) {
  auto out = Archiver(Script("s.sh", "echo '{\"status\":\"OK\"}'\necho '{\"status\":\"success\"}'\n"
                                     "echo '{\"path\":\"x\"}'\necho null\necho '{\"status\":\"ok\"}'"))
                 .Archive(Items(5), Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_FALSE(out[1].ok);
  EXPECT_FALSE(out[2].ok);
  EXPECT_FALSE(out[3].ok);  // null is a (useless) answer in Go's json
  EXPECT_TRUE(out[4].ok);
}

// Matching is by position; the path in the answer is ignored.
TEST_F(ScriptArchiverTest, AnswersMatchByPositionNotPath) {
  auto batch = std::vector<ArchiveItem>{Item("a.lpj"), Item("b.lpj")};
  std::string body = "echo '{\"path\":\"" + batch[1].path + "\",\"status\":\"error\",\"error\":\"no\"}'\n" +
                     "echo '{\"path\":\"" + batch[0].path + "\",\"status\":\"ok\"}'";
  auto out = Archiver(Script("s.sh", body)).Archive(batch, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(out[1].ok);
}

TEST_F(ScriptArchiverTest, UnknownExtraFieldsInAnswersAreIgnored) {
  auto out = Archiver(Script("s.sh", R"(echo '{"path":"a","status":"ok","etag":"\"abc\"","bytes":12,"x":{"y":[1,null]}}')"))
                 .Archive({Item("a.lpj")}, Far());
  EXPECT_TRUE(out[0].ok) << out[0].error;
}

TEST_F(ScriptArchiverTest, CrlfAnswers) {
  auto out = Archiver(Script("s.sh", R"(printf '{"status":"ok"}\r\n{"status":"ok"}\r\n')"))
                 .Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  EXPECT_TRUE(out[0].ok && out[1].ok);
}

// Go's Scanner hands out an unterminated last line at EOF.
TEST_F(ScriptArchiverTest, LastLineWithoutNewline) {
  auto out = Archiver(Script("s.sh", R"(printf '{"status":"ok"}\n{"status":"ok"}')"))
                 .Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  EXPECT_TRUE(out[0].ok && out[1].ok);
}

// A 65535-byte line is read; a 65536-byte one ends the reading of answers,
// and the script is not left blocked writing the rest.
TEST_F(ScriptArchiverTest, LineLongerThan64KiBEndsAnswers) {
  auto line_of = [](size_t n) {
    std::string head = "{\"status\":\"ok\",\"pad\":\"";
    return head + std::string(n - head.size() - 2, 'p') + "\"}";
  };
  std::ofstream(dir_.Sub("out")) << line_of(65535) << "\n" << line_of(65536) << "\n{\"status\":\"ok\"}\n";
  // After the long line, 1 MiB more output: a reader that stopped draining
  // would leave the script blocked until the timeout.
  std::string body = "cat \"$D/out\"\nhead -c 1048576 /dev/zero | tr '\\0' x";
  auto start = Steady::now();
  auto out = Archiver(Script("s.sh", body), std::chrono::seconds(20)).Archive(Items(3), Far());
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_FALSE(out[2].ok);
  EXPECT_TRUE(Logged("longer than 65535 bytes"));
}

// --- the command ------------------------------------------------------------

TEST_F(ScriptArchiverTest, ScriptMissing) {
  std::string cmd = dir_.Sub("no-such-script.sh");
  auto out = Archiver(cmd).Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find(cmd), std::string::npos) << o.error;
    EXPECT_NE(o.error.find("No such file or directory"), std::string::npos) << o.error;
  }
}

TEST_F(ScriptArchiverTest, ScriptNotExecutable) {
  std::string cmd = Script("s.sh", kOkPerArg, 0644);
  auto out = Archiver(cmd).Archive({Item("a.lpj")}, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find(cmd), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("Permission denied"), std::string::npos) << out[0].error;
}

TEST_F(ScriptArchiverTest, ScriptWithMissingInterpreter) {
  std::string path = dir_.Sub("s.sh");
  std::ofstream(path) << "#!/no/such/interpreter\n";
  ::chmod(path.c_str(), 0755);
  auto out = Archiver(path).Archive({Item("a.lpj")}, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("cannot run archive script"), std::string::npos) << out[0].error;
}

// No shell: a path with spaces and $(...) is one argv entry, not a command.
TEST_F(ScriptArchiverTest, PathsAreArgvNotShellText) {
  std::string cmd = Script("s.sh", std::string("printf '%s\\n' \"$@\" > \"$D/argv\"\n") + kOkPerArg);
  ArchiveItem it = Item("a b $(touch pwned) ; c.lpj");
  auto out = Archiver(cmd).Archive({it}, Far());
  EXPECT_TRUE(out[0].ok);
  EXPECT_EQ(Lines(ReadAll(dir_.Sub("argv"))), std::vector<std::string>{it.path});
  EXPECT_NE(::access(dir_.Sub("pwned").c_str(), F_OK), 0);
}

// A command without '/' is looked up on PATH (like Go's exec.Command).
TEST_F(ScriptArchiverTest, CommandNameFoundOnPath) {
  auto out = Archiver("true").Archive({Item("a.lpj")}, Far());
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("no response from script"), std::string::npos) << out[0].error;
}

TEST_F(ScriptArchiverTest, EmptyBatchRunsNothing) {
  auto out = Archiver(Script("s.sh", "touch \"$D/ran\"")).Archive({}, Far());
  EXPECT_TRUE(out.empty());
  EXPECT_NE(::access(dir_.Sub("ran").c_str(), F_OK), 0);
}

// With no Logger given, lines go to Logger::Default() (stderr).
TEST_F(ScriptArchiverTest, DefaultLoggerWritesToStderr) {
  ::testing::internal::CaptureStderr();
  auto out = ScriptArchiver(Script("s.sh", "echo 'not an answer'")).Archive({Item("a.lpj")}, Far());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(err.find("ignoring output line that is not a JSON answer: \"not an answer\""), std::string::npos) << err;
}

TEST_F(ScriptArchiverTest, DescribeNamesTheCommand) {
  EXPECT_EQ(ScriptArchiver("/usr/local/bin/archive.sh").Describe(), "script /usr/local/bin/archive.sh");
}

// --- time limits and process hygiene ---------------------------------------

// A script that hangs is killed at the timeout together with what it
// started; answers it gave before count.
TEST_F(ScriptArchiverTest, HangsPastTheTimeout) {
  std::string cmd = Script("s.sh", "echo $$ > \"$D/pid\"\nsleep 1000 &\necho $! > \"$D/child\"\n"
                                   "echo '{\"status\":\"ok\"}'\nwait");
  auto start = Steady::now();
  auto out = Archiver(cmd, milliseconds(300)).Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  auto took = Steady::now() - start;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].error.find("timed out after PT0.3S"), std::string::npos) << out[1].error;
  pid_t script = std::stoi(ReadAll(dir_.Sub("pid")));
  pid_t child = std::stoi(ReadAll(dir_.Sub("child")));
  // The script is reaped by us: not even a zombie is left.
  EXPECT_NE(::kill(script, 0), 0);
  EXPECT_TRUE(ProcessGone(child));
}

// Finding 12: the timeout is named as configured, in ISO 8601 ("PT1S"), in
// the outcome of each unanswered file and in the log, at error level.
TEST_F(ScriptArchiverTest, TimeoutIsNamedAsIso8601Duration) {
  auto out = Archiver(Script("s.sh", "exec sleep 1000"), std::chrono::seconds(1)).Archive({Item("a.lpj")}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("no response from script " + dir_.Sub("s.sh") + " (timed out after PT1S)"),
            std::string::npos)
      << out[0].error;
  EXPECT_TRUE(log_.Contains(LogLevel::kError, "timed out after PT1S")) << log_.Text();
}

// The keeper's deadline, when sooner, ends the run like the timeout does,
// and the message says how long the script had (no keeper jargon).
TEST_F(ScriptArchiverTest, DeadlineSoonerThanTimeoutSaysTimedOutAfterTheTimeGiven) {
  auto start = Steady::now();
  auto out = Archiver(Script("s.sh", "exec sleep 1000")).Archive({Item("a.lpj")}, Steady::now() + milliseconds(300));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(3));
  EXPECT_FALSE(out[0].ok);
  EXPECT_FALSE(out[0].interrupted);
  EXPECT_NE(out[0].error.find("(timed out after PT0.3S)"), std::string::npos) << out[0].error;
  EXPECT_EQ(out[0].error.find("keeper's deadline"), std::string::npos) << out[0].error;
}

// On the command line the timeout is named by its flag; a caller deadline
// set from the same value (lplex archive: now + --timeout) reads the same.
TEST_F(ScriptArchiverTest, TimeoutMessageNamesTheFlagWhenGiven) {
  ScriptArchiver::Options o;
  o.timeout = std::chrono::seconds(1);
  o.log = &log_;
  o.timeout_flag = "--timeout";
  ScriptArchiver a(Script("s.sh", "exec sleep 1000"), o);
  auto out = a.Archive({Item("a.lpj")}, Steady::now() + std::chrono::seconds(1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].error.find("(timed out after --timeout PT1S)"), std::string::npos) << out[0].error;
}

// Cancellation (SIGINT/SIGTERM in lplex, shutdown in a server): the
// script's whole group is stopped long before the timeout; the answers it
// gave count, the other files fail as interrupted.
TEST_F(ScriptArchiverTest, CancelStopsTheScriptGroupAndKeepsItsOkAnswers) {
  std::string cmd = Script("s.sh", "echo $$ > \"$D/pid\"\nsleep 1000 &\necho $! > \"$D/child\"\n"
                                   "echo '{\"status\":\"ok\"}'\ntouch \"$D/answered\"\nwait");
  std::atomic<bool> cancel{false};
  ScriptArchiver::Options o;
  o.log = &log_;
  o.cancel = &cancel;
  ScriptArchiver a(cmd, o);
  std::thread setter([&] {
    for (int i = 0; i < 500 && ::access(dir_.Sub("answered").c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    cancel.store(true);
  });
  auto start = Steady::now();
  auto out = a.Archive({Item("a.lpj"), Item("b.lpj")}, Far());
  setter.join();
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(8));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_TRUE(out[1].interrupted);
  EXPECT_NE(out[1].error.find("interrupted"), std::string::npos) << out[1].error;
  EXPECT_NE(::kill(std::stoi(ReadAll(dir_.Sub("pid"))), 0), 0);
  EXPECT_TRUE(ProcessGone(std::stoi(ReadAll(dir_.Sub("child")))));
}

TEST_F(ScriptArchiverTest, CancelledBeforeTheCallStartsNothing) {
  std::atomic<bool> cancel{true};
  ScriptArchiver::Options o;
  o.log = &log_;
  o.cancel = &cancel;
  auto out = ScriptArchiver(Script("s.sh", "touch \"$D/ran\""), o).Archive({Item("a.lpj")}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].interrupted);
  EXPECT_NE(::access(dir_.Sub("ran").c_str(), F_OK), 0);
}

TEST_F(ScriptArchiverTest, DeadlineAlreadyPassedStartsNothing) {
  auto out = Archiver(Script("s.sh", "touch \"$D/ran\"")).Archive({Item("a.lpj")}, Steady::now() - milliseconds(1));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(::access(dir_.Sub("ran").c_str(), F_OK), 0);
}

// The deadline is on the archiver's clock: passed there, nothing starts,
// although steady_clock is decades short of it.
TEST_F(ScriptArchiverTest, DeadlinePassedOnItsClockStartsNothing) {
  FakeClock clock(0, int64_t{1'000'000'000'000'000});
  ScriptArchiver::Options o;
  o.log = &log_;
  o.clock = &clock;
  ScriptArchiver a(Script("s.sh", "touch \"$D/ran\""), o);
  auto out = a.Archive({Item("a.lpj")}, clock.Monotonic() - milliseconds(1));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("deadline has passed"), std::string::npos) << out[0].error;
  EXPECT_NE(::access(dir_.Sub("ran").c_str(), F_OK), 0);
}

// The script's process gets the time left on the archiver's clock as a real
// deadline: a fake clock whose monotonic time is near zero (a steady_clock
// time long past on a machine that has been up for more than ten minutes)
// still lets the script run.
TEST_F(ScriptArchiverTest, FakeClockTimeLeftBecomesTheScriptsRealDeadline) {
  FakeClock clock(0, 0);
  ScriptArchiver::Options o;
  o.log = &log_;
  o.clock = &clock;
  ScriptArchiver a(Script("s.sh", kOkPerArg), o);
  auto out = a.Archive({Item("a.lpj")}, clock.Monotonic() + std::chrono::minutes(10));
  EXPECT_TRUE(out[0].ok) << out[0].error;
}

// The script exits but leaves a background process holding stdout: the run
// ends with the script (the group is killed), not at the timeout.
TEST_F(ScriptArchiverTest, BackgroundChildIsKilledWhenScriptExits) {
  std::string cmd = Script("s.sh", "sleep 1000 &\necho $! > \"$D/child\"\necho '{\"status\":\"ok\"}'");
  auto start = Steady::now();
  auto out = Archiver(cmd, std::chrono::seconds(30)).Archive({Item("a.lpj")}, Far());
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(ProcessGone(std::stoi(ReadAll(dir_.Sub("child")))));
}

// The script writes far more than a pipe holds before it reads stdin, which
// is itself larger than a pipe: only concurrent writing and reading finish.
TEST_F(ScriptArchiverTest, WritesLotsOfStdoutBeforeReadingStdin) {
  auto batch = Items(2000, 100);  // about 280 KiB of stdin
  std::string body = "awk 'BEGIN{s=sprintf(\"%1000s\",\"\"); for(i=0;i<1000;i++) print s}'\n"  // 1 MB of blank-ish lines
                     "n=$(wc -l)\n"
                     "echo \"$n\" > \"$D/stdin-lines\"\n" +
                     std::string(kOkPerArg);
  auto start = Steady::now();
  auto out = Archiver(Script("s.sh", body), std::chrono::seconds(60)).Archive(batch, Far());
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(30));
  ASSERT_EQ(out.size(), batch.size());
  for (const auto& o : out) EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(ReadAll(dir_.Sub("stdin-lines")), "2000\n");
}

// A script that answers from argv and never reads stdin is fine, even when
// stdin does not fit into the pipe.
TEST_F(ScriptArchiverTest, ScriptNeverReadsStdin) {
  auto batch = Items(2000, 100);
  auto out = Archiver(Script("s.sh", std::string(kOkPerArg) + "\nsleep 0.2"), std::chrono::seconds(60))
                 .Archive(batch, Far());
  for (const auto& o : out) EXPECT_TRUE(o.ok) << o.error;
}

// Exiting at once with stdin unread makes our writes fail with EPIPE; that
// must neither kill the test process with SIGPIPE nor leave one pending.
TEST_F(ScriptArchiverTest, ScriptExitsImmediatelyWithBigBatch) {
  auto batch = Items(2000, 100);
  auto start = Steady::now();
  auto out = Archiver(Script("s.sh", "exit 0"), std::chrono::seconds(60)).Archive(batch, Far());
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(10));
  ASSERT_EQ(out.size(), batch.size());
  for (const auto& o : out) EXPECT_FALSE(o.ok);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

// A process that ignores SIGCHLD has its children reaped by the kernel: the
// run must still end when the script does, with its answers.
TEST_F(ScriptArchiverTest, SigchldIgnoredByTheProcess) {
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGCHLD, &ign, &old);
  auto start = Steady::now();
  auto out = Archiver(Script("s.sh", std::string(kOkPerArg) + "\nexit 3"), std::chrono::seconds(30))
                 .Archive({Item("a.lpj")}, Far());
  auto took = Steady::now() - start;
  ::sigaction(SIGCHLD, &old, nullptr);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(out[0].ok) << out[0].error;
}

// --- the encodings ----------------------------------------------------------

TEST(EncodeScriptRequestTest, UnknownCreatedIsGoZeroTime) {
  ArchiveItem it;
  it.path = "/j/x.lpj";
  it.size = 18446744073709551615u;
  EXPECT_EQ(EncodeScriptRequest(it),
            "{\"path\":\"/j/x.lpj\",\"instance_id\":\"\",\"size\":18446744073709551615,"
            "\"created\":\"0001-01-01T00:00:00Z\"}\n");
}

// Byte for byte what Go's json.Marshal writes for these strings.
TEST(EncodeScriptRequestTest, GoEscaping) {
  ArchiveItem it;
  it.path = std::string("q\"b\\<>&\b\f\n\r\t\x01\x1f\x7f") + "\xe2\x80\xa8\xe2\x80\xa9" + "\xc3\xa9" +
            "\xef\xbf\xbd" + "\xff" + "\xc3" + "\xed\xa0\x80" + "\xf0\x9f\x9a\xa2";
  it.instance_id = "<boat>";
  std::string line = EncodeScriptRequest(it);
  EXPECT_EQ(line,
            "{\"path\":\"q\\\"b\\\\\\u003c\\u003e\\u0026\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u2028\\u2029"
            "\xc3\xa9\xef\xbf\xbd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xf0\x9f\x9a\xa2\","
            "\"instance_id\":\"\\u003cboat\\u003e\",\"size\":0,\"created\":\"0001-01-01T00:00:00Z\"}\n");
  // Still JSON a script can read.
  EXPECT_EQ(nlohmann::json::parse(line)["instance_id"], "<boat>");
}

TEST(ParseScriptAnswerTest, GoUnmarshalRules) {
  EXPECT_FALSE(ParseScriptAnswer("").has_value());
  EXPECT_FALSE(ParseScriptAnswer("ok").has_value());
  EXPECT_FALSE(ParseScriptAnswer("42").has_value());
  EXPECT_FALSE(ParseScriptAnswer("\"ok\"").has_value());
  EXPECT_FALSE(ParseScriptAnswer("[]").has_value());
  EXPECT_FALSE(ParseScriptAnswer("{\"status\":\"ok\"} trailing").has_value());
  EXPECT_FALSE(ParseScriptAnswer("{\"status\":true}").has_value());
  EXPECT_FALSE(ParseScriptAnswer("{\"error\":{}}").has_value());
  ASSERT_TRUE(ParseScriptAnswer("null").has_value());
  EXPECT_EQ(ParseScriptAnswer("null")->status, "");
  EXPECT_EQ(ParseScriptAnswer("  {\"status\":\"ok\"}  ")->status, "ok");
  EXPECT_EQ(ParseScriptAnswer("{\"Status\":\"ok\"}")->status, "ok");  // Go matches keys without case
  EXPECT_EQ(ParseScriptAnswer("{\"status\":\"error\",\"STATUS\":\"ok\"}")->status, "ok");
  EXPECT_EQ(ParseScriptAnswer("{\"status\":null,\"path\":\"p\"}")->path, "p");
  auto a = ParseScriptAnswer("{\"path\":\"/x\",\"status\":\"error\",\"error\":\"boom\",\"n\":[1]}");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->path, "/x");
  EXPECT_EQ(a->status, "error");
  EXPECT_EQ(a->error, "boom");
}

}  // namespace
}  // namespace lplex::keeper
