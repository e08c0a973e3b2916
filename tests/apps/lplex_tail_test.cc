// lplex tail / values / devices against the real lplex-server (started here
// on 127.0.0.1 with a port the test picks), and their flag checks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "client/live_server.h"
#include "client/lplex_client.h"
#include "commands.h"
#include "support/temp_dir.h"

namespace lplex::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kLplexBinary = std::string(LPLEX_BINARY_DIR) + "/apps/lplex/lplex";

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(std::FILE* f) {
  std::string s;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

// The whole command line in-process (for checks that end before any I/O).
CliRun Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "lplex");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  CliRun r;
  r.code = cli::RunMain(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  std::fclose(out);
  std::fclose(err);
  return r;
}

// The seqs of the JSON lines in `text`; every line must be a frame with
// exactly the keys of spec/boat.md §5.4, in order.
std::vector<uint64_t> Seqs(const std::string& text, std::string* problem) {
  std::vector<uint64_t> seqs;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // a line being written
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(line, nullptr, false);
    std::vector<std::string> keys;
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    }
    if (keys != std::vector<std::string>{"seq", "ts", "prio", "pgn", "src", "dst", "data"}) {
      *problem = "not a frame line: " + line;
      return seqs;
    }
    seqs.push_back(j["seq"].get<uint64_t>());
  }
  return seqs;
}

class TailLive : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<LiveServer>(dir_.path(), FreePort());
    ASSERT_TRUE(server_->Start()) << server_->Log();
  }

  // Starts `lplex tail ARGS` as a child; stdout to tail.out, stderr to tail.log.
  void StartTail(std::vector<std::string> args) {
    args.insert(args.begin(), {"tail", "--server", server_->url()});
    ASSERT_TRUE(tail_.Start(args, dir_.Sub("tail.log"), dir_.Sub("tail.out")));
  }
  std::string TailOut() const { return FileText(dir_.Sub("tail.out")); }

  // Waits until the tail printed at least `n` frames; their seqs.
  std::vector<uint64_t> WaitFrames(size_t n, milliseconds timeout) {
    std::vector<uint64_t> seqs;
    std::string problem;
    WaitFor([&] {
      seqs = Seqs(TailOut(), &problem);
      return seqs.size() >= n || !problem.empty();
    }, timeout);
    EXPECT_EQ(problem, "");
    return seqs;
  }

  client::SessionInfo Session(const std::string& id) {
    client::LplexClient c(*client::ParseServerUrl(server_->url()));
    Result<client::SessionInfo> s = c.CreateSession(id, "PT1M", client::Filter{});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : client::SessionInfo{};
  }

  TempDir dir_;
  std::unique_ptr<LiveServer> server_;
  ChildServer tail_{kLplexBinary};
};

TEST_F(TailLive, EphemeralTailPrintsJsonLinesWhenStdoutIsAFile) {
  StartTail({});
  std::vector<uint64_t> seqs = WaitFrames(20, seconds(10));
  ASSERT_GE(seqs.size(), 20u) << tail_.Log();
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  EXPECT_NE(tail_.Log().find("bye"), std::string::npos);
}

TEST_F(TailLive, PgnFilterReachesTheServer) {
  StartTail({"--pgn", "129025", "--pgn", "130306"});
  WaitFrames(10, seconds(10));
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  const std::string out = TailOut();
  ASSERT_NE(out, "") << tail_.Log();
  size_t pos = 0, lines = 0;
  while ((pos = out.find('\n', pos)) != std::string::npos) ++pos, ++lines;
  size_t matching = 0;
  for (const char* p : {"\"pgn\":129025,", "\"pgn\":130306,"}) {
    for (size_t at = out.find(p); at != std::string::npos; at = out.find(p, at + 1)) ++matching;
  }
  EXPECT_EQ(matching, lines) << out.substr(0, 2000);
}

TEST_F(TailLive, DecodeAddsLplexNamedFieldsAndWhereSelectsOnThem) {
  // A decoded field in --where turns decoding on by itself (spec §4.2).
  StartTail({"--decode", "--where", "pgn == 130306 && wind_speed >= 0"});
  EXPECT_TRUE(WaitFor([&] {
    const std::string out = TailOut();
    return std::count(out.begin(), out.end(), '\n') >= 5;
  }, seconds(10))) << tail_.Log();
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  const std::string out = TailOut();
  ASSERT_NE(out, "") << tail_.Log();
  std::istringstream in(out);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("pgn"), 130306) << line;
    ASSERT_TRUE(j.contains("decoded")) << line;
    EXPECT_TRUE(j.at("decoded").at("wind_speed").is_number()) << line;
    EXPECT_TRUE(j.at("decoded").at("wind_reference").is_string()) << line;  // lplex's label, e.g. "apparent"
    ++lines;
  }
  EXPECT_GE(lines, 5u);
}

