#include "config/cloud_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/checks.h"

namespace lplex::config {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

// What the table fills: the public struct plus the values of the alias
// keys, which LoadCloudServerConfig merges into their settings. Kept out
// of CloudServerConfig so users see one member per setting.
struct Row : CloudServerConfig {
  std::string alias_tls_client_ca;
  std::optional<std::chrono::seconds> alias_journal_rotate_duration;
  uint64_t alias_journal_rotate_size = 0;
};

// [HOST]:PORT as gRPC and the HTTP server bind it: ":9443" (every
// interface), "0.0.0.0:9443", "localhost:8080", "[::1]:9443".
Status CheckListenAddress(const SettingValue& v) {
  const std::string& a = v.text;
  auto bad = [&a] {
    return Status::InvalidArgument(fmt::format(
        "\"{}\" is not valid (valid: [HOST]:PORT such as :9443, 0.0.0.0:9443 or [::1]:9443; PORT 0..65535)", a));
  };
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) return bad();
  const std::string host = a.substr(0, colon);
  const std::string port = a.substr(colon + 1);
  const bool digits = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (port.empty() || port.size() > 5 || !digits || std::stoi(port) > 65535) {
    return bad();
  }
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
  } else if (host.find_first_of(":[]/ \t") != std::string::npos) {
    return bad();  // a bare IPv6 address needs brackets; no paths or spaces
  }
  return Status::Ok();
}

Status CheckNotEmpty(const SettingValue& v) {
  if (!v.text.empty()) return Status::Ok();
  return Status::InvalidArgument("\"\" is not valid (valid: a directory path)");
}

// The reference's ACME mode (spec/cloud.md §2.6) is not built: the cloud
// does not obtain certificates itself.
constexpr const char* kNoAcme =
    "ACME is not supported; terminate TLS with certificates from certbot (or any ACME client) and give them "
    "with -tls-cert and -tls-key (keys grpc.tls.cert, grpc.tls.key)";

Status CheckNoAcme(const SettingValue& v) {
  if (v.text.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format("\"{}\" is not valid: {} (valid: \"\")", v.text, kNoAcme));
}

// -listen is the port of the ACME mode only (the reference ignores it in
// dual-port mode): its default is harmless, any other value shows that
// someone expects it to do something.
Status CheckAcmeListen(const SettingValue& v) {
  if (v.text == ":443") return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "\"{}\" is not valid: it is the ACME mode's port, and {} (valid: \":443\" or leave it out; replication "
      "listens on -grpc-listen, the HTTP API on -http-listen)",
      v.text, kNoAcme));
}

Status CheckNoOtelEndpoint(const SettingValue& v) {
  if (v.text.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "\"{}\" is not valid: OpenTelemetry export is not built in (valid: \"\"; scrape GET /metrics instead)", v.text));
}

// lplex HEAD read -replication-rate-limit 0 as "the default" (2000), not
// as "no limit"; accepting 0 with either meaning would surprise someone.
Status CheckRateLimit(const SettingValue& v) {
  if (v.integer != 0) return Status::Ok();
  return Status::InvalidArgument(
      "\"0\" is not valid (valid: 1..1000000 frames per second; lplex HEAD read 0 as the default: leave the "
      "setting out for 2000)");
}

struct Alias {
  KeyAlias names;
  std::function<void(Row&)> apply;  // copies the alias value into the setting
};

const std::vector<Alias>& Aliases() {
  static const auto* aliases = new std::vector<Alias>{
      {{"tls-client-ca", "grpc.tls.client-ca", "tls.client-ca"},
       [](Row& r) { r.tls_client_ca = r.alias_tls_client_ca; }},
      {{"journal-rotate-duration", "journal.rotate-duration", "journal.rotate.duration"},
       [](Row& r) { r.journal_rotate_duration = r.alias_journal_rotate_duration; }},
      {{"journal-rotate-size", "journal.rotate-size", "journal.rotate.size"},
       [](Row& r) { r.journal_rotate_size = r.alias_journal_rotate_size; }},
  };
  return *aliases;
}

