#include "config/keeper_config.h"

#include <algorithm>
#include <chrono>

namespace lplex::config {
namespace {

using std::chrono::milliseconds;

int64_t Us(std::optional<std::chrono::seconds> s) {
  return s ? std::chrono::duration_cast<std::chrono::microseconds>(*s).count() : 0;
}

// The two configs spell these settings with the same member names.
template <typename Config>
bool ArchivingOf(const Config& c) {
  return !c.journal_archive_command.empty() || !c.journal_archive_target.empty();
}

template <typename Config>
keeper::ArchiverConfig ArchiverConfigOf(const Config& c) {
  keeper::ArchiverConfig a;
  a.command = c.journal_archive_command;
  a.target = c.journal_archive_target;
  a.script_timeout = std::chrono::duration_cast<milliseconds>(c.journal_archive_timeout);
  a.s3.endpoint = c.journal_archive_s3_endpoint;
  a.s3.region = c.journal_archive_s3_region;
  a.s3.part_size = c.journal_archive_s3_part_size;
  a.s3.multipart_threshold = c.journal_archive_s3_multipart_threshold;
  a.s3.verify_etag = c.journal_archive_s3_verify_etag;
  return a;
}

template <typename Config>
Result<keeper::KeeperOptions> KeeperOptionsOf(const Config& c) {
  keeper::KeeperOptions k;
  k.retention.max_age_us = Us(c.journal_retention_max_age);
  k.retention.min_keep_us = Us(c.journal_retention_min_keep);
  k.retention.max_size = c.journal_retention_max_size;
  k.retention.soft_pct = c.journal_retention_soft_pct;
  LPLEX_ASSIGN_OR_RETURN(k.retention.overflow, keeper::ParseOverflowPolicy(c.journal_retention_overflow_policy));
  std::string trigger = c.journal_archive_trigger;
  if (trigger.empty() && ArchivingOf(c)) trigger = "on-rotate";
  LPLEX_ASSIGN_OR_RETURN(k.trigger, keeper::ParseArchiveTrigger(trigger));
  k.archive_timeout = std::chrono::duration_cast<milliseconds>(c.journal_archive_timeout);
  k.drain_timeout = std::min<milliseconds>(k.archive_timeout, std::chrono::minutes(2));
  return k;
}

}  // namespace

bool Archiving(const BoatServerConfig& c) { return ArchivingOf(c); }
bool Archiving(const CloudServerConfig& c) { return ArchivingOf(c); }
keeper::ArchiverConfig ArchiverConfigFor(const BoatServerConfig& c) { return ArchiverConfigOf(c); }
keeper::ArchiverConfig ArchiverConfigFor(const CloudServerConfig& c) { return ArchiverConfigOf(c); }
Result<keeper::KeeperOptions> KeeperOptionsFor(const BoatServerConfig& c) { return KeeperOptionsOf(c); }
Result<keeper::KeeperOptions> KeeperOptionsFor(const CloudServerConfig& c) { return KeeperOptionsOf(c); }

}  // namespace lplex::config
