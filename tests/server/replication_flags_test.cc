// lplex-server's replication flags, refused before anything starts (exit 2,
// -validate-config too), and the config warnings that must not be lost to
// the error they explain. Issue 8, the newcomer's findings M1-M4 (boat side).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "boat_server.h"
#include "config/boat_config.h"
#include "core/log.h"
#include "server_main.h"
#include "server_main_runner.h"
#include "server_test_support.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::ChildServer;
using lplex::testing::TempDir;
using std::chrono::seconds;

constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
constexpr const char* kKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n";

using testing::RunServer;
using testing::WriteFile;

std::vector<std::string> Replicating(std::vector<std::string> more) {
  std::vector<std::string> args = {"-source", "sim:", "-port", "0", "-replication-target", "127.0.0.1:9443",
                                   "-replication-instance-id", "boat-1"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// -- M1: -replication-target is HOST:PORT ------------------------------------

TEST(ReplicationFlags, ValidateConfigRefusesTargetPortAbove65535) {
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:99999",
                                "-replication-instance-id", "boat-1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-replication-target: \"127.0.0.1:99999\" is not valid"));
  EXPECT_THAT(r.err, HasSubstr("HOST:PORT with PORT 1..65535"));
  EXPECT_EQ(r.out, "");
}

TEST(ReplicationFlags, ValidateConfigRefusesTargetWithoutPortOrWithSpace) {
  for (const char* target : {"garbage", "a b:c"}) {
    const Captured r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", target,
                                  "-replication-instance-id", "boat-1"});
    EXPECT_EQ(r.rc, 2) << target;
    EXPECT_THAT(r.err, HasSubstr(std::string("-replication-target: \"") + target + "\" is not valid"));
    EXPECT_THAT(r.err, HasSubstr("HOST:PORT with PORT 1..65535"));
  }
}

// -- M2: TLS files are checked before startup --------------------------------

TEST(ReplicationFlags, ValidateConfigRefusesGarbageTlsCertNamingFlagAndFile) {
  TempDir dir;
  const std::string garbage = WriteFile(dir, "garbage.pem", "garbage\n");
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:9443",
                                "-replication-instance-id", "boat-1", "-replication-tls-cert", garbage,
                                "-replication-tls-key", WriteFile(dir, "k.pem", kKey), "-replication-tls-ca",
                                WriteFile(dir, "ca.pem", kCert)});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-replication-tls-cert " + garbage + ": not a PEM certificate"));
}

TEST(ReplicationFlags, ValidateConfigRefusesGarbageTlsKeyAndCa) {
  TempDir dir;
  const std::string cert = WriteFile(dir, "c.pem", kCert);
  const std::string key = WriteFile(dir, "k.pem", kKey);
  const std::string garbage = WriteFile(dir, "garbage.pem", "garbage\n");
  Captured r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:9443",
                          "-replication-instance-id", "boat-1", "-replication-tls-cert", cert, "-replication-tls-key",
                          garbage});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-replication-tls-key " + garbage + ": not a PEM private key"));
  r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:9443",
                 "-replication-instance-id", "boat-1", "-replication-tls-cert", cert, "-replication-tls-key", key,
                 "-replication-tls-ca", garbage});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-replication-tls-ca " + garbage + ": not a PEM certificate"));
}