TEST_F(TailLive, ChangesModeStartsEachSourceWithASnapshotThenOnlyDeltas) {
  StartTail({"--changes", "--pgn", "129025"});
  EXPECT_TRUE(WaitFor([&] {
    const std::string out = TailOut();
    return std::count(out.begin(), out.end(), '\n') >= 6;
  }, seconds(10))) << tail_.Log();
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  std::istringstream in(TailOut());
  std::set<int> seen;
  size_t deltas = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string change = j.at("change").get<std::string>();
    if (change == "idle") continue;
    const int src = j.at("src").get<int>();
    if (seen.insert(src).second) {
      EXPECT_EQ(change, "snapshot") << line;  // the first line of a source
    } else {
      EXPECT_EQ(change, "delta") << line;
      EXPECT_GT(j.at("diff_bytes").get<int>(), 0) << line;
      EXPECT_EQ(j.at("full_bytes"), 8) << line;
      ++deltas;
    }
  }
  EXPECT_GT(deltas, 0u);
}

TEST_F(TailLive, BufferedTailAcksAndTheServersCursorMoves) {
  StartTail({"--buffer-timeout", "PT1M", "--client-id", "acker", "--ack-interval", "200ms"});
  ASSERT_TRUE(tail_.WaitForLog("session \"acker\": head=", seconds(10))) << tail_.Log();
  std::vector<uint64_t> seqs = WaitFrames(5, seconds(10));
  ASSERT_GE(seqs.size(), 5u);
  // Periodic acks: the cursor reaches a printed seq while the tail runs.
  uint64_t cursor = 0;
  EXPECT_TRUE(WaitFor([&] {
    cursor = Session("acker").cursor;
    return cursor >= seqs[4];
  }, seconds(5))) << "cursor " << cursor << "\n" << tail_.Log();
  // The final ack on SIGTERM covers exactly the last frame printed.
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  std::string problem;
  seqs = Seqs(TailOut(), &problem);
  ASSERT_EQ(problem, "");
  EXPECT_EQ(Session("acker").cursor, seqs.back()) << tail_.Log();
}

// Acceptance (issue 9, item 4): a buffered tail survives a server restart
// and resumes from its ack: every seq between the first and the last one
// printed is printed exactly once.
TEST_F(TailLive, BufferedTailSurvivesServerRestartWithoutLosingOrRepeatingFrames) {
  StartTail({"--buffer-timeout", "PT1M", "--client-id", "restart", "--ack-interval", "300ms", "--reconnect-delay",
             "200ms"});
  std::vector<uint64_t> before = WaitFrames(30, seconds(10));
  ASSERT_GE(before.size(), 30u) << tail_.Log();
  ASSERT_EQ(server_->Stop(), 0) << server_->Log();
  ASSERT_TRUE(tail_.WaitForLog("disconnected", seconds(5))) << tail_.Log();
  std::this_thread::sleep_for(milliseconds(300));  // at least one refused reconnect
  ASSERT_TRUE(server_->Start()) << server_->Log();
  ASSERT_TRUE(tail_.WaitForLog("resuming after seq", seconds(10))) << tail_.Log();
  // Frames from the new run arrive (seqs beyond what the first run served).
  uint64_t first_run_head = before.back();
  std::vector<uint64_t> after;
  std::string problem;
  WaitFor([&] {
    after = Seqs(TailOut(), &problem);
    return !problem.empty() || (!after.empty() && after.back() > first_run_head + 50);
  }, seconds(10));
  EXPECT_EQ(tail_.Terminate(seconds(5)), 0) << tail_.Log();
  after = Seqs(TailOut(), &problem);
  ASSERT_EQ(problem, "");
  ASSERT_GT(after.back(), first_run_head + 50) << tail_.Log();
  for (size_t i = 1; i < after.size(); ++i) {
    ASSERT_EQ(after[i], after[i - 1] + 1) << "after seq " << after[i - 1] << "\n" << tail_.Log();
  }
}

TEST_F(TailLive, DisconnectWithReconnectFalseExits1AfterAFinalAck) {
  StartTail({"--buffer-timeout", "PT1M", "--client-id", "once", "--reconnect=false"});
  ASSERT_GE(WaitFrames(5, seconds(10)).size(), 5u) << tail_.Log();
  ASSERT_EQ(server_->Stop(), 0);
  EXPECT_EQ(tail_.Wait(seconds(10)), 1) << tail_.Log();
  EXPECT_NE(tail_.Log().find("stream closed by server"), std::string::npos) << tail_.Log();
}