SettingTable<Row> BuildTable() {
  SettingTable<Row> t;

  // The alias keys come first and carry their setting's flag name: flags
  // are looked up by name with the last declaration winning, so the
  // command line always fills the real setting, and a bad alias value is
  // reported as `config key "tls.client-ca" (flag -tls-client-ca)`.
  // LoadCloudServerConfig takes these rows out of the report.
  t.Add("tls-client-ca", "tls.client-ca", &Row::alias_tls_client_ca).Path().Help("alias of grpc.tls.client-ca");
  t.Add("journal-rotate-duration", "journal.rotate.duration", &Row::alias_journal_rotate_duration)
      .Check(PositiveDuration(/*empty_means_never=*/true))
      .Help("alias of journal.rotate-duration");
  t.Add("journal-rotate-size", "journal.rotate.size", &Row::alias_journal_rotate_size)
      .Help("alias of journal.rotate-size");

  // Network.
  t.Add("grpc-listen", "grpc.listen", &Row::grpc_listen)
      .Default(":9443")
      .Check(CheckListenAddress)
      .Help("Replication (gRPC) listen address, [HOST]:PORT; an empty HOST is every interface.");
  t.Add("http-listen", "http.listen", &Row::http_listen)
      .Default(":8080")
      .Check(CheckListenAddress)
      .Help("HTTP API listen address, [HOST]:PORT (plain HTTP: put a TLS proxy in front for the internet).");
  t.Add("tls-cert", "grpc.tls.cert", &Row::tls_cert)
      .Path()
      .Help("Server certificate chain (PEM) of the replication listener; with -tls-key and -tls-client-ca.");
  t.Add("tls-key", "grpc.tls.key", &Row::tls_key).Path().Help("Private key (PEM) of -tls-cert.");
  t.Add("tls-client-ca", "grpc.tls.client-ca", &Row::tls_client_ca)
      .Path()
      .Help("CA (PEM) that signs the boats' client certificates; a boat is the CN of its certificate. "
            "The key tls.client-ca is read too; both with different values is an error.");
  t.Add("insecure-plaintext", "grpc.insecure-plaintext", &Row::insecure_plaintext)
      .Help("Replication without TLS, the boat named by its handshake: anyone who reaches the port can write "
            "into any instance. For tests and trusted networks only; not with -tls-*.");
  t.Add("listen", "listen", &Row::listen)
      .Default(":443")
      .Check(CheckAcmeListen)
      .Help("The reference's ACME-mode port. ACME is not supported: any other value is refused.");
  t.Add("acme-domain", "acme.domain", &Row::acme_domain)
      .Check(CheckNoAcme)
      .Help("The reference's ACME mode. Not supported: use certbot and -tls-cert/-tls-key.");
  t.Add("acme-email", "acme.email", &Row::acme_email).Check(CheckNoAcme).Help("As acme-domain: refused.");

  // HTTP API.
  t.Add("api-key", "api-key", &Row::api_key)
      .Secret()
      .Help("Require 'Authorization: Bearer KEY' on every HTTP endpoint except the health probes.");
  t.Add("api-key-file", "api-key-file", &Row::api_key_file)
      .Path()
      .Help("As api-key, with the key read from this file (keeps it out of ps and the config file).");

  // Instances.
  t.Add("data-dir", "data-dir", &Row::data_dir)
      .Path()
      .Default("/data/lplex")
      .Check(CheckNotEmpty)
      .Help("Where instances live: {data-dir}/instances/{id}/ (state.json, journal/).");
  t.Add("instance-idle-timeout", "instance.idle-timeout", &Row::instance_idle_timeout)
      .Default("PT5M")
      .Check(PositiveDuration(/*empty_means_never=*/false))
      .Help("Stop the broker and journal of an instance that had no frame this long (its file is finished and "
            "archived); the next frame starts them again.");
  t.Add("ring-size", "ring-size", &Row::ring_size)
      .Default("8192")
      .Range(1, 16777216)
      .PowerOfTwo()
      .Help("Frames in the replica ring of each streaming instance (about 180 bytes each; older frames are read "
            "from its journal).");
  t.Add("device-idle-timeout", "device.idle-timeout", &Row::device_idle_timeout)
      .Default("PT5M")
      .Help("Forget a device silent this long (device_removed event); PT0S = never.");

  // Replication limits.
  t.Add("replication-rate-limit", "replication.rate-limit", &Row::replication_rate_limit)
      .Default("2000")
      .Range(0, 1000000)
      .Check(CheckRateLimit)
      .Help("Frames per second one Live stream may send (token bucket); over it the stream ends with "
            "RESOURCE_EXHAUSTED.");
  t.Add("replication-rate-burst", "replication.rate-burst", &Row::replication_rate_burst)
      .Default("500")
      .Range(1, 1000000)
      .Help("Frames a Live stream may send at once above the rate (the bucket's size).");
  t.Add("replication-max-live-lag", "replication.max-live-lag", &Row::replication_max_live_lag)
      .Default("10000")
      .Range(0, std::numeric_limits<int64_t>::max())
      .Help("End a Live stream whose boat head is more than this many seqs ahead of what it delivered (the "
            "gap becomes a hole); 0 = no check.");

  // Live journals.
  t.Add("journal-rotate-duration", "journal.rotate-duration", &Row::journal_rotate_duration)
      .Default("PT1H")
      .Check(PositiveDuration(/*empty_means_never=*/true))
      .Help("Start a new live journal file after this long; \"\" = no time rotation. "
            "The key journal.rotate.duration is read too.");
  t.Add("journal-rotate-size", "journal.rotate-size", &Row::journal_rotate_size)
      .Help("Start a new live journal file at this many bytes; 0 = no size rotation. "
            "The key journal.rotate.size is read too.");

  // Retention.
  t.Add("journal-retention-max-age", "journal.retention.max-age", &Row::journal_retention_max_age)
      .Help("Delete (or archive, then delete) journal files older than this; \"\" = no age limit.");
  t.Add("journal-retention-min-keep", "journal.retention.min-keep", &Row::journal_retention_min_keep)
      .Help("Never expire by age files younger than this; \"\" = none.");
  t.Add("journal-retention-max-size", "journal.retention.max-size", &Row::journal_retention_max_size)
      .Help("Cap of each instance's journal directory in bytes; 0 = no cap.");
  t.Add("journal-retention-soft-pct", "journal.retention.soft-pct", &Row::journal_retention_soft_pct)
      .Default("80")
      .Range(0, 100)
      .Help("Above this percentage of max-size, archive early (0 = no soft zone).");
  t.Add("journal-retention-overflow-policy", "journal.retention.overflow-policy",
        &Row::journal_retention_overflow_policy)
      .Default("delete-unarchived")
      .Choices({"delete-unarchived", "pause-recording"})
      .Help("Over max-size with files not yet archived: delete them, or pause that instance's recording.");

  // Archive.
  t.Add("journal-archive-command", "journal.archive.command", &Row::journal_archive_command)
      .Path()
      .Help("Archive script (JSONL protocol, instance_id per file); not together with journal-archive-target.");
  t.Add("journal-archive-target", "journal.archive.target", &Row::journal_archive_target)
      .Check(CheckArchiveTarget)
      .Help("Built-in archive target: s3://BUCKET/PREFIX/ or file:///DIR; each file goes to "
            "{PREFIX}{instance}/{file}.");
  t.Add("journal-archive-trigger", "journal.archive.trigger", &Row::journal_archive_trigger)
      .Choices({"", "disabled", "on-rotate", "before-expire"})
      .Help("When to archive: on-rotate (each finished file), before-expire (just before deletion).");
  t.Add("journal-archive-timeout", "journal.archive.timeout", &Row::journal_archive_timeout)
      .Default("PT5M")
      .Check(PositiveDuration(/*empty_means_never=*/false))
      .Help("Longest one archive attempt may take.");
  t.Add("journal-archive-upload-parallelism", "journal.archive.upload-parallelism",
        &Row::journal_archive_upload_parallelism)
      .Default("4")
      .Range(1, 64)
      .Help("Archive uploads running at once, over all instances (KeeperOptions::upload_parallelism).");
  t.Add("journal-archive-s3-endpoint", "journal.archive.s3.endpoint", &Row::journal_archive_s3_endpoint)
      .Help("S3-compatible endpoint (http(s)://host:port); \"\" = AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS.");
  t.Add("journal-archive-s3-region", "journal.archive.s3.region", &Row::journal_archive_s3_region)
      .Help("S3 region; \"\" = AWS_REGION, AWS_DEFAULT_REGION, or us-east-1.");
  t.Add("journal-archive-s3-part-size", "journal.archive.s3.part-size", &Row::journal_archive_s3_part_size)
      .Default(std::to_string(16 * kMiB))
      .Range(5 * kMiB, 5 * kGiB)
      .Help("Part size of multipart uploads, in bytes.");
  t.Add("journal-archive-s3-multipart-threshold", "journal.archive.s3.multipart-threshold",
        &Row::journal_archive_s3_multipart_threshold)
      .Default(std::to_string(64 * kMiB))
      .Range(5 * kMiB, std::numeric_limits<int64_t>::max())
      .Help("Files larger than this are uploaded in parts, in bytes.");
  t.Add("journal-archive-s3-verify-etag", "journal.archive.s3.verify-etag", &Row::journal_archive_s3_verify_etag)
      .Default("true")
      .Help("Require the returned ETag to be the MD5 of the upload; turn off for SSE-KMS/SSE-C buckets.");

  // Observability.
  t.Add("otel-endpoint", "otel.endpoint", &Row::otel_endpoint)
      .Check(CheckNoOtelEndpoint)
      .Help("lplex HEAD's OpenTelemetry exporter. Not built in: any value is refused; scrape /metrics.");
  t.Add("otel-sample-ratio", "otel.sample-ratio", &Row::otel_sample_ratio)
      .Default("1")
      .NumberRange(0, 1)
      .Help("lplex HEAD's trace sample ratio; accepted so its configs load, without effect.");

  // Command line only.
  t.Add("config", "", &Row::config_path)
      .Path()
      .Help("HOCON config file (must exist); default: the first of ./lplex-cloud.conf, "
            "/etc/lplex-cloud/lplex-cloud.conf, /etc/lplex/lplex-cloud.conf.");
  t.Add("validate-config", "", &Row::validate_config)
      .Help("Print the effective configuration and where each value came from, then exit.");
  t.Add("version", "", &Row::show_version).Immediate().Help("Print the version and exit.");
  t.Add("help", "", &Row::show_help).Immediate().Help("Print this help and exit.");
  return t;
}