TEST(ReplicationFlags, ValidateConfigAcceptsPemLookingTlsFiles) {
  TempDir dir;
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:9443",
                                "-replication-instance-id", "boat-1", "-replication-tls-cert",
                                WriteFile(dir, "c.pem", kCert), "-replication-tls-key", WriteFile(dir, "k.pem", kKey),
                                "-replication-tls-ca", WriteFile(dir, "ca.pem", kCert)});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(ReplicationFlags, StartupRefusesGarbageTlsCertWithExitTwoBeforeReady) {
  TempDir dir;
  const std::string garbage = WriteFile(dir, "garbage.pem", "garbage\n");
  ChildServer child;
  ASSERT_TRUE(child.Start(Replicating({"-replication-tls-cert", garbage, "-replication-tls-key",
                                       WriteFile(dir, "k.pem", kKey), "-replication-tls-ca",
                                       WriteFile(dir, "ca.pem", kCert)}),
                          dir.Sub("log"), dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 2) << child.Log();
  EXPECT_THAT(child.Log(), HasSubstr("-replication-tls-cert " + garbage + ": not a PEM certificate"));
  EXPECT_THAT(child.Log(), Not(HasSubstr("lplex-server: ready")));
}

TEST(ReplicationFlags, StartupRefusesMissingTlsCertWithExitTwoAndOnePrefix) {
  TempDir dir;
  const std::string missing = dir.Sub("missing.pem");
  ChildServer child;
  ASSERT_TRUE(child.Start(
      Replicating({"-replication-tls-cert", missing, "-replication-tls-key", WriteFile(dir, "k.pem", kKey)}),
      dir.Sub("log"), dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 2) << child.Log();
  EXPECT_THAT(child.Log(),
              HasSubstr("-replication-tls-cert " + missing + ": cannot be read: No such file or directory"));
  EXPECT_THAT(child.Log(), Not(HasSubstr("replication: replication:")));
}

// A file that passed the check but is gone when the client reads it: the
// client's own error, said once.
TEST(ReplicationFlags, TlsCertRemovedAfterValidationFailsStartWithOneReplicationPrefix) {
  TempDir dir;
  const std::string cert = WriteFile(dir, "c.pem", kCert);
  config::LoadOptions o;
  o.search_paths = {};
  auto cfg = config::LoadBoatServerConfig(
      Replicating({"-replication-tls-cert", cert, "-replication-tls-key", WriteFile(dir, "k.pem", kKey)}), o);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  RecordingLogger log;
  BoatServerEnv env;
  env.log = &log;
  env.bind_address = "127.0.0.1";
  auto server = BoatServer::Create(cfg->config, env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::filesystem::remove(cert);
  const Status started = (*server)->Start();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr(cert));
  EXPECT_THAT(started.message(), HasSubstr("replication: "));
  EXPECT_THAT(started.message(), Not(HasSubstr("replication: replication:")));
}

// -- M3: a CA alone is not TLS -----------------------------------------------

TEST(ReplicationFlags, ValidateConfigRefusesTlsCaWithoutCertAndKey) {
  TempDir dir;
  const Captured r =
      RunServer({"-validate-config", "-source", "sim:", "-replication-target", "127.0.0.1:9443",
                 "-replication-instance-id", "boat-1", "-replication-tls-ca", WriteFile(dir, "ca.pem", kCert)});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err,
              HasSubstr("-replication-tls-ca given without -replication-tls-cert and -replication-tls-key"));
  EXPECT_THAT(r.err, HasSubstr("plaintext needs none"));
}

TEST(ReplicationFlags, StartupRefusesTlsCaWithoutCertAndKeyInsteadOfPlaintext) {
  TempDir dir;
  ChildServer child;
  ASSERT_TRUE(child.Start(Replicating({"-replication-tls-ca", WriteFile(dir, "ca.pem", kCert)}), dir.Sub("log"),
                          dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 2) << child.Log();
  EXPECT_THAT(child.Log(), HasSubstr("-replication-tls-ca given without -replication-tls-cert"));
  EXPECT_THAT(child.Log(), Not(HasSubstr("plaintext: no -replication-tls-cert")));
}

// -- M4: the unknown-key warning comes before the error it explains -----------

// "journal.dri" is a typo of journal.dir; without it the archive target has
// no journal to archive, and the error says so. The warning is the fix.
constexpr const char* kTypoConf =
    "sources = [\"sim:\"]\njournal.dri = /var/log/lplex\njournal.archive.target = \"file:///tmp/archive\"\n";

TEST(ReplicationFlags, ValidateConfigPrintsUnknownKeyWarningBeforeTheErrorItCauses) {
  TempDir dir;
  const Captured r = RunServer({"-validate-config", "-config", WriteFile(dir, "typo.conf", kTypoConf)});
  EXPECT_EQ(r.rc, 2);
  const size_t warning = r.err.find("unknown config key \"journal.dri\" ignored (did you mean \"journal.dir\"?)");
  const size_t error = r.err.find("-journal-archive-target is set but -journal-dir is not");
  ASSERT_NE(warning, std::string::npos) << r.err;
  ASSERT_NE(error, std::string::npos) << r.err;
  EXPECT_LT(warning, error) << r.err;
}

TEST(ReplicationFlags, StartupPrintsUnknownKeyWarningBeforeTheErrorItCauses) {
  TempDir dir;
  ChildServer child;
  ASSERT_TRUE(child.Start({"-config", WriteFile(dir, "typo.conf", kTypoConf), "-port", "0"}, dir.Sub("log"),
                          dir.Sub("out")));
  EXPECT_EQ(child.Wait(seconds(20)), 2) << child.Log();
  const std::string log = child.Log();
  const size_t warning = log.find("unknown config key \"journal.dri\" ignored (did you mean \"journal.dir\"?)");
  const size_t error = log.find("-journal-archive-target is set but -journal-dir is not");
  ASSERT_NE(warning, std::string::npos) << log;
  ASSERT_NE(error, std::string::npos) << log;
  EXPECT_LT(warning, error) << log;
}

}  // namespace
}  // namespace lplex::server