TEST_F(TailLive, DevicesAndValuesPrintTheServersJsonWhenStdoutIsAFile) {
  std::this_thread::sleep_for(milliseconds(500));
  CliRun d = Cli({"devices", "--server", server_->url()});
  ASSERT_EQ(d.code, 0) << d.err;
  nlohmann::json devs = nlohmann::json::parse(d.out, nullptr, false);
  ASSERT_TRUE(devs.is_array()) << d.out;
  EXPECT_FALSE(devs.empty());
  // The simulated GPS starts within a second or so.
  CliRun v;
  nlohmann::json vals;
  WaitFor([&] {
    v = Cli({"values", "--server", server_->url(), "--pgn", "129025"});
    vals = nlohmann::json::parse(v.out, nullptr, false);
    return v.code != 0 || !vals.is_array() || !vals.empty();
  }, seconds(5));
  ASSERT_EQ(v.code, 0) << v.err;
  ASSERT_TRUE(vals.is_array()) << v.out;
  ASSERT_FALSE(vals.empty());
  for (const auto& src : vals) {
    for (const auto& val : src["values"]) EXPECT_EQ(val["pgn"], 129025);
  }
}

TEST(TailFlags, BadServerUrlIsAUsageErrorNamingTheUrl) {
  CliRun r = Cli({"tail", "--server", "ftp://boat:8089"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--server \"ftp://boat:8089\" has an unsupported scheme (valid: http://HOST[:PORT])"),
            std::string::npos)
      << r.err;
}

TEST(TailFlags, ZeroReconnectDelayIsRefused) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--reconnect-delay", "0s"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--reconnect-delay 0s must be positive (valid: 1ms..24h"), std::string::npos) << r.err;
}

TEST(TailFlags, NegativeAckIntervalIsRefused) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--ack-interval=-5s"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--ack-interval -5s must be positive"), std::string::npos) << r.err;
}

TEST(TailFlags, ZeroBufferTimeoutIsRefused) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--buffer-timeout", "PT0S"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--buffer-timeout PT0S must be positive"), std::string::npos) << r.err;
}

TEST(TailFlags, InstanceAbove255IsRefusedNotTruncated) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--instance", "300"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--instance"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("300"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0..255"), std::string::npos) << r.err;
}

TEST(TailFlags, BoatWithServerIsRefused) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--boat", "sea"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--boat \"sea\" and --server http://127.0.0.1:1 both name the server"), std::string::npos)
      << r.err;
}

TEST(TailFlags, NoServerGivesTheHintAndExits2) {
  CliRun r = Cli({"tail"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("specify --server explicitly, e.g. --server http://inuc1.local:8089"), std::string::npos)
      << r.err;
}

TEST(TailFlags, InvalidClientIdIsRefused) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--buffer-timeout", "PT1M", "--client-id", "my.host"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--client-id \"my.host\" is not valid (valid: 1 to 64 of A-Z a-z 0-9 _ -)"), std::string::npos)
      << r.err;
}

TEST(TailFlags, RepeatedPgnIsNotGivenTwice) {
  // Repeatable flags pass the "given twice" check; the bad URL is what fails.
  CliRun r = Cli({"tail", "-pgn", "1", "-pgn", "2", "-server", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find("given twice"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--server \"nope\""), std::string::npos) << r.err;
}

TEST(TailFlags, UnknownBoatListsTheBoatsOfTheConfig) {
  TempDir dir;
  std::ofstream(dir.Sub("lplex.conf")) << "boats { sea { cloud = \"http://127.0.0.1:1\" }, lake { mdns = lake } }\n";
  CliRun r = Cli({"tail", "--config", dir.Sub("lplex.conf"), "--boat", "river"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--boat \"river\" is not in " + dir.Sub("lplex.conf") + " (boats: lake, sea)"),
            std::string::npos)
      << r.err;
}

TEST(TailFlags, BoatWithOnlyMdnsGivesTheServerHint) {
  TempDir dir;
  std::ofstream(dir.Sub("lplex.conf")) << "boats { lake { mdns = lake } }\n";
  CliRun r = Cli({"tail", "--config", dir.Sub("lplex.conf"), "--boat", ""});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("specify --server explicitly"), std::string::npos) << r.err;
}


TEST(TailFlags, InvalidWhereNamesThePosition) {
  CliRun r = Cli({"tail", "--server", "http://127.0.0.1:1", "--where", "pgn = 1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid --where expression: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("position 4"), std::string::npos) << r.err;
}

TEST(ValuesFlags, UnreachableServerExits1NamingTheRequest) {
  const int port = FreePort();
  CliRun r = Cli({"values", "--server", "http://127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("GET http://127.0.0.1:" + std::to_string(port) + "/values"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lplex::testing
