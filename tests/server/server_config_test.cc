// lplex-server's command line: exit codes and messages for bad
// configurations, -validate-config, -version, and the packaged example config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "server_main.h"
#include "server_main_runner.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::server {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::TempDir;

using testing::RunServer;
using testing::WriteFile;

TEST(ServerConfig, BadConfigValueExitsTwoNamingTheKey) {
  TempDir dir;
  const std::string conf = WriteFile(dir, "bad.conf", "journal {\n  dir = /tmp/j\n  compression = lz4\n}\n");
  const Captured r = RunServer({"-config", conf, "-source", "sim:"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("journal.compression"));
  EXPECT_THAT(r.err, HasSubstr("\"lz4\""));
  EXPECT_THAT(r.err, HasSubstr("zstd"));  // what would be valid
  EXPECT_THAT(r.err, HasSubstr(conf));    // which file
}

TEST(ServerConfig, BadFlagValueExitsTwoNamingTheFlag) {
  const Captured r = RunServer({"-port", "70000", "-source", "sim:"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("-port"));
  EXPECT_THAT(r.err, HasSubstr("70000"));
  EXPECT_THAT(r.err, HasSubstr("0..65535"));
}

TEST(ServerConfig, BadSourceUriExitsTwoNamingTheUri) {
  const Captured r = RunServer({"-source", "can://can0", "-port", "0"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("can://can0"));
  EXPECT_THAT(r.err, HasSubstr("socketcan:IFACE"));
}

TEST(ServerConfig, ValidateConfigPrintsEffectiveConfig) {
  TempDir dir;
  const std::string conf =
      WriteFile(dir, "boat.conf",
                "journal {\n  dir = " + dir.Sub("journal") + "\n  rotate { duration = PT30S }\n}\nsources = [\"sim:\"]\n");
  const Captured r = RunServer({"-config", conf, "-port=9100", "-validate-config"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# config file: " + conf));
  EXPECT_THAT(r.out, ContainsRegex("\nport = 9100 +# flag -port\n"));
  EXPECT_THAT(r.out, ContainsRegex("\njournal.dir = \"" + dir.Sub("journal") + "\" +# file\n"));
  EXPECT_THAT(r.out, ContainsRegex("\njournal.rotate.duration = \"PT30S\" +# file\n"));
  EXPECT_THAT(r.out, ContainsRegex("\njournal.compression = \"zstd\" +# default\n"));
  // Validation starts nothing: no journal directory appears.
  EXPECT_FALSE(std::ifstream(dir.Sub("journal")).good());
}

// The keeper's rule, checked before anything starts: a copy inside the
// journal directory is no copy (retention would delete the only one).
TEST(ServerConfig, ValidateConfigRefusesArchiveDirectoryInsideJournalDir) {
  TempDir dir;
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-journal-dir", dir.Sub("j"),
                          "-journal-archive-target", "file://" + dir.Sub("j/archive")});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr(dir.Sub("j")));
  EXPECT_THAT(r.out, Not(HasSubstr("journal.dir")));
}

TEST(ServerConfig, ValidateConfigRefusesSendRuleThatDoesNotParse) {
  const Captured r = RunServer({"-validate-config", "-source", "sim:", "-send-enabled", "-send-rules", "pgn:abc"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("send-rules"));
  EXPECT_THAT(r.err, HasSubstr("abc"));
}

TEST(ServerConfig, ValidateConfigRefusesUnreadableApiKeyFile) {
  TempDir dir;
  const Captured r =
      RunServer({"-validate-config", "-source", "sim:", "-api-key-file", dir.Sub("missing-key")});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr(dir.Sub("missing-key")));
}

TEST(ServerConfig, VersionPrintsVersionCommitAndBuildDate) {
  const Captured r = RunServer({"-version"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_THAT(r.out, ContainsRegex("^lplex-server [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [^,]+, built [^)]+\\)\n$"));
}

TEST(ServerConfig, HelpListsEveryFlagAndStatusLine) {
  const Captured r = RunServer({"-help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_THAT(r.out, HasSubstr("-journal-archive-target"));
  EXPECT_THAT(r.out, HasSubstr("-status-line"));
}

TEST(ServerConfig, PackagedExampleConfigPassesValidateConfig) {
  const std::string conf = std::string(LPLEX_SOURCE_DIR) + "/packaging/lplex-server.conf";
  const Captured r = RunServer({"-config", conf, "-validate-config"});
  if (::access("/var/lib", W_OK) != 0) {
    // -validate-config proves the journal directory could be created by
    // this user; /var/lib/lplex is for the packaged service's user.
    EXPECT_EQ(r.rc, 2);
    EXPECT_THAT(r.err, HasSubstr("journal-dir /var/lib/lplex/journal: not writable"));
    GTEST_SKIP() << "not allowed to create /var/lib/lplex/journal as this user";
  }
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# config file: " + conf));
  EXPECT_THAT(r.out, Not(HasSubstr("unknown config key")));  // every key in the example is a real one
  EXPECT_THAT(r.out, ContainsRegex("\njournal.dir = \"/var/lib/lplex/journal\" +# file\n"));
}

}  // namespace
}  // namespace lplex::server
