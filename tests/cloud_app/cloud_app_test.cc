// lplex-cloud in-process: startup, /healthz, the shutdown order, and the
// command line's exit codes (docs/cloud.md "Running lplex-cloud").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "cloud_app/cloud_e2e_support.h"
#include "cloud_main.h"
#include "cloud_server.h"
#include "config/cloud_config.h"
#include "core/log.h"
#include "server/server_test_support.h"
#include "support/loopback_socket.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using lplex::testing::ChildServer;
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

// H3b: the second cloud's keeper sweep ran over the first one's live files
// before it failed on a port. With both on port 0 nothing else stops it:
// the data directory's lock must, before the keeper touches anything.
TEST(CloudApp, SecondCloudOnTheSameDataDirRefusesToStart) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  RecordingLogger log;
  CloudServerEnv env;
  env.log = &log;
  auto first = CloudServer::Create(
      Load({"-insecure-plaintext", "-data-dir", data, "-grpc-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0"}),
      env);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());

  ChildServer second(lplex::testing::kCloudBinary);
  ASSERT_TRUE(second.Start({"-insecure-plaintext", "-data-dir", data, "-grpc-listen", "127.0.0.1:0", "-http-listen",
                            "127.0.0.1:0"},
                           dir.Sub("second.log")));
  EXPECT_EQ(second.Wait(std::chrono::seconds(20)), 1) << second.Log();
  EXPECT_THAT(second.Log(), HasSubstr("lplex-cloud: data dir " + data + " is in use by another lplex-cloud (pid " +
                                      std::to_string(::getpid()) + ")"));
  EXPECT_THAT(second.Log(), Not(HasSubstr("keeper: startup scan")));
  // The first one is still serving.
  EXPECT_EQ(HttpGet((*first)->http_port(), "/healthz").status, 200);
  (*first)->Stop();
}

// M9: a file:// target in the data directory reaches into the instances'
// journal directories, which the keeper then refuses for every instance at
// every scan: nothing would ever be archived. Refused before anything is
// created, naming both paths.
TEST(CloudApp, ArchiveTargetInsideTheDataDirExitsTwoNamingBothPaths) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  for (const std::string& target : std::vector<std::string>{data + "/instances", data, data + "/archive", dir.path()}) {
    for (const bool validate : {true, false}) {
      std::vector<std::string> args = {"-insecure-plaintext", "-data-dir", data, "-grpc-listen", "127.0.0.1:0",
                                       "-http-listen", "127.0.0.1:0", "-journal-archive-target", "file://" + target};
      if (validate) args.push_back("-validate-config");
      const Captured c = RunMain(args);
      EXPECT_EQ(c.code, 2) << target << " " << c.err;
      EXPECT_THAT(c.err, HasSubstr("-journal-archive-target file://" + target));
      EXPECT_THAT(c.err, HasSubstr("-data-dir " + data));
      EXPECT_FALSE(std::filesystem::exists(data)) << target;
    }
  }
  // Beside the data directory is fine.
  const Captured ok = RunMain({"-validate-config", "-insecure-plaintext", "-data-dir", data,
                               "-journal-archive-target", "file://" + dir.Sub("data-archive")});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// M4: the typo is the cause of the error, so its warning comes first, on
// the error stream, whether loading or -validate-config fails.
TEST(CloudApp, TypoedKeyWarningIsPrintedWhenStartupFails) {
  TempDir dir;
  const std::string conf = dir.Sub("typo.conf");
  std::ofstream(conf) << "data-dir = \"" << dir.Sub("data") << "\"\ngrpc { insecure-plaintxt = true }\n";
  for (const bool validate : {false, true}) {
    std::vector<std::string> args = {"-config", conf};
    if (validate) args.push_back("-validate-config");
    const Captured c = RunMain(args);
    EXPECT_EQ(c.code, 2);
    const size_t warning = c.err.find("did you mean \"grpc.insecure-plaintext\"");
    const size_t error = c.err.find("the replication listener has no TLS");
    ASSERT_NE(warning, std::string::npos) << c.err;
    ASSERT_NE(error, std::string::npos) << c.err;
    EXPECT_LT(warning, error) << c.err;
  }
  // A -validate-config that fails after loading prints them too.
  const std::string conf2 = dir.Sub("typo2.conf");
  std::ofstream(conf2) << "grpc { insecure-plaintext = true }\napi-key-fiel = \"/etc/key\"\n";
  const Captured v = RunMain({"-config", conf2, "-validate-config", "-api-key-file", dir.Sub("missing-key")});
  EXPECT_EQ(v.code, 2);
  EXPECT_THAT(v.err, HasSubstr("did you mean \"api-key-file\""));
  EXPECT_THAT(v.err, HasSubstr(dir.Sub("missing-key")));
}

