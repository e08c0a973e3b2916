// lplex-cloud's configuration: flags, HOCON file, defaults (spec/cloud.md
// §2.5, §2.6, §4, §6.1). Every test injects its own search list, so none
// reads /etc or the working directory.
#include "config/cloud_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "support/temp_dir.h"

namespace lplex::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// TLS is required unless this is given (see CheckCombinations); tests that
// are not about TLS pass it.
const std::string kPlain = "-insecure-plaintext";

class CloudConfigTest : public ::testing::Test {
 protected:
  LoadOptions Options() const {
    LoadOptions o;
    o.search_paths = {dir_.Sub("lplex-cloud.conf"), dir_.Sub("etc-lplex-cloud.conf"), dir_.Sub("etc-lplex.conf")};
    return o;
  }

  std::string Write(const std::string& name, const std::string& text) const {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  // Loads with `text` as the file given by -config, then `args`.
  Result<Loaded<CloudServerConfig>> LoadWithFile(const std::string& text, std::vector<std::string> args = {}) const {
    args.insert(args.begin(), {"-config", Write("test.conf", text)});
    return LoadCloudServerConfig(args, Options());
  }

  Result<Loaded<CloudServerConfig>> LoadFlags(const std::vector<std::string>& args) const {
    return LoadCloudServerConfig(args, Options());
  }

  lplex::testing::TempDir dir_;
};

// --- defaults and precedence -------------------------------------------------

TEST_F(CloudConfigTest, NoConfigFileAnywhereGivesTheDocumentedDefaults) {
  auto r = LoadFlags({kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CloudServerConfig& c = r->config;
  EXPECT_EQ(r->report.config_path, "");
  EXPECT_EQ(c.grpc_listen, ":9443");
  EXPECT_EQ(c.http_listen, ":8080");
  EXPECT_EQ(c.listen, ":443");
  EXPECT_EQ(c.data_dir, "/data/lplex");
  EXPECT_EQ(c.instance_idle_timeout, minutes(5));
  EXPECT_EQ(c.ring_size, 8192);
  EXPECT_EQ(c.device_idle_timeout, minutes(5));
  EXPECT_EQ(c.replication_rate_limit, 2000);
  EXPECT_EQ(c.replication_rate_burst, 500);
  EXPECT_EQ(c.replication_max_live_lag, 10000);
  EXPECT_EQ(c.journal_rotate_duration, hours(1));
  EXPECT_EQ(c.journal_rotate_size, 0u);
  EXPECT_EQ(c.journal_retention_max_age, std::nullopt);
  EXPECT_EQ(c.journal_retention_soft_pct, 80);
  EXPECT_EQ(c.journal_retention_overflow_policy, "delete-unarchived");
  EXPECT_EQ(c.journal_archive_trigger, "");
  EXPECT_EQ(c.journal_archive_timeout, minutes(5));
  EXPECT_EQ(c.journal_archive_upload_parallelism, 4);
  EXPECT_EQ(c.journal_archive_s3_part_size, uint64_t{16} << 20);
  EXPECT_TRUE(c.journal_archive_s3_verify_etag);
  EXPECT_EQ(c.otel_sample_ratio, 1.0);
  EXPECT_TRUE(c.insecure_plaintext);
  EXPECT_TRUE(r->report.warnings.empty());
}

TEST_F(CloudConfigTest, FlagBeatsFileBeatsDefault) {
  auto r = LoadWithFile("grpc.listen = \":9000\"\ndata-dir = /srv/lplex\n", {kPlain, "-grpc-listen", ":9100"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.grpc_listen, ":9100");
  EXPECT_EQ(r->config.data_dir, "/srv/lplex");
  EXPECT_EQ(r->config.http_listen, ":8080");
  EXPECT_EQ(r->report.OriginOf("grpc-listen"), Origin::kFlag);
  EXPECT_EQ(r->report.OriginOf("data-dir"), Origin::kFile);
  EXPECT_EQ(r->report.OriginOf("http-listen"), Origin::kDefault);
}

// --- every flag and its key ----------------------------------------------------

// One non-default value per setting: as typed after the flag, as written in
// the file, as -validate-config renders it, and how it lands in the struct.
struct FlagCase {
  std::string flag;
  std::string value;
  std::string hocon;
  std::string rendered;
  std::function<bool(const CloudServerConfig&)> applied;
};

std::vector<FlagCase> FlagCases() {
  using C = CloudServerConfig;
  return {
      {"grpc-listen", "127.0.0.1:9500", "\"127.0.0.1:9500\"", "\"127.0.0.1:9500\"",
       [](const C& c) { return c.grpc_listen == "127.0.0.1:9500"; }},
      {"http-listen", "[::1]:8081", "\"[::1]:8081\"", "\"[::1]:8081\"",
       [](const C& c) { return c.http_listen == "[::1]:8081"; }},
      {"tls-cert", "/etc/lplex/cloud.pem", "/etc/lplex/cloud.pem", "\"/etc/lplex/cloud.pem\"",
       [](const C& c) { return c.tls_cert == "/etc/lplex/cloud.pem"; }},
      {"tls-key", "/etc/lplex/cloud.key", "/etc/lplex/cloud.key", "\"/etc/lplex/cloud.key\"",
       [](const C& c) { return c.tls_key == "/etc/lplex/cloud.key"; }},
      {"tls-client-ca", "/etc/lplex/boats-ca.pem", "/etc/lplex/boats-ca.pem", "\"/etc/lplex/boats-ca.pem\"",
       [](const C& c) { return c.tls_client_ca == "/etc/lplex/boats-ca.pem"; }},
      {"insecure-plaintext", "true", "true", "true", [](const C& c) { return c.insecure_plaintext; }},
      {"api-key", "s3cret", "s3cret", "\"<redacted>\"", [](const C& c) { return c.api_key == "s3cret"; }},
      {"api-key-file", "/etc/lplex/api-key", "/etc/lplex/api-key", "\"/etc/lplex/api-key\"",
       [](const C& c) { return c.api_key_file == "/etc/lplex/api-key"; }},
      {"data-dir", "/srv/lplex", "/srv/lplex", "\"/srv/lplex\"", [](const C& c) { return c.data_dir == "/srv/lplex"; }},
      {"instance-idle-timeout", "PT10M", "PT10M", "\"PT10M\"",
       [](const C& c) { return c.instance_idle_timeout == minutes(10); }},
      {"ring-size", "131072", "131072", "131072", [](const C& c) { return c.ring_size == 131072; }},
      {"device-idle-timeout", "PT2M", "PT2M", "\"PT2M\"",
       [](const C& c) { return c.device_idle_timeout == minutes(2); }},
      {"replication-rate-limit", "5000", "5000", "5000", [](const C& c) { return c.replication_rate_limit == 5000; }},
      {"replication-rate-burst", "1000", "1000", "1000", [](const C& c) { return c.replication_rate_burst == 1000; }},
      {"replication-max-live-lag", "0", "0", "0", [](const C& c) { return c.replication_max_live_lag == 0; }},
      {"journal-rotate-duration", "PT5S", "PT5S", "\"PT5S\"",
       [](const C& c) { return c.journal_rotate_duration == seconds(5); }},
      {"journal-rotate-size", "268435456", "268435456", "268435456",
       [](const C& c) { return c.journal_rotate_size == 268435456u; }},
      {"journal-retention-max-age", "P7D", "P7D", "\"P7D\"",
       [](const C& c) { return c.journal_retention_max_age == hours(24 * 7); }},
      {"journal-retention-min-keep", "PT24H", "PT24H", "\"P1D\"",
       [](const C& c) { return c.journal_retention_min_keep == hours(24); }},
      {"journal-retention-max-size", "10737418240", "10737418240", "10737418240",
       [](const C& c) { return c.journal_retention_max_size == uint64_t{10737418240}; }},
      {"journal-retention-soft-pct", "90", "90", "90", [](const C& c) { return c.journal_retention_soft_pct == 90; }},
      {"journal-retention-overflow-policy", "pause-recording", "pause-recording", "\"pause-recording\"",
       [](const C& c) { return c.journal_retention_overflow_policy == "pause-recording"; }},
      {"journal-archive-command", "/usr/local/bin/up.sh", "/usr/local/bin/up.sh", "\"/usr/local/bin/up.sh\"",
       [](const C& c) { return c.journal_archive_command == "/usr/local/bin/up.sh"; }},
      {"journal-archive-target", "s3://fleet-logs/lplex/", "\"s3://fleet-logs/lplex/\"", "\"s3://fleet-logs/lplex/\"",
       [](const C& c) { return c.journal_archive_target == "s3://fleet-logs/lplex/"; }},
      {"journal-archive-trigger", "on-rotate", "on-rotate", "\"on-rotate\"",
       [](const C& c) { return c.journal_archive_trigger == "on-rotate"; }},
      {"journal-archive-timeout", "PT10M", "PT10M", "\"PT10M\"",
       [](const C& c) { return c.journal_archive_timeout == minutes(10); }},
      {"journal-archive-upload-parallelism", "16", "16", "16",
       [](const C& c) { return c.journal_archive_upload_parallelism == 16; }},
      {"journal-archive-s3-endpoint", "http://127.0.0.1:5000", "\"http://127.0.0.1:5000\"",
       "\"http://127.0.0.1:5000\"",
       [](const C& c) { return c.journal_archive_s3_endpoint == "http://127.0.0.1:5000"; }},
      {"journal-archive-s3-region", "eu-north-1", "eu-north-1", "\"eu-north-1\"",
       [](const C& c) { return c.journal_archive_s3_region == "eu-north-1"; }},
      {"journal-archive-s3-part-size", "8388608", "8388608", "8388608",
       [](const C& c) { return c.journal_archive_s3_part_size == 8388608u; }},
      {"journal-archive-s3-multipart-threshold", "134217728", "134217728", "134217728",
       [](const C& c) { return c.journal_archive_s3_multipart_threshold == 134217728u; }},
      {"journal-archive-s3-verify-etag", "false", "false", "false",
       [](const C& c) { return !c.journal_archive_s3_verify_etag; }},
      {"otel-sample-ratio", "0.25", "0.25", "0.25", [](const C& c) { return c.otel_sample_ratio == 0.25; }},
  };
}

// Settings whose only valid value is their default (the reference's ACME
// mode, HEAD's OpenTelemetry exporter): each has its own refusal test.
const std::set<std::string> kRefusedUnlessDefault = {"listen", "acme-domain", "acme-email", "otel-endpoint"};

// What else a case needs to load: TLS comes whole or not at all.
std::vector<std::string> Companions(const std::string& flag) {
  if (flag.rfind("tls-", 0) == 0) {
    std::vector<std::string> out;
    for (const char* f : {"tls-cert", "tls-key", "tls-client-ca"}) {
      if (flag != f) out.insert(out.end(), {std::string("-") + f, "/etc/lplex/x.pem"});
    }
    return out;
  }
  if (flag == "insecure-plaintext") return {};
  return {kPlain};
}

TEST_F(CloudConfigTest, EveryFlagParsesAndItsKeyMaps) {
  std::map<std::string, std::string> key_of;
  for (const SettingSpec& s : CloudServerSettings()) key_of[s.flag] = s.key;
  std::set<std::string> covered;
  for (const FlagCase& tc : FlagCases()) {
    SCOPED_TRACE("flag -" + tc.flag);
    ASSERT_EQ(key_of.count(tc.flag), 1u);
    covered.insert(tc.flag);
    const std::string& key = key_of[tc.flag];

    std::vector<std::string> args = Companions(tc.flag);
    args.push_back("-" + tc.flag + "=" + tc.value);
    auto by_flag = LoadFlags(args);
    ASSERT_TRUE(by_flag.ok()) << by_flag.status().ToString();
    EXPECT_TRUE(tc.applied(by_flag->config));
    EXPECT_EQ(by_flag->report.OriginOf(tc.flag), Origin::kFlag);

    auto by_file = LoadWithFile(key + " = " + tc.hocon + "\n", Companions(tc.flag));
    ASSERT_TRUE(by_file.ok()) << by_file.status().ToString();
    EXPECT_TRUE(tc.applied(by_file->config));
    EXPECT_EQ(by_file->report.OriginOf(tc.flag), Origin::kFile);
    EXPECT_TRUE(by_file->report.warnings.empty()) << by_file->report.warnings[0];
    EXPECT_THAT(DescribeEffectiveConfig(by_file->report), HasSubstr("\n" + key + " = " + tc.rendered + " "));
  }
  // A setting added to the table without a case here fails this test.
  for (const SettingSpec& s : CloudServerSettings()) {
    if (s.key.empty() || kRefusedUnlessDefault.count(s.flag) != 0) continue;
    EXPECT_EQ(covered.count(s.flag), 1u) << "no case for flag -" << s.flag;
  }
}

TEST_F(CloudConfigTest, EveryFlagOfSpecSections25And61AndTheIssueExists) {
  std::set<std::string> flags;
  for (const SettingSpec& s : CloudServerSettings()) flags.insert(s.flag);
  for (const char* f :
       {// §2.5
        "grpc-listen", "http-listen", "listen", "acme-domain", "acme-email", "data-dir", "tls-cert", "tls-key",
        "tls-client-ca", "journal-retention-max-age", "journal-retention-min-keep", "journal-retention-max-size",
        "journal-retention-soft-pct", "journal-retention-overflow-policy", "journal-archive-command",
        "journal-archive-trigger", "journal-rotate-duration", "journal-rotate-size", "config", "version",
        // §6.1
        "replication-rate-limit", "replication-rate-burst", "replication-max-live-lag", "ring-size",
        "device-idle-timeout", "otel-endpoint", "otel-sample-ratio",
        // issue 8
        "journal-archive-target", "insecure-plaintext", "api-key", "api-key-file", "instance-idle-timeout",
        "journal-archive-upload-parallelism", "validate-config", "help"}) {
    EXPECT_EQ(flags.count(f), 1u) << "missing flag -" << f;
  }
}

TEST_F(CloudConfigTest, ReferenceKeysOfSection25MapToTheirFlags) {
  std::map<std::string, std::string> key_of;
  for (const SettingSpec& s : CloudServerSettings()) key_of[s.flag] = s.key;
  EXPECT_EQ(key_of["grpc-listen"], "grpc.listen");
  EXPECT_EQ(key_of["http-listen"], "http.listen");
  EXPECT_EQ(key_of["listen"], "listen");
  EXPECT_EQ(key_of["acme-domain"], "acme.domain");
  EXPECT_EQ(key_of["tls-cert"], "grpc.tls.cert");
  EXPECT_EQ(key_of["tls-client-ca"], "grpc.tls.client-ca");
  EXPECT_EQ(key_of["journal-rotate-duration"], "journal.rotate-duration");
  EXPECT_EQ(key_of["journal-rotate-size"], "journal.rotate-size");
  EXPECT_EQ(key_of["replication-rate-limit"], "replication.rate-limit");
  EXPECT_EQ(key_of["ring-size"], "ring-size");
  EXPECT_EQ(key_of["device-idle-timeout"], "device.idle-timeout");
}

// --- the two keys of -tls-client-ca (spec §2.5) --------------------------------

TEST_F(CloudConfigTest, TlsClientCaGivenUnderBothKeysWithDifferentValuesIsAnError) {
  // The Go reference let its random map order pick one.
  auto r = LoadWithFile(
      "grpc.tls { cert = /c.pem, key = /k.pem, client-ca = /a.pem }\n"
      "tls.client-ca = /b.pem\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(dir_.Sub("test.conf") + ": config keys \"grpc.tls.client-ca\" = \"/a.pem\" and "
                                                 "\"tls.client-ca\" = \"/b.pem\" both set flag -tls-client-ca, to "
                                                 "different values"));
}

TEST_F(CloudConfigTest, TlsClientCaUnderBothKeysWithTheSameValueIsAccepted) {
  auto r = LoadWithFile(
      "grpc.tls { cert = /c.pem, key = /k.pem, client-ca = /a.pem }\n"
      "tls.client-ca = \"/a.pem\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.tls_client_ca, "/a.pem");
}

TEST_F(CloudConfigTest, TlsClientCaUnderTheTopLevelKeyAloneIsRead) {
  auto r = LoadWithFile("grpc.tls { cert = /c.pem, key = /k.pem }\ntls { client-ca = /ca.pem }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.tls_client_ca, "/ca.pem");
  EXPECT_EQ(r->report.OriginOf("tls-client-ca"), Origin::kFile);
  EXPECT_TRUE(r->report.warnings.empty());
  // -validate-config prints it once, under the main key.
  const std::string text = DescribeEffectiveConfig(r->report);
  EXPECT_THAT(text, ContainsRegex("\ngrpc.tls.client-ca = \"/ca.pem\" +# file\n"));
  EXPECT_THAT(text, Not(HasSubstr("\ntls.client-ca")));
}

TEST_F(CloudConfigTest, TlsClientCaFlagBeatsBothKeys) {
  auto r = LoadWithFile("grpc.tls { cert = /c.pem, key = /k.pem }\ntls.client-ca = /b.pem\n",
                        {"-tls-client-ca", "/flag.pem"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.tls_client_ca, "/flag.pem");
  EXPECT_EQ(r->report.OriginOf("tls-client-ca"), Origin::kFlag);
}

// --- rotation keys: flat (reference) and nested (the boat's) -------------------

TEST_F(CloudConfigTest, FlatRotateKeysOfTheReferenceAreRead) {
  auto r = LoadWithFile("journal { rotate-duration = PT5S, rotate-size = 1048576 }\n", {kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, seconds(5));
  EXPECT_EQ(r->config.journal_rotate_size, 1048576u);
  EXPECT_TRUE(r->report.warnings.empty());
}

TEST_F(CloudConfigTest, NestedRotateKeysOfTheBoatAreReadToo) {
  auto r = LoadWithFile("journal { rotate { duration = PT2H, size = 268435456 } }\n", {kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.journal_rotate_duration, hours(2));
  EXPECT_EQ(r->config.journal_rotate_size, 268435456u);
  EXPECT_EQ(r->report.OriginOf("journal-rotate-duration"), Origin::kFile);
  EXPECT_TRUE(r->report.warnings.empty());
  EXPECT_THAT(DescribeEffectiveConfig(r->report), ContainsRegex("\njournal.rotate-duration = \"PT2H\" +# file\n"));
}

TEST_F(CloudConfigTest, FlatAndNestedRotateKeysWithDifferentValuesAreAnError) {
  auto r = LoadWithFile("journal.rotate-size = 1048576\njournal.rotate.size = 2097152\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config keys \"journal.rotate-size\" = 1048576 and "
                                              "\"journal.rotate.size\" = 2097152 both set flag -journal-rotate-size"));
  // The same duration spelled two ways is the same value.
  auto same = LoadWithFile("journal.rotate-duration = PT60M\njournal.rotate.duration = PT1H\n", {kPlain});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
}

TEST_F(CloudConfigTest, BadValueUnderAnAliasKeyNamesThatKeyAndTheFlag) {
  auto r = LoadWithFile("journal.rotate.duration = PT0S\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("config key \"journal.rotate.duration\" (flag -journal-rotate-duration): PT0S is not valid"));
}

// --- TLS and plaintext -----------------------------------------------------------

TEST_F(CloudConfigTest, InsecurePlaintextWithTlsCertIsAnError) {
  auto r = LoadWithFile("grpc.tls.cert = /c.pem\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "flag -insecure-plaintext and config key \"grpc.tls.cert\" (flag -tls-cert) are both set (valid: TLS "
            "files, or -insecure-plaintext for tests and trusted networks; not both)");
}

TEST_F(CloudConfigTest, TlsGivenOnlyInPartNamesWhatIsMissing) {
  auto r = LoadFlags({"-tls-cert", "/c.pem"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -tls-cert is set but -tls-key (key grpc.tls.key) and "
                                              "-tls-client-ca (key grpc.tls.client-ca) are not"));
}

TEST_F(CloudConfigTest, NoTlsAndNoInsecurePlaintextIsRefused) {
  // The reference fell back to plaintext with the instance named by a header.
  auto r = LoadFlags({});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("the replication listener has no TLS"));
  EXPECT_THAT(r.status().message(), HasSubstr("-insecure-plaintext"));
}

TEST_F(CloudConfigTest, FullTlsLoadsWithoutPlaintext) {
  auto r = LoadFlags({"-tls-cert", "/c.pem", "-tls-key", "/k.pem", "-tls-client-ca", "/ca.pem"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->config.insecure_plaintext);
}

TEST_F(CloudConfigTest, VersionAndHelpNeedNoTlsAndReadNoBrokenFile) {
  Write("lplex-cloud.conf", "grpc { listen = \n");
  auto v = LoadFlags({"-version"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->config.show_version);
  auto h = LoadFlags({"-h"});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(h->config.show_help);
}

// --- ACME and other modes not built ------------------------------------------------

TEST_F(CloudConfigTest, AcmeDomainIsRefusedSayingToUseCertbot) {
  auto r = LoadFlags({kPlain, "-acme-domain", "lplex.example.com"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -acme-domain: \"lplex.example.com\" is not valid: ACME is not "
                                              "supported; terminate TLS with certificates from certbot"));
  auto f = LoadWithFile("acme { email = \"ops@example.com\" }\n", {kPlain});
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("config key \"acme.email\" (flag -acme-email)"));
}

TEST_F(CloudConfigTest, AcmeListenFromAReferenceConfigIsRefused) {
  auto r = LoadWithFile("listen = \":8443\"\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"listen\" (flag -listen): \":8443\" is not valid: it is "
                                              "the ACME mode's port, and ACME is not supported"));
  // Its default changes nothing (the reference ignores it without ACME).
  EXPECT_TRUE(LoadWithFile("listen = \":443\"\n", {kPlain}).ok());
}

TEST_F(CloudConfigTest, OtelEndpointIsRefusedButSampleRatioLoads) {
  auto r = LoadFlags({kPlain, "-otel-endpoint", "localhost:4317"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("OpenTelemetry export is not built in"));
  EXPECT_TRUE(LoadFlags({kPlain, "-otel-sample-ratio", "0.5"}).ok());
}

// --- bad values ---------------------------------------------------------------------

TEST_F(CloudConfigTest, BadValueNamesKeyValueAndWhatIsValid) {
  auto r = LoadWithFile("journal.retention { overflow-policy = drop-oldest }\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            dir_.Sub("test.conf") +
                ": config key \"journal.retention.overflow-policy\" (flag -journal-retention-overflow-policy): "
                "\"drop-oldest\" is not valid (valid: delete-unarchived, pause-recording)");
  auto port = LoadFlags({kPlain, "-grpc-listen", "9443"});
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(),
            "flag -grpc-listen: \"9443\" is not valid (valid: [HOST]:PORT such as :9443, 0.0.0.0:9443 or "
            "[::1]:9443; PORT 0..65535)");
  EXPECT_FALSE(LoadFlags({kPlain, "-http-listen", ":70000"}).ok());
  EXPECT_FALSE(LoadFlags({kPlain, "-http-listen", "::1:8080"}).ok());
  EXPECT_TRUE(LoadFlags({kPlain, "-http-listen", "localhost:0"}).ok());
}

TEST_F(CloudConfigTest, RingSizeThatIsNotAPowerOfTwoIsRefused) {
  auto r = LoadFlags({kPlain, "-ring-size", "100000"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "flag -ring-size: \"100000\" is not valid (valid: a whole number in 1..16777216, a power of two)");
}

TEST_F(CloudConfigTest, RateLimitZeroIsRefusedBecauseHeadReadItAsTheDefault) {
  auto r = LoadWithFile("replication.rate-limit = 0\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"replication.rate-limit\" (flag -replication-rate-limit): "
                                              "\"0\" is not valid (valid: 1..1000000 frames per second; lplex HEAD "
                                              "read 0 as the default"));
}

TEST_F(CloudConfigTest, ZeroInstanceIdleTimeoutIsRefused) {
  auto r = LoadFlags({kPlain, "-instance-idle-timeout", "PT0S"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "flag -instance-idle-timeout: PT0S is not valid (valid: at least PT1S)");
}

TEST_F(CloudConfigTest, EmptyDataDirIsRefused) {
  auto r = LoadWithFile("data-dir = \"\"\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"data-dir\" (flag -data-dir): \"\" is not valid"));
}

TEST_F(CloudConfigTest, GoDurationFromHeadIsRefusedWithItsIsoForm) {
  // lplex HEAD's example wrote `device { idle-timeout = 5m }`.
  auto r = LoadWithFile("device { idle-timeout = 5m }\n", {kPlain});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"device.idle-timeout\" (flag -device-idle-timeout): "
                                              "invalid ISO 8601 duration \"5m\""));
  EXPECT_THAT(r.status().message(), HasSubstr("(Go syntax \"5m\" is PT5M in ISO 8601)"));
  auto f = LoadFlags({kPlain, "-journal-rotate-duration", "1h30m"});
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("(Go syntax \"1h30m\" is PT1H30M in ISO 8601)"));
  // Not every bad duration is Go syntax; those get no translation.
  auto g = LoadFlags({kPlain, "-instance-idle-timeout", "soon"});
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.status().message(), Not(HasSubstr("Go syntax")));
}

TEST_F(CloudConfigTest, ArchiveTargetWithUnknownSchemeIsRefused) {
  auto r = LoadFlags({kPlain, "-journal-archive-target", "gs://bucket/"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -journal-archive-target: \"gs://bucket/\" is not valid (valid: "
                                              "s3://BUCKET/PREFIX/ or file:///ABSOLUTE/DIR"));
}

TEST_F(CloudConfigTest, ArchiveCommandAndTargetTogetherAreRefused) {
  auto r = LoadWithFile("journal.archive.command = /usr/local/bin/up.sh\n",
                        {kPlain, "-journal-archive-target", "file:///srv/archive"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("config key \"journal.archive.command\" (flag -journal-archive-command) "
                                              "and flag -journal-archive-target are both set"));
}

TEST_F(CloudConfigTest, ApiKeyAndApiKeyFileTogetherAreRefused) {
  auto r = LoadFlags({kPlain, "-api-key", "s3cret", "-api-key-file", "/etc/lplex/key"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("flag -api-key and flag -api-key-file are both set"));
}

TEST_F(CloudConfigTest, UploadParallelismOutOfRangeIsRefused) {
  auto r = LoadFlags({kPlain, "-journal-archive-upload-parallelism", "0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"0\" is not valid (valid: a whole number in 1..64)"));
}

// --- unknown keys ---------------------------------------------------------------------

TEST_F(CloudConfigTest, UnknownKeyIsWarnedWithASuggestion) {
  auto r = LoadWithFile("grpc.listne = \":9443\"\nzzzzzz = 1\n", {kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->report.unknown_keys, ElementsAre("grpc.listne", "zzzzzz"));
  ASSERT_EQ(r->report.warnings.size(), 2u);
  EXPECT_THAT(r->report.warnings[0],
              HasSubstr(dir_.Sub("test.conf") + ": unknown config key \"grpc.listne\" ignored (did you mean "
                                                "\"grpc.listen\"?)"));
  EXPECT_THAT(r->report.warnings[1], Not(HasSubstr("did you mean")));
}

// The typo is why the check fails ("no TLS"): the caller gets the warning
// with the error, to print first.
TEST_F(CloudConfigTest, TypoedKeyWarningComesWithTheErrorItCauses) {
  std::vector<std::string> warnings;
  auto r = LoadCloudServerConfig({"-config", Write("typo.conf", "grpc { insecure-plaintxt = true }\n")}, Options(),
                                 &warnings);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("the replication listener has no TLS"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("unknown config key \"grpc.insecure-plaintxt\" ignored (did you mean "
                                     "\"grpc.insecure-plaintext\"?)"));
}

TEST_F(CloudConfigTest, BoatOnlyKeyInTheCloudFileIsWarnedNotApplied) {
  auto r = LoadWithFile("journal { dir = /var/log/lplex }\n", {kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->report.warnings.size(), 1u);
  EXPECT_THAT(r->report.warnings[0], HasSubstr("unknown config key \"journal.dir\" ignored"));
}

// --- discovery (spec/cloud.md §4.1) ---------------------------------------------------------

TEST_F(CloudConfigTest, DefaultSearchListIsTheDocumentedOrderWithoutTheBoatsFile) {
  EXPECT_THAT(CloudServerConfigSearchPaths(),
              ElementsAre("./lplex-cloud.conf", "/etc/lplex-cloud/lplex-cloud.conf", "/etc/lplex/lplex-cloud.conf"));
}

TEST_F(CloudConfigTest, DiscoveryTakesTheFirstExistingFile) {
  Write("etc-lplex.conf", "data-dir = /three\n");
  Write("etc-lplex-cloud.conf", "data-dir = /two\n");
  auto r = LoadFlags({kPlain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.data_dir, "/two");
  EXPECT_EQ(r->report.config_path, dir_.Sub("etc-lplex-cloud.conf"));
}

TEST_F(CloudConfigTest, ConfigFlagThatDoesNotExistIsRefused) {
  auto r = LoadFlags({kPlain, "-config", dir_.Sub("missing.conf")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "config file not found: " + dir_.Sub("missing.conf"));
}

// --- -validate-config --------------------------------------------------------------------

TEST_F(CloudConfigTest, ValidateConfigRendersEveryEffectiveSetting) {
  auto r = LoadWithFile("grpc.tls { cert = /c.pem, key = /k.pem }\ntls.client-ca = /ca.pem\ndata-dir = /srv/lplex\n",
                        {"-grpc-listen=:9500", "-api-key", "hunter2-secret", "-validate-config"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->config.validate_config);
  const std::string text = DescribeEffectiveConfig(r->report);
  // One line per setting with a key, no line for an alias key, none for
  // the command-line-only settings.
  for (const SettingSpec& s : CloudServerSettings()) {
    if (s.key.empty()) {
      EXPECT_THAT(text, Not(HasSubstr(s.flag + " ="))) << s.flag;
      continue;
    }
    EXPECT_THAT(text, ContainsRegex("\n" + s.key + " = ")) << "missing " << s.key;
  }
  for (const KeyAlias& a : CloudServerKeyAliases()) EXPECT_THAT(text, Not(HasSubstr("\n" + a.alias + " = ")));
  EXPECT_THAT(text, HasSubstr("# config file: " + dir_.Sub("test.conf")));
  EXPECT_THAT(text, ContainsRegex("\ngrpc.listen = \":9500\" +# flag -grpc-listen\n"));
  EXPECT_THAT(text, ContainsRegex("\ndata-dir = \"/srv/lplex\" +# file\n"));
  EXPECT_THAT(text, ContainsRegex("\ngrpc.tls.client-ca = \"/ca.pem\" +# file\n"));
  EXPECT_THAT(text, ContainsRegex("\njournal.rotate-duration = \"PT1H\" +# default\n"));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text, HasSubstr("api-key = \"<redacted>\""));

  // The output is itself a config file that loads to the same values.
  auto again = LoadWithFile(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  ASSERT_EQ(again->report.settings.size(), r->report.settings.size());
  for (size_t i = 0; i < r->report.settings.size(); ++i) {
    const std::string& key = r->report.settings[i].key;
    if (key.empty() || key == "api-key") continue;  // command line only; redacted on purpose
    EXPECT_EQ(again->report.settings[i].value, r->report.settings[i].value) << r->report.settings[i].key;
  }
  EXPECT_TRUE(again->report.warnings.empty());
}

// --- the table and docs/configuration-cloud.md ---------------------------------------------

TEST_F(CloudConfigTest, NoTwoSettingsShareAFlagOrAKey) {
  std::set<std::string> flags;
  std::set<std::string> keys;
  for (const SettingSpec& s : CloudServerSettings()) {
    EXPECT_TRUE(flags.insert(s.flag).second) << "flag -" << s.flag << " declared twice";
    if (!s.key.empty()) {
      EXPECT_TRUE(keys.insert(s.key).second) << "key " << s.key << " declared twice";
    }
    EXPECT_FALSE(s.help.empty()) << "flag -" << s.flag << " has no help";
  }
  for (const KeyAlias& a : CloudServerKeyAliases()) {
    EXPECT_EQ(flags.count(a.flag), 1u) << a.alias;
    EXPECT_TRUE(keys.insert(a.alias).second) << "alias " << a.alias << " is also a key";
  }
}

TEST_F(CloudConfigTest, UsageListsEveryFlagOnce) {
  const std::string usage = Usage(CloudServerSettings(), "lplex-cloud");
  for (const SettingSpec& s : CloudServerSettings()) {
    const std::string line = "\n  -" + s.flag + " ";
    const std::string bare = "\n  -" + s.flag + "\n";
    EXPECT_TRUE(usage.find(line) != std::string::npos || usage.find(bare) != std::string::npos) << s.flag;
  }
  EXPECT_THAT(usage, HasSubstr("-grpc-listen string  (default :9443; key grpc.listen)"));
  EXPECT_EQ(usage.find("\n  -tls-client-ca"), usage.rfind("\n  -tls-client-ca"));
}

std::string ReadDocs() {
  std::ifstream in(std::string(LPLEX_SOURCE_DIR) + "/docs/configuration-cloud.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each setting is one row: | `-flag` | `key` | `default` | valid | help |.
TEST_F(CloudConfigTest, DocsListEveryFlagWithItsKeyDefaultAndHelp) {
  const std::string docs = ReadDocs();
  ASSERT_FALSE(docs.empty()) << "docs/configuration-cloud.md missing";
  for (const SettingSpec& s : CloudServerSettings()) {
    const std::string key = s.key.empty() ? "—" : "`" + s.key + "`";
    const std::string def = s.default_text.empty() ? "`\"\"`" : "`" + s.default_text + "`";
    const std::string row = "| `-" + s.flag + "` | " + key + " | " + def + " | ";
    const size_t at = docs.find("\n" + row);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no row starting: " << row << " ... | " << s.help << " |";
      continue;
    }
    const std::string line = docs.substr(at + 1, docs.find('\n', at + 1) - at - 1);
    EXPECT_THAT(line, HasSubstr("| " + s.help + " |")) << "help of -" << s.flag << " differs";
  }
  for (const KeyAlias& a : CloudServerKeyAliases()) EXPECT_THAT(docs, HasSubstr("`" + a.alias + "`"));
}

TEST_F(CloudConfigTest, EveryHoconExampleInTheDocsLoadsWithoutWarnings) {
  std::istringstream in(ReadDocs());
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

}  // namespace
}  // namespace lplex::config