const SettingTable<Row>& Table() {
  static const auto* table = new SettingTable<Row>(BuildTable());
  return *table;
}

size_t FindRow(const LoadReport& report, const std::string& flag, const std::string& key) {
  for (size_t i = 0; i < report.settings.size(); ++i) {
    if (report.settings[i].flag == flag && report.settings[i].key == key) return i;
  }
  return report.settings.size();
}

// Folds each alias key into its setting (see KeyAlias) and takes the alias
// rows out of the report, so -validate-config prints one line per setting.
Status MergeAliases(Row& row, LoadReport& report) {
  for (const Alias& a : Aliases()) {
    const size_t ai = FindRow(report, a.names.flag, a.names.alias);
    const size_t mi = FindRow(report, a.names.flag, a.names.key);
    EffectiveSetting& alias = report.settings[ai];
    EffectiveSetting& main = report.settings[mi];
    if (alias.origin != Origin::kFile) continue;
    if (main.origin == Origin::kFile && main.value != alias.value) {
      return Status::InvalidArgument(fmt::format(
          "{}: config keys \"{}\" = {} and \"{}\" = {} both set flag -{}, to different values (valid: one of the "
          "two keys, or both with the same value)",
          report.config_path, main.key, main.value, alias.key, alias.value, a.names.flag));
    }
    if (main.origin == Origin::kDefault) {
      a.apply(row);
      main.value = alias.value;
      main.origin = Origin::kFile;
    }
    // Origin::kFlag: the command line beats both keys.
  }
  std::vector<EffectiveSetting> kept;
  for (EffectiveSetting& s : report.settings) {
    const bool is_alias = std::any_of(Aliases().begin(), Aliases().end(), [&s](const Alias& a) {
      return s.flag == a.names.flag && s.key == a.names.alias;
    });
    if (!is_alias) kept.push_back(std::move(s));
  }
  report.settings = std::move(kept);
  return Status::Ok();
}

