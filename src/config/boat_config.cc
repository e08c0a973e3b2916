#include "config/boat_config.h"

#include <fmt/format.h>

#include "config/checks.h"
#include "config/host_port.h"
#include "core/instance_id.h"
#include "journal/format.h"

namespace lplex::config {
namespace {

using C = BoatServerConfig;

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

Status CheckInstanceId(const SettingValue& v) {
  if (v.text.empty()) return Status::Ok();
  return ValidateInstanceId(v.text);
}

SettingTable<C> BuildTable() {
  SettingTable<C> t;

  // Frame sources.
  t.Add("source", "sources", &C::sources)
      .Repeatable()
      .Help("A frame source URI: socketcan:IFACE, replay:PATH[?speed=N&loop=true&delay=PT10S], sim:, "
            "ydraw+tcp://HOST:PORT, ydraw+udp://:PORT (options: docs/sources.md). Repeat the flag for "
            "several; in the file a list.");
  t.Add("interface", "interface", &C::interface)
      .Default("can0")
      .Help("SocketCAN interface, used when neither sources nor interfaces is set.");
  t.Add("interfaces", "interfaces", &C::interfaces)
      .Separator(',')
      .Help("Several SocketCAN interfaces, comma-separated (can0,can1); each is a bus.");
  t.Add("replay-speed", "replay-speed", &C::replay_speed)
      .Default("1")
      .NumberRange(0, 1000)  // as replay:...?speed= (source_uri.cc)
      .Help("Speed of replay: sources, as a multiple of the recorded rate (0 = as fast as possible).");

  // HTTP API.
  t.Add("port", "port", &C::port).Default("8089").Range(0, 65535).Help("TCP port of the HTTP API (0 = any free port).");
  t.Add("max-buffer-duration", "max-buffer-duration", &C::max_buffer_duration)
      .Default("PT5M")
      .Help("How long a buffered client session is kept after its client goes away.");
  t.Add("read-only", "read-only", &C::read_only).Help("Refuse /send and /query whatever the send settings say.");
  t.Add("api-key", "api-key", &C::api_key)
      .Secret()
      .Help("Require 'Authorization: Bearer KEY' on every endpoint except the health probes.");
  t.Add("api-key-file", "api-key-file", &C::api_key_file)
      .Path()
      .Help("As api-key, with the key read from this file (keeps it out of ps and the config file).");
  t.Add("send-enabled", "send.enabled", &C::send_enabled).Help("Allow POST /send and POST /query.");
  t.Add("send-rules", "send.rules", &C::send_rules)
      .SendRules()
      .Help("Send rules, first match decides: \"[!] [pgn:SPEC] [name:HEX,...]\", separated by ';'. "
            "In the file a list of strings or {deny, pgn, name} objects.");
  t.Add("mdns", "mdns", &C::mdns)
      .Default("true")
      .Help("Announce the HTTP API as _lplex._tcp over mDNS (instance name = hostname) through the avahi daemon; "
            "without a reachable daemon the server warns once and serves anyway.");

  // Journal.
  t.Add("journal-dir", "journal.dir", &C::journal_dir).Path().Help("Directory for .lpj journals; empty = no journal.");
  t.Add("journal-prefix", "journal.prefix", &C::journal_prefix).Default("nmea2k").Help("Journal file name prefix.");
  t.Add("journal-block-size", "journal.block-size", &C::journal_block_size)
      .Default(std::to_string(journal::kDefaultBlockSize))
      .Range(journal::kMinBlockSize, journal::kMaxBlockSize)
      .PowerOfTwo()
      .Help("Journal block size in bytes.");
  t.Add("journal-rotate-duration", "journal.rotate.duration", &C::journal_rotate_duration)
      .Default("PT1H")
      .Check(PositiveDuration(/*empty_means_never=*/true))
      .Help("Start a new journal file after this long; \"\" = no time rotation.");
  t.Add("journal-rotate-size", "journal.rotate.size", &C::journal_rotate_size)
      .Help("Start a new journal file at this many bytes; 0 = no size rotation.");
  t.Add("journal-compression", "journal.compression", &C::journal_compression)
      .Default("zstd")
      .Choices({"none", "zstd", "zstd-dict"})
      .Help("Block compression.");
  t.Add("journal-flush-interval", "journal.flush-interval", &C::journal_flush_interval)
      .Default("PT60S")
      .Check(PositiveDuration(/*empty_means_never=*/false))
      .Help("Write out a partly filled block after this long, bounding what a power cut loses.");

  // Retention.
  t.Add("journal-retention-max-age", "journal.retention.max-age", &C::journal_retention_max_age)
      .Help("Delete (or archive, then delete) journal files older than this; \"\" = no age limit.");
  t.Add("journal-retention-min-keep", "journal.retention.min-keep", &C::journal_retention_min_keep)
      .Help("Never expire by age files younger than this; \"\" = none.");
  t.Add("journal-retention-max-size", "journal.retention.max-size", &C::journal_retention_max_size)
      .Help("Cap of the journal directory in bytes; 0 = no cap.");
  t.Add("journal-retention-soft-pct", "journal.retention.soft-pct", &C::journal_retention_soft_pct)
      .Default("80")
      .Range(0, 100)
      .Help("Above this percentage of max-size, archive early (0 = no soft zone).");
  t.Add("journal-retention-overflow-policy", "journal.retention.overflow-policy",
        &C::journal_retention_overflow_policy)
      .Default("delete-unarchived")
      .Choices({"delete-unarchived", "pause-recording"})
      .Help("Over max-size with files not yet archived: delete them, or pause recording.");

  // Archive.
  t.Add("journal-archive-command", "journal.archive.command", &C::journal_archive_command)
      .Path()
      .Help("Archive script (JSONL protocol); not together with journal-archive-target.");
  t.Add("journal-archive-target", "journal.archive.target", &C::journal_archive_target)
      .Check(CheckArchiveTarget)
      .Help("Built-in archive target: s3://BUCKET/PREFIX/ or file:///DIR.");
  t.Add("journal-archive-trigger", "journal.archive.trigger", &C::journal_archive_trigger)
      .Choices({"", "disabled", "on-rotate", "before-expire"})
      .Help("When to archive: on-rotate (each finished file), before-expire (just before deletion).");
  t.Add("journal-archive-timeout", "journal.archive.timeout", &C::journal_archive_timeout)
      .Default("PT5M")
      .Help("Longest one archive attempt may take.");
  t.Add("journal-archive-s3-endpoint", "journal.archive.s3.endpoint", &C::journal_archive_s3_endpoint)
      .Help("S3-compatible endpoint (http(s)://host:port); \"\" = AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS.");
  t.Add("journal-archive-s3-region", "journal.archive.s3.region", &C::journal_archive_s3_region)
      .Help("S3 region; \"\" = AWS_REGION, AWS_DEFAULT_REGION, or us-east-1.");
  t.Add("journal-archive-s3-part-size", "journal.archive.s3.part-size", &C::journal_archive_s3_part_size)
      .Default(std::to_string(16 * kMiB))
      .Range(5 * kMiB, 5 * kGiB)
      .Help("Part size of multipart uploads, in bytes.");
  t.Add("journal-archive-s3-multipart-threshold", "journal.archive.s3.multipart-threshold",
        &C::journal_archive_s3_multipart_threshold)
      .Default(std::to_string(64 * kMiB))
      .Range(5 * kMiB, std::numeric_limits<int64_t>::max())
      .Help("Files larger than this are uploaded in parts, in bytes.");
  t.Add("journal-archive-s3-verify-etag", "journal.archive.s3.verify-etag", &C::journal_archive_s3_verify_etag)
      .Default("true")
      .Help("Require the returned ETag to be the MD5 of the upload; turn off for SSE-KMS/SSE-C buckets.");

  // Bus and device health.
  t.Add("bus-silence-timeout", "bus-silence-timeout", &C::bus_silence_timeout)
      .Help("No frame for this long: health degraded and a metric; \"\" = no monitor.");
  t.Add("bus-silence-threshold", "health.bus-silence-threshold", &C::bus_silence_threshold)
      .Help("No frame for this long makes /healthz report the bus as silent; \"\" = not checked.");
  t.Add("device-idle-timeout", "device.idle-timeout", &C::device_idle_timeout)
      .Default("PT5M")
      .Help("Forget a device silent this long (device_removed event); PT0S = never.");

  // Replication.
  t.Add("replication-target", "replication.target", &C::replication_target)
      .Check(HostPortCheck(AddressUse::kConnect))
      .Help("Cloud gRPC address HOST:PORT (IPv6 as [addr]:port); replication runs when this and the instance id "
            "are set.");
  t.Add("replication-instance-id", "replication.instance-id", &C::replication_instance_id)
      .Check(CheckInstanceId)
      .Help("This boat's instance id at the cloud.");
  t.Add("replication-tls-cert", "replication.tls.cert", &C::replication_tls_cert)
      .Path()
      .Help("Client certificate (PEM) for mTLS, with -replication-tls-key; neither = plaintext.");
  t.Add("replication-tls-key", "replication.tls.key", &C::replication_tls_key).Path().Help("Client private key (PEM).");
  t.Add("replication-tls-ca", "replication.tls.ca", &C::replication_tls_ca)
      .Path()
      .Help("CA (PEM) that signed the cloud's certificate, trusted besides the system's; needs -replication-tls-cert "
            "and -replication-tls-key.");

  // Command line only.
  t.Add("config", "", &C::config_path)
      .Path()
      .Help("HOCON config file (must exist); default: the first of ./lplex-server.conf, "
            "/etc/lplex/lplex-server.conf, ./lplex.conf, /etc/lplex/lplex.conf.");
  t.Add("validate-config", "", &C::validate_config).Help("Print the effective configuration and where each value came from, then exit.");
  t.Add("version", "", &C::show_version).Immediate().Help("Print the version and exit.");
  t.Add("help", "", &C::show_help).Immediate().Help("Print this help and exit.");

  t.AddCheck([](const C& c, const LoadReport& r) {
    if (c.journal_archive_command.empty() || c.journal_archive_target.empty()) return Status::Ok();
    return Status::InvalidArgument(fmt::format(
        "{} and {} are both set (valid: one of them: a script, or a built-in s3:// or file:// target)",
        NamedSetting(r, "journal-archive-command", "journal.archive.command"),
        NamedSetting(r, "journal-archive-target", "journal.archive.target")));
  });
  t.AddCheck([](const C& c, const LoadReport& r) {
    if (c.api_key.empty() || c.api_key_file.empty()) return Status::Ok();
    return Status::InvalidArgument(fmt::format("{} and {} are both set (valid: one of them)",
                                               NamedSetting(r, "api-key", "api-key"),
                                               NamedSetting(r, "api-key-file", "api-key-file")));
  });
  return t;
}

}  // namespace

std::vector<std::string> BoatServerConfigSearchPaths() {
  return {"./lplex-server.conf", "/etc/lplex/lplex-server.conf", "./lplex.conf", "/etc/lplex/lplex.conf"};
}

LoadOptions BoatServerLoadOptions() {
  LoadOptions o;
  o.search_paths = BoatServerConfigSearchPaths();
  return o;
}

const SettingTable<BoatServerConfig>& BoatServerSettings() {
  static const auto* table = new SettingTable<BoatServerConfig>(BuildTable());
  return *table;
}

Result<Loaded<BoatServerConfig>> LoadBoatServerConfig(const std::vector<std::string>& args,
                                                      const LoadOptions& options) {
  return BoatServerSettings().Load(args, options);
}

}  // namespace lplex::config
