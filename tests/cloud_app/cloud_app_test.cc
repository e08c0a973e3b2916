// lplex-cloud in-process: startup, /healthz, the shutdown order, and the
// command line's exit codes (docs/cloud.md "Running lplex-cloud").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

#include "cloud_main.h"
#include "cloud_server.h"
#include "config/cloud_config.h"
#include "core/log.h"
#include "server/server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

using ::testing::HasSubstr;
using lplex::testing::HttpGet;
using lplex::testing::TempDir;

config::CloudServerConfig Load(const std::vector<std::string>& args) {
  auto loaded = config::LoadCloudServerConfig(args);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? loaded->config : config::CloudServerConfig{};
}

// Index of the first log line containing `needle`, or -1.
int LineOf(const std::vector<std::string>& lines, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

struct Captured {
  int code = -1;
  std::string out, err;
};

Captured RunMain(const std::vector<std::string>& args) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  Captured c;
  c.code = CloudMain(args, out, err);
  auto read = [](std::FILE* f) {
    std::string s;
    std::rewind(f);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  };
  c.out = read(out);
  c.err = read(err);
  return c;
}

TEST(CloudApp, CloudStartsServesHealthAndStopsInOrder) {
  TempDir dir;
  RecordingLogger log;
  CloudServerEnv env;
  env.log = &log;
  auto server = CloudServer::Create(Load({"-insecure-plaintext", "-data-dir", dir.Sub("cloud"), "-grpc-listen",
                                          "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}),
                                    env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  EXPECT_GT((*server)->grpc_port(), 0);
  ASSERT_GT((*server)->http_port(), 0);

  const auto health = HttpGet((*server)->http_port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_THAT(health.body, HasSubstr("instances_total"));
  EXPECT_EQ(HttpGet((*server)->http_port(), "/readyz").status, 200);

  (*server)->Stop();
  const std::vector<std::string> lines = log.messages();
  // Startup: the keeper's sweep before any listener.
  const int sweep = LineOf(lines, "keeper: startup scan");
  const int grpc = LineOf(lines, "lplex-cloud: replication (gRPC) at 127.0.0.1:");
  const int http = LineOf(lines, "lplex-cloud: HTTP API at http://127.0.0.1:");
  const int ready = LineOf(lines, "lplex-cloud: ready in");
  ASSERT_GE(sweep, 0);
  EXPECT_LT(sweep, grpc);
  EXPECT_LT(grpc, http);
  EXPECT_LT(http, ready);
  // Shutdown: each step logged with its duration, in order.
  const std::vector<std::string> steps = {"shutdown: started",
                                          "shutdown: stopped replication in ",
                                          "shutdown: stopped HTTP in ",
                                          "shutdown: stopped the idle timer in ",
                                          "shutdown: stopped instances in ",
                                          "shutdown: keeper drained in ",
                                          "shutdown: done in "};
  int previous = ready;
  for (const auto& step : steps) {
    const int at = LineOf(lines, step);
    EXPECT_GT(at, previous) << step;
    previous = at;
  }
  // Nothing listens any more.
  EXPECT_EQ(HttpGet((*server)->http_port(), "/healthz").status, 0);
}

TEST(CloudApp, SecondStartOnTheSameHttpPortFailsNamingTheAddress) {
  TempDir dir;
  RecordingLogger log;
  CloudServerEnv env;
  env.log = &log;
  auto first = CloudServer::Create(Load({"-insecure-plaintext", "-data-dir", dir.Sub("a"), "-grpc-listen",
                                         "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}),
                                   env);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->http_port());
  auto second = CloudServer::Create(Load({"-insecure-plaintext", "-data-dir", dir.Sub("b"), "-grpc-listen",
                                          "127.0.0.1:0", "-http-listen", taken}),
                                    env);
  ASSERT_TRUE(second.ok());
  const Status s = (*second)->Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(taken));
  (*second)->Stop();
  (*first)->Stop();
}

TEST(CloudApp, VersionHelpAndValidateConfigExitZero) {
  TempDir dir;
  const Captured v = RunMain({"-version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_THAT(v.out, HasSubstr("lplex-cloud "));
  const Captured h = RunMain({"-help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_THAT(h.out, HasSubstr("-grpc-listen"));
  const Captured c = RunMain({"-validate-config", "-insecure-plaintext", "-data-dir", dir.Sub("d"),
                              "-journal-archive-target", "file://" + dir.Sub("archive")});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("journal.archive.target"));
}

TEST(CloudApp, UnknownFlagExitsTwoNamingIt) {
  const Captured c = RunMain({"-insecure-plaintext", "-no-such-flag"});
  EXPECT_EQ(c.code, 2);
  EXPECT_THAT(c.err, HasSubstr("-no-such-flag"));
}

TEST(CloudApp, ArchiveTargetThatIsAFileExitsTwoNamingIt) {
  TempDir dir;
  const std::string file = dir.Sub("plain-file");
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  const Captured c = RunMain({"-validate-config", "-insecure-plaintext", "-data-dir", dir.Sub("d"),
                              "-journal-archive-target", "file://" + file});
  EXPECT_EQ(c.code, 2);
  EXPECT_THAT(c.err, HasSubstr(file));
}

TEST(CloudApp, PortInUseAtStartupExitsOne) {
  TempDir dir;
  RecordingLogger log;
  CloudServerEnv env;
  env.log = &log;
  auto first = CloudServer::Create(Load({"-insecure-plaintext", "-data-dir", dir.Sub("a"), "-grpc-listen",
                                         "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}),
                                   env);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  const Captured c = RunMain({"-insecure-plaintext", "-data-dir", dir.Sub("b"), "-grpc-listen", "127.0.0.1:0",
                              "-http-listen", "127.0.0.1:" + std::to_string((*first)->http_port())});
  EXPECT_EQ(c.code, 1);
  EXPECT_THAT(c.err, HasSubstr(std::to_string((*first)->http_port())));
  (*first)->Stop();
}

TEST(CloudApp, RequestShutdownStopsCloudMainWithExitZero) {
  TempDir dir;
  std::atomic<int> code{-1};
  std::thread runner([&] {
    code.store(RunMain({"-insecure-plaintext", "-data-dir", dir.Sub("d"), "-grpc-listen", "127.0.0.1:0",
                        "-http-listen", "127.0.0.1:0"})
                   .code);
  });
  // Until CloudMain has its signal pipe, RequestShutdown does nothing: retry
  // until one is delivered (a second one would be a second signal).
  bool delivered = false;
  for (int i = 0; i < 200 && !delivered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    delivered = RequestShutdown();
  }
  EXPECT_TRUE(delivered);
  runner.join();
  EXPECT_EQ(code.load(), 0);
}

}  // namespace
}  // namespace lplex::cloud_app
