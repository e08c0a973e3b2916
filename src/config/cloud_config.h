// CloudServerConfig: every setting of lplex-cloud, from its flags, its HOCON
// config file and the defaults (precedence flag > file > default), declared
// in one table as the boat's are (boat_config.h, settings.h).
// docs/configuration-cloud.md lists each flag, key, default and valid
// values; spec/cloud.md §2.5, §2.6, §4 and §6.1 are the reference.
//
// Where it differs from the reference, deliberately:
//   - One gRPC mode only, dual-port with mTLS. ACME (-acme-domain,
//     -acme-email, -listen) is refused with a message that says how to get
//     certificates instead (certbot, then -tls-cert/-tls-key).
//   - The gRPC listener needs all three of -tls-cert, -tls-key and
//     -tls-client-ca, or -insecure-plaintext (tests and trusted networks
//     only); a partial TLS setup, or TLS together with plaintext, is refused.
//   - -tls-client-ca is read from grpc.tls.client-ca or tls.client-ca; both
//     in the file with different values is an error naming both (the Go
//     reference let its random map order pick one, §2.5).
//   - The rotation keys are flat as in the reference (journal.rotate-duration,
//     journal.rotate-size); the boat's nested journal.rotate.duration /
//     journal.rotate.size are accepted too, under the same both-different rule.
//   - Durations are ISO 8601 everywhere; HEAD's Go form ("5m") is refused
//     with its ISO form in the message.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/status.h"

namespace lplex::config {

// Plain values, already validated. Durations that may be "" (off) are
// optionals; the others are always set.
struct CloudServerConfig {
  // Network (dual-port mode, §2.6).
  std::string grpc_listen;          // -grpc-listen / grpc.listen (":9443"): replication, [HOST]:PORT
  std::string http_listen;          // -http-listen / http.listen (":8080"): HTTP API, plaintext
  std::string tls_cert;             // -tls-cert / grpc.tls.cert: server certificate chain (PEM)
  std::string tls_key;              // -tls-key / grpc.tls.key: its private key (PEM)
  std::string tls_client_ca;        // -tls-client-ca / grpc.tls.client-ca or tls.client-ca
  bool insecure_plaintext = false;  // -insecure-plaintext / grpc.insecure-plaintext
  // ACME mode: declared so that a reference config is refused with a reason
  // rather than warned about; any value other than the default is an error.
  std::string listen;       // -listen / listen (":443")
  std::string acme_domain;  // -acme-domain / acme.domain
  std::string acme_email;   // -acme-email / acme.email

  // HTTP API.
  std::string api_key;       // -api-key / api-key: Bearer token (never printed)
  std::string api_key_file;  // -api-key-file / api-key-file

  // Instances.
  std::string data_dir;                          // -data-dir / data-dir ("/data/lplex")
  std::chrono::seconds instance_idle_timeout{0};  // -instance-idle-timeout / instance.idle-timeout (PT5M)
  int ring_size = 0;                             // -ring-size / ring-size (8192, a power of two)
  std::chrono::seconds device_idle_timeout{0};   // -device-idle-timeout / device.idle-timeout (PT5M; 0 = never)

  // Replication limits (§6.1).
  int replication_rate_limit = 0;         // -replication-rate-limit / replication.rate-limit (frames/s, 2000)
  int replication_rate_burst = 0;         // -replication-rate-burst / replication.rate-burst (500)
  int64_t replication_max_live_lag = 0;   // -replication-max-live-lag / replication.max-live-lag (10000; 0 = off)

  // Live journals of the instances (flat keys, §4.3).
  std::optional<std::chrono::seconds> journal_rotate_duration;  // nullopt: no time rotation
  uint64_t journal_rotate_size = 0;                             // 0: no size rotation

  // Retention (one keeper, applied per instance directory, §2.4).
  std::optional<std::chrono::seconds> journal_retention_max_age;
  std::optional<std::chrono::seconds> journal_retention_min_keep;
  uint64_t journal_retention_max_size = 0;
  int journal_retention_soft_pct = 0;
  std::string journal_retention_overflow_policy;  // delete-unarchived | pause-recording

  // Archive: a script (command) or a built-in target, never both.
  std::string journal_archive_command;
  std::string journal_archive_target;   // "" | s3://bucket/prefix/ | file:///dir
  std::string journal_archive_trigger;  // "" | disabled | on-rotate | before-expire
  std::chrono::seconds journal_archive_timeout{0};
  int journal_archive_upload_parallelism = 0;  // KeeperOptions::upload_parallelism
  std::string journal_archive_s3_endpoint;
  std::string journal_archive_s3_region;
  uint64_t journal_archive_s3_part_size = 0;
  uint64_t journal_archive_s3_multipart_threshold = 0;
  bool journal_archive_s3_verify_etag = true;

  // Observability (§6.1). No exporter is built in: a non-empty endpoint is
  // refused; the ratio is accepted so HEAD configs load.
  std::string otel_endpoint;
  double otel_sample_ratio = 1;

  // Command line only.
  std::string config_path;       // -config
  bool validate_config = false;  // -validate-config: print DescribeEffectiveConfig and exit
  bool show_version = false;     // -version (no config file is read)
  bool show_help = false;        // -help, -h (no config file is read)
};

// The config files tried when -config is not given, in order:
// ./lplex-cloud.conf, /etc/lplex-cloud/lplex-cloud.conf (the reference's,
// spec §4.1), /etc/lplex/lplex-cloud.conf (next to the boat's). Never
// lplex.conf: that is the boat's file.
std::vector<std::string> CloudServerConfigSearchPaths();

// The real file system and CloudServerConfigSearchPaths().
LoadOptions CloudServerLoadOptions();

// The settings of lplex-cloud, one per flag, in table order: for Usage()
// and the docs. (The alternative keys, tls.client-ca and the nested
// rotation keys, are in CloudServerKeyAliases.)
const std::vector<SettingSpec>& CloudServerSettings();

// A second HOCON key read for a setting: `alias` is read when `key` is
// absent; both present with different values is an error naming both.
struct KeyAlias {
  std::string flag;   // the setting: "tls-client-ca"
  std::string key;    // its key: "grpc.tls.client-ca"
  std::string alias;  // also read: "tls.client-ca"
};
const std::vector<KeyAlias>& CloudServerKeyAliases();

// Loads the configuration from `args` (argv without the program name) and
// the config file. Errors name the flag or key (and the file), the value and
// what is valid; warnings (unknown keys) are in the report for the caller
// to log. Besides each value on its own, it refuses: an alias key that
// disagrees with its key; ACME settings; -insecure-plaintext with any
// -tls-*; TLS files given only in part; no TLS and no -insecure-plaintext
// (unless -help or -version); -journal-archive-command with
// -journal-archive-target; -api-key with -api-key-file.
//
// `warnings_on_error` (optional) receives the report's warnings when
// loading fails after the file was read (a check across settings): a typo
// warned about ("unknown config key ... (did you mean ...?)") is often the
// cause of the error, so the caller prints them before it. Errors about a
// single value leave it empty.
Result<Loaded<CloudServerConfig>> LoadCloudServerConfig(const std::vector<std::string>& args,
                                                        const LoadOptions& options = CloudServerLoadOptions(),
                                                        std::vector<std::string>* warnings_on_error = nullptr);

}  // namespace lplex::config
