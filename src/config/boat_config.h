// BoatServerConfig: every setting of lplex-server, from its flags, its HOCON
// config file and the defaults (precedence flag > file > default).
// docs/configuration.md lists each flag, key, default and valid values;
// spec/cloud.md §3.1 and §4 are the reference.
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
struct BoatServerConfig {
  // Frame sources.
  std::vector<std::string> sources;     // -source URI (repeatable) / sources: socketcan:can0, replay:PATH, sim:, ...
  std::string interface;                // -interface / interface (default can0)
  std::vector<std::string> interfaces;  // -interfaces can0,can1 / interfaces
  double replay_speed = 1;              // -replay-speed / replay-speed (0 = as fast as possible)

  // HTTP API.
  int port = 0;                                  // -port / port (default 8089)
  std::chrono::seconds max_buffer_duration{0};   // -max-buffer-duration (PT5M)
  bool read_only = false;                        // -read-only: /send and /query refused
  std::string api_key;                           // -api-key / api-key: Bearer token (never printed)
  std::string api_key_file;                      // -api-key-file / api-key-file
  bool send_enabled = false;                     // -send-enabled / send.enabled
  std::vector<std::string> send_rules;           // -send-rules "a;b" / send.rules: DSL strings, trimmed, none empty
  bool mdns = true;                              // -mdns / mdns: announce _lplex._tcp through avahi

  // Journal (off when journal_dir is empty).
  std::string journal_dir;
  std::string journal_prefix;
  int journal_block_size = 0;
  std::optional<std::chrono::seconds> journal_rotate_duration;  // nullopt: no time rotation
  uint64_t journal_rotate_size = 0;                             // 0: no size rotation
  std::string journal_compression;                              // none | zstd | zstd-dict
  std::chrono::seconds journal_flush_interval{0};

  // Retention.
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
  std::string journal_archive_s3_endpoint;  // "" = AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS itself
  std::string journal_archive_s3_region;    // "" = AWS_REGION / AWS_DEFAULT_REGION / us-east-1
  uint64_t journal_archive_s3_part_size = 0;
  uint64_t journal_archive_s3_multipart_threshold = 0;
  bool journal_archive_s3_verify_etag = true;

  // Bus and device health.
  std::optional<std::chrono::seconds> bus_silence_timeout;    // nullopt: no silence monitor
  std::optional<std::chrono::seconds> bus_silence_threshold;  // nullopt: /healthz ignores silence
  std::chrono::seconds device_idle_timeout{0};                // 0: devices never expire

  // Replication (on when target and instance id are both set).
  std::string replication_target;
  std::string replication_instance_id;
  std::string replication_tls_cert;
  std::string replication_tls_key;
  std::string replication_tls_ca;

  // Command line only.
  std::string config_path;       // -config
  bool validate_config = false;  // -validate-config: print DescribeEffectiveConfig and exit
  bool show_version = false;     // -version (no config file is read)
  bool show_help = false;        // -help, -h (no config file is read)
};

// The config files tried when -config is not given, in order:
// ./lplex-server.conf, /etc/lplex/lplex-server.conf, ./lplex.conf,
// /etc/lplex/lplex.conf.
std::vector<std::string> BoatServerConfigSearchPaths();

// The real file system and BoatServerConfigSearchPaths().
LoadOptions BoatServerLoadOptions();

// The settings table of lplex-server (built once, never destroyed).
const SettingTable<BoatServerConfig>& BoatServerSettings();

// Loads the configuration from `args` (argv without the program name) and
// the config file. Errors name the flag or key, the value and what is valid;
// warnings (unknown keys) are in the report for the caller to log. Besides
// each value on its own, it refuses: journal.archive.command together with
// journal.archive.target, api-key together with api-key-file.
Result<Loaded<BoatServerConfig>> LoadBoatServerConfig(const std::vector<std::string>& args,
                                                      const LoadOptions& options = BoatServerLoadOptions());

}  // namespace lplex::config
