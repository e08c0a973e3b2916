// lplex-server's configuration: flags, HOCON file, defaults (spec/cloud.md
// §3.1, §4). Every test injects its own search list, so none reads /etc or
// the working directory.
#include "config/boat_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "support/temp_dir.h"

namespace lplex::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class BoatConfigTest : public ::testing::Test {
 protected:
  // Searches only inside the test's directory.
  LoadOptions Options() const {
    LoadOptions o;
    o.search_paths = {dir_.Sub("lplex-server.conf"), dir_.Sub("etc-lplex-server.conf"), dir_.Sub("lplex.conf"),
                      dir_.Sub("etc-lplex.conf")};
    return o;
  }

  std::string Write(const std::string& name, const std::string& text) const {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  // Loads with `text` as the file given by -config, then `args`.
  Result<Loaded<BoatServerConfig>> LoadWithFile(const std::string& text, std::vector<std::string> args = {}) const {
    args.insert(args.begin(), {"-config", Write("test.conf", text)});
    return LoadBoatServerConfig(args, Options());
  }

  Result<Loaded<BoatServerConfig>> LoadFlags(const std::vector<std::string>& args) const {
    return LoadBoatServerConfig(args, Options());
  }

  lplex::testing::TempDir dir_;
};

// --- defaults and precedence -------------------------------------------------

TEST_F(BoatConfigTest, NoConfigFileAnywhereGivesTheDocumentedDefaults) {
  auto r = LoadFlags({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BoatServerConfig& c = r->config;
  EXPECT_EQ(r->report.config_path, "");
  EXPECT_EQ(c.interface, "can0");
  EXPECT_EQ(c.port, 8089);
  EXPECT_EQ(c.max_buffer_duration, minutes(5));
  EXPECT_EQ(c.journal_dir, "");
  EXPECT_EQ(c.journal_prefix, "nmea2k");
  EXPECT_EQ(c.journal_block_size, 262144);
  EXPECT_EQ(c.journal_rotate_duration, hours(1));
  EXPECT_EQ(c.journal_rotate_size, 0u);
  EXPECT_EQ(c.journal_compression, "zstd");
  EXPECT_EQ(c.journal_flush_interval, seconds(60));
  EXPECT_EQ(c.journal_retention_max_age, std::nullopt);
  EXPECT_EQ(c.journal_retention_soft_pct, 80);
  EXPECT_EQ(c.journal_retention_overflow_policy, "delete-unarchived");
  EXPECT_EQ(c.journal_archive_trigger, "");
  EXPECT_EQ(c.journal_archive_s3_part_size, uint64_t{16} << 20);
  EXPECT_TRUE(c.journal_archive_s3_verify_etag);
  EXPECT_EQ(c.bus_silence_timeout, std::nullopt);
  EXPECT_EQ(c.device_idle_timeout, minutes(5));
  EXPECT_EQ(c.replay_speed, 1.0);
  EXPECT_FALSE(c.send_enabled);
  EXPECT_FALSE(c.read_only);
  EXPECT_TRUE(c.sources.empty());
  EXPECT_TRUE(r->report.warnings.empty());
}

TEST_F(BoatConfigTest, FlagBeatsFileBeatsDefault) {
  auto r = LoadWithFile("port = 9000\njournal { prefix = boat }\n", {"-port", "9100"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 9100);
  EXPECT_EQ(r->config.journal_prefix, "boat");
  EXPECT_EQ(r->config.interface, "can0");
  EXPECT_EQ(r->report.OriginOf("port"), Origin::kFlag);
  EXPECT_EQ(r->report.OriginOf("journal-prefix"), Origin::kFile);
  EXPECT_EQ(r->report.OriginOf("interface"), Origin::kDefault);
}

TEST_F(BoatConfigTest, FlagsReplaceAListFromTheFileRatherThanAppend) {
  auto r = LoadWithFile("sources = [\"sim:\", \"socketcan:can1\"]\n", {"-source", "replay:/tmp/a.pcap"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.sources, ElementsAre("replay:/tmp/a.pcap"));
}

// --- flag syntax --------------------------------------------------------------

TEST_F(BoatConfigTest, GoStyleSingleDashFlagsAccepted) {
  auto r = LoadFlags({"-port", "8090", "-journal-dir=/srv/journal", "-read-only", "-send-enabled=true"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 8090);
  EXPECT_EQ(r->config.journal_dir, "/srv/journal");
  EXPECT_TRUE(r->config.read_only);
  EXPECT_TRUE(r->config.send_enabled);
}

TEST_F(BoatConfigTest, GnuStyleDoubleDashFlagsAccepted) {
  auto r = LoadFlags({"--port", "8091", "--journal-prefix=yacht", "--read-only"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 8091);
  EXPECT_EQ(r->config.journal_prefix, "yacht");
  EXPECT_TRUE(r->config.read_only);
}

TEST_F(BoatConfigTest, BoolFlagTakesAValueOnlyAfterEquals) {
  // As in Go: "-read-only false" leaves "false" as a stray argument.
  auto stray = LoadFlags({"-read-only", "false"});
  ASSERT_FALSE(stray.ok());
  EXPECT_THAT(stray.status().message(), HasSubstr("unexpected argument \"false\""));
  auto r = LoadFlags({"-read-only=false"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->config.read_only);
}

TEST_F(BoatConfigTest, UnknownFlagIsRefusedByName) {
  auto r = LoadFlags({"-prot", "8089"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unknown flag -prot"));
}

TEST_F(BoatConfigTest, FlagAtTheEndWithoutValueIsRefused) {
  auto r = LoadFlags({"-port"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -port needs a value (valid: a whole number in 0..65535)"));
}

TEST_F(BoatConfigTest, SourceFlagIsRepeatable) {
  auto r = LoadFlags({"-source", "sim:", "--source=ydraw+tcp://192.168.4.1:1457", "-source", "replay:/x.pcap"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.sources, ElementsAre("sim:", "ydraw+tcp://192.168.4.1:1457", "replay:/x.pcap"));
}

TEST_F(BoatConfigTest, InterfacesFlagIsSplitOnCommas) {
  auto r = LoadFlags({"-interfaces", "can0, can1,,"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.interfaces, ElementsAre("can0", "can1"));
}

TEST_F(BoatConfigTest, EmptyOptionalDurationFlagTurnsTheFeatureOff) {
  auto r = LoadFlags({"-journal-rotate-duration="});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, std::nullopt);
}

TEST_F(BoatConfigTest, ReplaySpeedAcceptsFractionsAndZero) {
  auto half = LoadFlags({"-replay-speed", "0.5"});
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ(half->config.replay_speed, 0.5);
  auto fast = LoadFlags({"-replay-speed=0"});
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->config.replay_speed, 0.0);
  auto negative = LoadFlags({"-replay-speed=-1"});
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("flag -replay-speed: \"-1\" is not valid"));
}

// --- value forms in the file (spec/cloud.md §4.3, §4.6) ----------------------

TEST_F(BoatConfigTest, UnquotedPathInHoconComesOutIntact) {
  auto r = LoadWithFile("journal {\n  dir = /var/log/lplex\n}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_dir, "/var/log/lplex");
}

TEST_F(BoatConfigTest, QuotedPathInHoconComesOutUnquoted) {
  auto r = LoadWithFile("journal.dir = \"/data/lplex\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_dir, "/data/lplex");
}

TEST_F(BoatConfigTest, QuotedHostPortComesOutUnquoted) {
  auto r = LoadWithFile("replication { target = \"lplex.example.com:9443\", instance-id = boat-1 }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.replication_target, "lplex.example.com:9443");
  EXPECT_EQ(r->config.replication_instance_id, "boat-1");
}

TEST_F(BoatConfigTest, HyphenatedEnumValuesInHoconComeOutIntact) {
  auto r = LoadWithFile(
      "journal.retention.overflow-policy = pause-recording\n"
      "journal.archive.trigger = on-rotate\n"
      "journal.compression = zstd-dict\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_retention_overflow_policy, "pause-recording");
  EXPECT_EQ(r->config.journal_archive_trigger, "on-rotate");
  EXPECT_EQ(r->config.journal_compression, "zstd-dict");
}

TEST_F(BoatConfigTest, QuotedUrlInHoconComesOutUnquoted) {
  auto r = LoadWithFile("journal.archive { target = \"s3://boat-logs/lplex/\", trigger = on-rotate }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_archive_target, "s3://boat-logs/lplex/");
}

TEST_F(BoatConfigTest, RotateKeysAreNested) {
  auto r = LoadWithFile("journal {\n  rotate {\n    duration = PT2H\n    size = 268435456\n  }\n}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, hours(2));
  EXPECT_EQ(r->config.journal_rotate_size, 268435456u);
  EXPECT_TRUE(r->report.unknown_keys.empty());
}

TEST_F(BoatConfigTest, CloudStyleFlatRotateKeyIsReportedWithTheBoatName) {
  auto r = LoadWithFile("journal { rotate-duration = PT2H }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, hours(1));  // not applied
  ASSERT_EQ(r->report.warnings.size(), 1u);
  EXPECT_THAT(r->report.warnings[0],
              HasSubstr("unknown config key \"journal.rotate-duration\" ignored (did you mean "
                        "\"journal.rotate.duration\"?)"));
}

TEST_F(BoatConfigTest, SixtyFourBitByteCountsAreAccepted) {
  auto r = LoadWithFile("journal.retention.max-size = 10737418240\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_retention_max_size, uint64_t{10737418240});
}

TEST_F(BoatConfigTest, QuotedNumbersAndBooleansInHoconAreAccepted) {
  auto r = LoadWithFile("port = \"8100\"\nsend.enabled = \"true\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 8100);
  EXPECT_TRUE(r->config.send_enabled);
}

TEST_F(BoatConfigTest, CommentsAndCommaSeparatedArraysAreRead) {
  auto r = LoadWithFile(
      "# the boat\n"
      "interfaces = [can0, can1]  # two buses\n"
      "sources = [\n  \"socketcan:can0\"\n  \"sim:\"\n]\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.interfaces, ElementsAre("can0", "can1"));
  EXPECT_THAT(r->config.sources, ElementsAre("socketcan:can0", "sim:"));
}

TEST_F(BoatConfigTest, SubstitutionsInHoconAreResolved) {
  auto r = LoadWithFile("base = /data\njournal.dir = ${base}/journal\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_dir, "/data/journal");
}

TEST_F(BoatConfigTest, NullInHoconMeansTheDefault) {
  auto r = LoadWithFile("journal.prefix = null\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_prefix, "nmea2k");
  EXPECT_EQ(r->report.OriginOf("journal-prefix"), Origin::kDefault);
}

TEST_F(BoatConfigTest, EmptyStringInFileIsAValueNotSkipped) {
  // Unlike the Go reference, which skipped "" and kept the default.
  auto r = LoadWithFile("journal.rotate.duration = \"\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, std::nullopt);
  EXPECT_EQ(r->report.OriginOf("journal-rotate-duration"), Origin::kFile);
}

// --- bad values name the key or flag, the value and what is valid -------------

TEST_F(BoatConfigTest, BadEnumValueNamesKeyValueAndValidSet) {
  auto r = LoadWithFile("journal { compression = lz4 }\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("config key \"journal.compression\" (flag -journal-compression): \"lz4\" is not valid "
                        "(valid: none, zstd, zstd-dict)"));
  EXPECT_THAT(r.status().message(), HasSubstr(dir_.Sub("test.conf")));
}

TEST_F(BoatConfigTest, BadEnumFlagNamesFlagValueAndValidSet) {
  auto r = LoadFlags({"-journal-compression", "lz4"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "flag -journal-compression: \"lz4\" is not valid (valid: none, zstd, zstd-dict)");
}

TEST_F(BoatConfigTest, ByteSizeWithUnitSuffixIsRejected) {
  auto r = LoadWithFile("journal.rotate.size = 512MB\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.rotate.size\" (flag -journal-rotate-size): "
                                              "\"512MB\" is not valid"));
  EXPECT_THAT(r.status().message(), HasSubstr("without a unit suffix"));
}

TEST_F(BoatConfigTest, NegativeByteSizeIsRejected) {
  auto r = LoadFlags({"-journal-retention-max-size=-1"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -journal-retention-max-size: \"-1\" is not valid"));
}

TEST_F(BoatConfigTest, PortOutOfRangeNamesTheRange) {
  auto r = LoadFlags({"-port", "70000"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "flag -port: \"70000\" is not valid (valid: a whole number in 0..65535)");
}

TEST_F(BoatConfigTest, BlockSizeThatIsNotAPowerOfTwoIsRejected) {
  auto r = LoadWithFile("journal.block-size = 100000\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"100000\" is not valid (valid: a whole number in 4096..16777216, "
                                              "a power of two)"));
}

TEST_F(BoatConfigTest, SoftPercentAboveHundredIsRejected) {
  auto r = LoadWithFile("journal.retention.soft-pct = 120\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"120\" is not valid (valid: a whole number in 0..100)"));
}

TEST_F(BoatConfigTest, GoDurationSyntaxIsRejectedWithIsoExamples) {
  // lplex HEAD's example wrote `device { idle-timeout = 5m }`; ours is ISO 8601.
  auto r = LoadWithFile("device { idle-timeout = 5m }\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"device.idle-timeout\" (flag -device-idle-timeout): "
                                              "invalid ISO 8601 duration \"5m\""));
  EXPECT_THAT(r.status().message(), HasSubstr("PT5M"));
}

TEST_F(BoatConfigTest, FractionalDurationIsRejected) {
  auto r = LoadFlags({"-bus-silence-timeout", "PT0.5S"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -bus-silence-timeout: invalid ISO 8601 duration \"PT0.5S\""));
}

TEST_F(BoatConfigTest, BadBoolInFileNamesValidSpellings) {
  auto r = LoadWithFile("send.enabled = yes-please\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"yes-please\" is not valid (valid: true, false)"));
}

TEST_F(BoatConfigTest, ListGivenForASingleValueKeyIsRejected) {
  auto r = LoadWithFile("port = [8089, 8090]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"port\" (flag -port): expected a single value, got a list"));
}

TEST_F(BoatConfigTest, ArchiveTargetWithUnknownSchemeIsRejected) {
  auto r = LoadFlags({"-journal-archive-target", "ftp://host/dir"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -journal-archive-target: \"ftp://host/dir\" is not valid "
                                              "(valid: s3://BUCKET/PREFIX/ or file:///ABSOLUTE/DIR"));
}

TEST_F(BoatConfigTest, ArchiveTargetWithRelativeFileUrlIsRejected) {
  auto r = LoadWithFile("journal.archive.target = \"file://archive\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.archive.target\""));
  EXPECT_THAT(r.status().message(), HasSubstr("file://archive"));
}

TEST_F(BoatConfigTest, ArchiveTargetAndS3ExtrasAreRead) {
  auto r = LoadWithFile(
      "journal.archive {\n"
      "  target = \"s3://boat-logs/lplex/\"\n"
      "  s3 { endpoint = \"http://127.0.0.1:9000\", region = eu-north-1, part-size = 8388608, verify-etag = false }\n"
      "}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_archive_s3_endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(r->config.journal_archive_s3_region, "eu-north-1");
  EXPECT_EQ(r->config.journal_archive_s3_part_size, 8388608u);
  EXPECT_FALSE(r->config.journal_archive_s3_verify_etag);
}

TEST_F(BoatConfigTest, S3PartSizeBelowFiveMebibytesIsRejected) {
  auto r = LoadFlags({"-journal-archive-s3-part-size", "1048576"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"1048576\" is not valid (valid: a whole number of bytes in "
                                              "5242880..5368709120"));
}

TEST_F(BoatConfigTest, ArchiveCommandAndTargetTogetherAreRejected) {
  auto r = LoadWithFile("journal.archive.command = /usr/local/bin/up.sh\n",
                        {"-journal-archive-target", "file:///srv/archive"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.archive.command\" (flag -journal-archive-command) "
                                              "and flag -journal-archive-target are both set"));
}

TEST_F(BoatConfigTest, ApiKeyAndApiKeyFileTogetherAreRejected) {
  auto r = LoadFlags({"-api-key", "s3cret", "-api-key-file", "/etc/lplex/key"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -api-key and flag -api-key-file are both set"));
}

TEST_F(BoatConfigTest, BadReplicationInstanceIdIsRejected) {
  auto r = LoadFlags({"-replication-instance-id", "../evil"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -replication-instance-id: instance id \"../evil\" is not valid"));
}

// -replication-target: HOST:PORT, checked when read (gRPC would silently
// take port 99999 as 34463, and retry "garbage" forever as a DNS failure).

TEST_F(BoatConfigTest, ReplicationTargetPortAbove65535IsRefusedNotWrappedAround) {
  auto r = LoadFlags({"-replication-target", "127.0.0.1:99999"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -replication-target: \"127.0.0.1:99999\" is not valid"));
  EXPECT_THAT(r.status().message(), HasSubstr("port 99999 is out of range"));
  EXPECT_THAT(r.status().message(), HasSubstr("HOST:PORT with PORT 1..65535"));
  EXPECT_THAT(r.status().message(), HasSubstr("IPv6 as [addr]:port"));
}

TEST_F(BoatConfigTest, ReplicationTargetWithoutPortIsRefused) {
  auto r = LoadFlags({"-replication-target", "garbage"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -replication-target: \"garbage\" is not valid: no :PORT"));
  EXPECT_THAT(r.status().message(), HasSubstr("HOST:PORT with PORT 1..65535"));
}

TEST_F(BoatConfigTest, ReplicationTargetWithSpaceOrNonNumericPortIsRefused) {
  auto r = LoadFlags({"-replication-target", "a b:c"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"a b:c\" is not valid: port \"c\" is not a number"));
  auto spaced = LoadFlags({"-replication-target", "a b:9443"});
  ASSERT_FALSE(spaced.ok());
  EXPECT_THAT(spaced.status().message(), HasSubstr("host \"a b\" is not a host name or IP address"));
}

TEST_F(BoatConfigTest, ReplicationTargetPortZeroOrMissingHostIsRefused) {
  auto zero = LoadFlags({"-replication-target", "cloud:0"});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("port 0 is out of range"));
  auto hostless = LoadFlags({"-replication-target", ":9443"});
  ASSERT_FALSE(hostless.ok());
  EXPECT_THAT(hostless.status().message(), HasSubstr("no HOST before the ':'"));
}

TEST_F(BoatConfigTest, ReplicationTargetBareIpv6IsRefusedAskingForBrackets) {
  auto r = LoadFlags({"-replication-target", "::1:9443"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("an IPv6 address goes in brackets"));
}

TEST_F(BoatConfigTest, ReplicationTargetAcceptsHostNameIpv4AndBracketedIpv6) {
  for (const char* target : {"lplex.example.com:9443", "10.0.0.2:1", "localhost:65535", "[::1]:9443",
                             "[fe80::1%eth0]:9443"}) {
    auto r = LoadFlags({"-replication-target", target});
    ASSERT_TRUE(r.ok()) << target << ": " << r.status().ToString();
    EXPECT_EQ(r->config.replication_target, target);
  }
}

TEST_F(BoatConfigTest, BadReplicationTargetInFileNamesTheKeyAndFile) {
  auto r = LoadWithFile("replication.target = \"cloud:99999\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("config key \"replication.target\" (flag -replication-target): \"cloud:99999\" is not valid"));
  EXPECT_THAT(r.status().message(), HasSubstr("test.conf"));
}

// --- send.rules (spec/cloud.md §4.5) ------------------------------------------

TEST_F(BoatConfigTest, SendRulesObjectsBecomeDsl) {
  auto r = LoadWithFile(
      "send {\n"
      "  enabled = true\n"
      "  rules = [\n"
      "    \"pgn:59904\"\n"
      "    { deny = true, pgn = \"65280-65535\" }\n"
      "    { pgn = 126208, name = \"00a1b2c3d4e5f601\" }\n"
      "    { name = [\"00000000000000a1\", \"00000000000000b2\"] }\n"
      "    { deny = true }\n"
      "  ]\n"
      "}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->config.send_enabled);
  EXPECT_THAT(r->config.send_rules,
              ElementsAre("pgn:59904", "! pgn:65280-65535", "pgn:126208 name:00a1b2c3d4e5f601",
                          "name:00000000000000a1,00000000000000b2", "!"));
}

TEST_F(BoatConfigTest, SendRulesFlagIsSplitOnSemicolonsTrimmedAndBlanksDropped) {
  auto r = LoadFlags({"-send-rules", " pgn:59904 ;; ! pgn:65280-65535 ; "});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.send_rules, ElementsAre("pgn:59904", "! pgn:65280-65535"));
}

TEST_F(BoatConfigTest, SendRulesAsOneStringInFileIsSplitLikeTheFlag) {
  auto r = LoadWithFile("send.rules = \"pgn:59904; !\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.send_rules, ElementsAre("pgn:59904", "!"));
}

TEST_F(BoatConfigTest, SendRulesElementThatIsANumberIsRejected) {
  auto r = LoadWithFile("send.rules = [\"pgn:59904\", 42]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("send.rules[1]: expected string or object, got a number"));
}

TEST_F(BoatConfigTest, SendRulesObjectWithoutDenyPgnOrNameIsRejected) {
  auto r = LoadWithFile("send.rules = [{ deny = false }]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("send.rules[0]: a rule object needs deny = true, pgn or name"));
}

TEST_F(BoatConfigTest, SendRulesObjectWithUnknownFieldIsRejectedNotIgnored) {
  // Dropping "dst" silently would turn a narrow allow into a broad one.
  auto r = LoadWithFile("send.rules = [{ pgn = 59904, dst = 12 }]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("send.rules[0]: unknown field \"dst\" (valid: deny, pgn, name)"));
}

// --- unknown keys ---------------------------------------------------------------

TEST_F(BoatConfigTest, UnknownKeysAreReportedNotFatal) {
  auto r = LoadWithFile("port = 8100\nfoo = 1\nhttp { listen = \":8080\" }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 8100);
  EXPECT_THAT(r->report.unknown_keys, ElementsAre("foo", "http.listen"));
  ASSERT_EQ(r->report.warnings.size(), 2u);
  EXPECT_THAT(r->report.warnings[0], HasSubstr("unknown config key \"foo\" ignored"));
  EXPECT_THAT(r->report.warnings[0], HasSubstr(dir_.Sub("test.conf")));
}

// "journal = /var/lib/lplex" used to be an ignored unknown key: journaling
// silently off while -validate-config passed.
TEST_F(BoatConfigTest, ScalarWhereABlockBelongsIsAnErrorNamingTheBlockKeys) {
  auto r = LoadWithFile("journal.rotate = PT1H\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.rotate\": expected a block (keys: duration, size), got a single value"));
  r = LoadWithFile("journal = 5\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal\": expected a block"));
  EXPECT_THAT(r.status().message(), HasSubstr(dir_.Sub("test.conf")));
}

// PT0S rotated never (the log said "every 0s") and flushed never.
TEST_F(BoatConfigTest, ZeroRotateDurationOrFlushIntervalIsRefusedSayingWhatIsValid) {
  auto r = LoadFlags({"-journal-rotate-duration", "PT0S"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -journal-rotate-duration: PT0S is not valid (valid: at least PT1S; \"\" = never)"));
  r = LoadWithFile("journal.flush-interval = PT0S\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("PT0S is not valid (valid: at least PT1S)"));
}

TEST_F(BoatConfigTest, UnknownKeyOneTypoAwaySuggestsTheKey) {
  auto r = LoadWithFile("prot = 8100\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->report.warnings.size(), 1u);
  EXPECT_THAT(r->report.warnings[0], HasSubstr("unknown config key \"prot\" ignored (did you mean \"port\"?)"));
  r = LoadWithFile("zzzzzz = 1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->report.warnings[0], ::testing::Not(HasSubstr("did you mean")));
}

// The flag and the URI option (replay:...?speed=) take one range.
TEST_F(BoatConfigTest, ReplaySpeedAboveTheUriOptionsRangeIsRefused) {
  auto r = LoadFlags({"-replay-speed", "5000"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("0..1000"));
  EXPECT_TRUE(LoadFlags({"-replay-speed", "1000"}).ok());
}

TEST_F(BoatConfigTest, BlockWhereAValueBelongsIsAnError) {
  auto r = LoadWithFile("journal { dir { a = 1 } }\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.dir\": expected a single value, got a block"));
}

// --- discovery (spec/cloud.md §4.1) ---------------------------------------------

TEST_F(BoatConfigTest, ConfigPathThatIsADirectoryIsRefused) {
  std::filesystem::create_directory(dir_.Sub("conf.d"));
  auto r = LoadFlags({"-config", dir_.Sub("conf.d")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "config path is a directory: " + dir_.Sub("conf.d"));
}

TEST_F(BoatConfigTest, ConfigPathThatDoesNotExistIsRefused) {
  auto r = LoadFlags({"-config", dir_.Sub("missing.conf")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "config file not found: " + dir_.Sub("missing.conf"));
}

TEST_F(BoatConfigTest, ExplicitConfigBeatsDiscoveredFiles) {
  Write("lplex-server.conf", "port = 1111\n");
  auto r = LoadWithFile("port = 2222\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 2222);
  EXPECT_EQ(r->report.config_path, dir_.Sub("test.conf"));
}

TEST_F(BoatConfigTest, DiscoveryPrefersLplexServerConfOverLplexConf) {
  Write("lplex.conf", "port = 1111\n");
  Write("etc-lplex-server.conf", "port = 2222\n");
  auto r = LoadFlags({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 2222);
  EXPECT_EQ(r->report.config_path, dir_.Sub("etc-lplex-server.conf"));
}

TEST_F(BoatConfigTest, DiscoveryFallsBackToLplexConf) {
  Write("etc-lplex.conf", "port = 3333\n");
  auto r = LoadFlags({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 3333);
}

TEST_F(BoatConfigTest, DiscoverySkipsADirectoryNamedLikeAConfigFile) {
  std::filesystem::create_directory(dir_.Sub("lplex-server.conf"));
  Write("lplex.conf", "port = 4444\n");
  auto r = LoadFlags({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 4444);
}

TEST_F(BoatConfigTest, DefaultSearchListIsTheDocumentedOrder) {
  EXPECT_THAT(BoatServerConfigSearchPaths(), ElementsAre("./lplex-server.conf", "/etc/lplex/lplex-server.conf",
                                                         "./lplex.conf", "/etc/lplex/lplex.conf"));
}

TEST_F(BoatConfigTest, MalformedHoconNamesTheFile) {
  auto r = LoadWithFile("journal { dir = /x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(dir_.Sub("test.conf") + ": invalid HOCON"));
}

TEST_F(BoatConfigTest, UnquotedColonInHoconIsASyntaxErrorNotAMangledValue) {
  auto r = LoadWithFile("replication.target = lplex.example.com:9443\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("invalid HOCON"));
}

TEST_F(BoatConfigTest, VersionFlagDoesNotReadABrokenConfigFile) {
  Write("lplex-server.conf", "journal { compression = lz4 \n");
  auto r = LoadFlags({"-version"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->config.show_version);
  EXPECT_EQ(r->report.config_path, "");
}

// --- -validate-config ---------------------------------------------------------------

TEST_F(BoatConfigTest, ValidateConfigShowsEachValueAndWhereItCameFrom) {
  auto r = LoadWithFile("journal.dir = /var/log/lplex\n", {"-port=9100", "-validate-config"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->config.validate_config);
  const std::string text = DescribeEffectiveConfig(r->report);
  EXPECT_THAT(text, HasSubstr("# config file: " + dir_.Sub("test.conf")));
  EXPECT_THAT(text, ::testing::ContainsRegex("\nport = 9100 +# flag -port\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\njournal.dir = \"/var/log/lplex\" +# file\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\ninterface = \"can0\" +# default\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\njournal.rotate.duration = \"PT1H\" +# default\n"));
  EXPECT_THAT(text, Not(HasSubstr("validate-config")));  // command-line-only settings are left out
}

TEST_F(BoatConfigTest, ValidateConfigOutputReadsBackAsTheSameConfig) {
  auto first = LoadWithFile("journal { dir = /var/log/lplex, rotate.size = 1048576 }\nsend.rules = [{deny = true}]\n",
                            {"-source", "sim:", "-replay-speed", "2.5"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = LoadWithFile(DescribeEffectiveConfig(first->report));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // Same values everywhere; only the origins differ (all "file" now).
  ASSERT_EQ(second->report.settings.size(), first->report.settings.size());
  for (size_t i = 0; i < first->report.settings.size(); ++i) {
    EXPECT_EQ(second->report.settings[i].value, first->report.settings[i].value) << first->report.settings[i].key;
  }
  EXPECT_EQ(second->config.sources, first->config.sources);
  EXPECT_EQ(second->config.journal_dir, "/var/log/lplex");
  EXPECT_EQ(second->config.journal_rotate_size, 1048576u);
  EXPECT_EQ(second->config.replay_speed, 2.5);
  EXPECT_EQ(second->config.send_rules, first->config.send_rules);
  EXPECT_TRUE(second->report.warnings.empty());
}

TEST_F(BoatConfigTest, ApiKeyIsNeverPrinted) {
  auto r = LoadFlags({"-api-key", "hunter2-secret"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.api_key, "hunter2-secret");
  const std::string text = DescribeEffectiveConfig(r->report);
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, HasSubstr("api-key = \"<redacted>\""));
}

// --- docs/configuration.md ------------------------------------------------------------

TEST_F(BoatConfigTest, EveryHoconExampleInTheDocsLoadsWithoutWarnings) {
  std::ifstream in(std::string(LPLEX_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md missing";
  std::string line;
  std::string block;
  bool inside = false;
  int examples = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```hocon") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      ++examples;
      auto r = LoadWithFile(block);
      ASSERT_TRUE(r.ok()) << r.status().ToString() << "\nin example:\n" << block;
      EXPECT_TRUE(r->report.warnings.empty()) << r->report.warnings[0];
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_GE(examples, 2);
}

// --- the table itself -----------------------------------------------------------------

TEST_F(BoatConfigTest, NoTwoSettingsShareAFlagOrAKey) {
  std::set<std::string> flags;
  std::set<std::string> keys;
  for (const SettingSpec& s : BoatServerSettings().specs()) {
    EXPECT_TRUE(flags.insert(s.flag).second) << "flag -" << s.flag << " declared twice";
    if (!s.key.empty()) {
      EXPECT_TRUE(keys.insert(s.key).second) << "key " << s.key << " declared twice";
    }
    EXPECT_FALSE(s.help.empty()) << "flag -" << s.flag << " has no help";
  }
}

TEST_F(BoatConfigTest, EverySpecFlagOfCloudSpecSection31Exists) {
  std::set<std::string> flags;
  for (const SettingSpec& s : BoatServerSettings().specs()) flags.insert(s.flag);
  for (const char* f :
       {"interface", "port", "max-buffer-duration", "journal-dir", "journal-prefix", "journal-block-size",
        "journal-rotate-duration", "journal-rotate-size", "journal-compression", "journal-retention-max-age",
        "journal-retention-min-keep", "journal-retention-max-size", "journal-retention-soft-pct",
        "journal-retention-overflow-policy", "journal-archive-command", "journal-archive-trigger",
        "bus-silence-threshold", "bus-silence-timeout", "replication-target", "replication-instance-id",
        "replication-tls-cert", "replication-tls-key", "replication-tls-ca", "send-enabled", "send-rules", "config",
        "version", "source", "interfaces", "replay-speed", "device-idle-timeout", "journal-archive-target",
        "journal-flush-interval", "api-key", "api-key-file", "read-only", "validate-config"}) {
    EXPECT_EQ(flags.count(f), 1u) << "missing flag -" << f;
  }
}

TEST_F(BoatConfigTest, UsageListsEveryFlagWithItsKeyAndDefault) {
  const std::string usage = Usage(BoatServerSettings().specs(), "lplex-server");
  for (const SettingSpec& s : BoatServerSettings().specs()) EXPECT_THAT(usage, HasSubstr("\n  -" + s.flag));
  EXPECT_THAT(usage, HasSubstr("-journal-compression none|zstd|zstd-dict  (default zstd; key journal.compression)"));
}

TEST_F(BoatConfigTest, HelpFlagAndItsShortFormAreRecognised) {
  auto r = LoadFlags({"-h"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->config.show_help);
}

}  // namespace
}  // namespace lplex::config