// M8 (a): both listeners on one port would fail only at startup, after the
// keeper's sweep, as "address in use".
TEST(CloudApp, GrpcListenOnTheHttpPortExitsTwoNamingBothFlags) {
  TempDir dir;
  for (const auto& [grpc, http] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:18581", "127.0.0.1:18581"}, {":18581", "127.0.0.1:18581"}, {"[::1]:18581", ":18581"}}) {
    const Captured c = RunMain({"-insecure-plaintext", "-data-dir", dir.Sub("data"), "-grpc-listen", grpc,
                                "-http-listen", http});
    EXPECT_EQ(c.code, 2) << grpc << " " << http;
    EXPECT_THAT(c.err, HasSubstr("-grpc-listen \"" + grpc + "\""));
    EXPECT_THAT(c.err, HasSubstr("-http-listen \"" + http + "\""));
  }
  // Different hosts on one port, and port 0 twice, are fine.
  const Captured ok = RunMain({"-validate-config", "-insecure-plaintext", "-data-dir", dir.Sub("data"),
                               "-grpc-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// M8 (b): a taken gRPC port is reported with the kernel's reason, not as
// "address in use or invalid, or the TLS ... (, , ) do not load".
TEST(CloudApp, GrpcPortInUseSaysAddressAlreadyInUse) {
  TempDir dir;
  int port = 0;
  const int taken = lplex::testing::BindLoopback(&port, /*listen=*/true);
  ASSERT_GE(taken, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const Captured c = RunMain({"-insecure-plaintext", "-data-dir", dir.Sub("data"), "-grpc-listen", address,
                              "-http-listen", "127.0.0.1:0"});
  ::close(taken);
  EXPECT_EQ(c.code, 1);
  EXPECT_THAT(c.err, HasSubstr("-grpc-listen \"" + address + "\""));
  EXPECT_THAT(c.err, HasSubstr("Address already in use"));
  EXPECT_THAT(c.err, Not(HasSubstr("(, , )")));
}

// M8 (c): a key that is not the certificate's fails the TLS handshake of
// every boat; it is a configuration error, found before anything starts.
TEST(CloudApp, TlsKeyThatDoesNotMatchTheCertificateExitsTwo) {
  if (!lplex::testing::HaveOpenssl()) GTEST_SKIP() << "no openssl command";
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("a"));
  std::filesystem::create_directories(dir.Sub("b"));
  lplex::testing::TestPki a, b;
  std::string error;
  ASSERT_TRUE(a.Make(dir.Sub("a"), {}, &error)) << error;
  ASSERT_TRUE(b.Make(dir.Sub("b"), {}, &error)) << error;
  for (const bool validate : {true, false}) {
    std::vector<std::string> args = {"-data-dir", dir.Sub("data"), "-grpc-listen", "127.0.0.1:0", "-http-listen",
                                     "127.0.0.1:0", "-tls-cert", a.server_cert_file(), "-tls-key",
                                     b.server_key_file(), "-tls-client-ca", a.ca_file()};
    if (validate) args.push_back("-validate-config");
    const Captured c = RunMain(args);
    EXPECT_EQ(c.code, 2);
    EXPECT_THAT(c.err, HasSubstr("-tls-key " + b.server_key_file() + " does not match the certificate of -tls-cert " +
                                 a.server_cert_file()));
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("data")));
  }
  // The matching pair passes.
  const Captured ok = RunMain({"-validate-config", "-data-dir", dir.Sub("data"), "-tls-cert", a.server_cert_file(),
                               "-tls-key", a.server_key_file(), "-tls-client-ca", a.ca_file()});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// Low: a missing TLS file exited 1 after the keeper's sweep with
// "replication: replication TLS certificate ...: cannot be read", and
// -validate-config accepted it. Now: exit 2 up front, naming the flag, the
// path and the OS error; nothing created.
TEST(CloudApp, MissingOrNonPemTlsFileExitsTwoNamingTheFlag) {
  TempDir dir;
  const std::string garbage = dir.Sub("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";
  struct Case {
    std::vector<std::string> tls;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"-tls-cert", dir.Sub("missing.pem"), "-tls-key", garbage, "-tls-client-ca", garbage},
       "-tls-cert " + dir.Sub("missing.pem") + ": cannot be read: No such file or directory"},
      {{"-tls-cert", garbage, "-tls-key", garbage, "-tls-client-ca", garbage},
       "-tls-cert " + garbage + ": no PEM certificate in it"},
      {{"-tls-cert", dir.path(), "-tls-key", garbage, "-tls-client-ca", garbage},
       "-tls-cert " + dir.path() + ": cannot be read: Is a directory"},
  };
  for (const Case& k : cases) {
    for (const bool validate : {true, false}) {
      std::vector<std::string> args = {"-data-dir", dir.Sub("data"), "-grpc-listen", "127.0.0.1:0", "-http-listen",
                                       "127.0.0.1:0"};
      args.insert(args.end(), k.tls.begin(), k.tls.end());
      if (validate) args.push_back("-validate-config");
      const Captured c = RunMain(args);
      EXPECT_EQ(c.code, 2) << c.err;
      EXPECT_THAT(c.err, HasSubstr(k.expected));
      EXPECT_THAT(c.err, Not(HasSubstr("replication: replication")));
      EXPECT_FALSE(std::filesystem::exists(dir.Sub("data")));
    }
  }
}

// Low: "HTTP API at http://::1:18580/" is not an address anyone can use.
TEST(CloudApp, Ipv6ListenAddressIsBracketedInLogLines) {
  {
    const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool have_ipv6 = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    if (!have_ipv6) GTEST_SKIP() << "no IPv6 loopback here";
  }
  TempDir dir;
  RecordingLogger log;
  CloudServerEnv env;
  env.log = &log;
  auto server = CloudServer::Create(Load({"-insecure-plaintext", "-data-dir", dir.Sub("cloud"), "-grpc-listen",
                                          "[::1]:0", "-http-listen", "[::1]:0"}),
                                    env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const Status s = (*server)->Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(log.Contains("lplex-cloud: replication (gRPC) at [::1]:" + std::to_string((*server)->grpc_port())));
  EXPECT_TRUE(log.Contains("lplex-cloud: HTTP API at http://[::1]:" + std::to_string((*server)->http_port()) + "/"));
  (*server)->Stop();
}

}  // namespace
}  // namespace lplex::cloud_app