// Checks across settings, run once the alias keys are merged.
Status CheckCombinations(const CloudServerConfig& c, const LoadReport& r) {
  struct Tls {
    const char* flag;
    const char* key;
    bool set;
  };
  const Tls tls[] = {{"tls-cert", "grpc.tls.cert", !c.tls_cert.empty()},
                     {"tls-key", "grpc.tls.key", !c.tls_key.empty()},
                     {"tls-client-ca", "grpc.tls.client-ca", !c.tls_client_ca.empty()}};
  std::vector<std::string> given;
  std::vector<std::string> missing;
  for (const Tls& t : tls) {
    if (t.set) {
      given.push_back(NamedSetting(r, t.flag, t.key));
    } else {
      missing.push_back(fmt::format("-{} (key {})", t.flag, t.key));
    }
  }
  if (c.insecure_plaintext && !given.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{} and {} are both set (valid: TLS files, or -insecure-plaintext for tests and trusted networks; not both)",
        NamedSetting(r, "insecure-plaintext", "grpc.insecure-plaintext"), given.front()));
  }
  if (!given.empty() && !missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size(); ++i) names += (i == 0 ? "" : " and ") + missing[i];
    return Status::InvalidArgument(fmt::format(
        "{} is set but {} {} not (valid: all of -tls-cert, -tls-key and -tls-client-ca: boats are named by "
        "their client certificates)",
        given.front(), names, missing.size() == 1 ? "is" : "are"));
  }
  if (given.empty() && !c.insecure_plaintext && !c.show_help && !c.show_version) {
    return Status::InvalidArgument(
        "the replication listener has no TLS (valid: -tls-cert, -tls-key and -tls-client-ca, keys grpc.tls.cert, "
        "grpc.tls.key, grpc.tls.client-ca; or -insecure-plaintext, for tests and trusted networks only)");
  }

  if (!c.journal_archive_command.empty() && !c.journal_archive_target.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{} and {} are both set (valid: one of them: a script, or a built-in s3:// or file:// target)",
        NamedSetting(r, "journal-archive-command", "journal.archive.command"),
        NamedSetting(r, "journal-archive-target", "journal.archive.target")));
  }
  if (!c.api_key.empty() && !c.api_key_file.empty()) {
    return Status::InvalidArgument(fmt::format("{} and {} are both set (valid: one of them)",
                                               NamedSetting(r, "api-key", "api-key"),
                                               NamedSetting(r, "api-key-file", "api-key-file")));
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> CloudServerConfigSearchPaths() {
  return {"./lplex-cloud.conf", "/etc/lplex-cloud/lplex-cloud.conf", "/etc/lplex/lplex-cloud.conf"};
}

LoadOptions CloudServerLoadOptions() {
  LoadOptions o;
  o.search_paths = CloudServerConfigSearchPaths();
  return o;
}

const std::vector<SettingSpec>& CloudServerSettings() {
  static const auto* specs = [] {
    auto* out = new std::vector<SettingSpec>;
    for (const SettingSpec& s : Table().specs()) {
      const bool is_alias = std::any_of(Aliases().begin(), Aliases().end(), [&s](const Alias& a) {
        return s.flag == a.names.flag && s.key == a.names.alias;
      });
      if (!is_alias) out->push_back(s);
    }
    return out;
  }();
  return *specs;
}

const std::vector<KeyAlias>& CloudServerKeyAliases() {
  static const auto* names = [] {
    auto* out = new std::vector<KeyAlias>;
    for (const Alias& a : Aliases()) out->push_back(a.names);
    return out;
  }();
  return *names;
}

Result<Loaded<CloudServerConfig>> LoadCloudServerConfig(const std::vector<std::string>& args,
                                                        const LoadOptions& options,
                                                        std::vector<std::string>* warnings_on_error) {
  auto loaded = Table().Load(args, options);
  if (!loaded.ok()) return WithIsoDurationSuggestion(loaded.status());
  Row& row = loaded->config;
  Status s = MergeAliases(row, loaded->report);
  if (s.ok()) s = CheckCombinations(row, loaded->report);
  if (!s.ok()) {
    if (warnings_on_error != nullptr) *warnings_on_error = loaded->report.warnings;
    return s;
  }
  Loaded<CloudServerConfig> out;
  out.config = static_cast<CloudServerConfig&&>(row);
  out.report = std::move(loaded->report);
  return out;
}

}  // namespace lplex::config
