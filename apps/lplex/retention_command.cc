// lplex retention: apply the retention policy to journal directories now,
// or (--dry-run) print what it would do.
#include <fmt/format.h>

#include <chrono>

#include "commands.h"
#include "core/clock.h"
#include "core/duration.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"

namespace lplex::cli {
namespace {

bool ParseDurationFlag(const std::string& flag, const std::string& value, int64_t* out_us, std::FILE* err) {
  if (value.empty()) return true;
  auto d = ParseIso8601Duration(value);
  if (!d.ok()) {
    std::fprintf(err, "lplex retention: --%s: %s\n", flag.c_str(), d.status().message().c_str());
    return false;
  }
  *out_us = std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
  return true;
}

}  // namespace

int RunRetention(const RetentionOptions& o, std::FILE* out, std::FILE* err) {
  if (o.dirs.empty()) {
    std::fprintf(err, "lplex retention: no journal directories given\n");
    return 2;
  }
  keeper::RetentionConfig rc;
  if (!ParseDurationFlag("max-age", o.max_age, &rc.max_age_us, err)) return 2;
  if (!ParseDurationFlag("min-keep", o.min_keep, &rc.min_keep_us, err)) return 2;
  rc.max_size = o.max_size;
  if (o.soft_pct < 0 || o.soft_pct > 99) {
    std::fprintf(err, "lplex retention: --soft-pct %d out of range (valid: 0..99, default 80)\n", o.soft_pct);
    return 2;
  }
  rc.soft_pct = o.soft_pct;
  auto overflow = keeper::ParseOverflowPolicy(o.overflow_policy);
  if (!overflow.ok()) {
    std::fprintf(err, "lplex retention: %s\n", overflow.status().message().c_str());
    return 2;
  }
  rc.overflow = *overflow;
  const bool has_target = !o.target.empty() || !o.command.empty();
  auto trigger = keeper::ParseArchiveTrigger(o.archive_trigger.empty() && has_target ? "before-expire"
                                                                                     : o.archive_trigger);
  if (!trigger.ok()) {
    std::fprintf(err, "lplex retention: %s\n", trigger.status().message().c_str());
    return 2;
  }
  if (rc.max_age_us == 0 && rc.max_size == 0) {
    std::fprintf(err, "lplex retention: nothing to do: give --max-age and/or --max-size\n");
    return 2;
  }

  FileSystem* fs = FileSystem::Default();
  auto in_use = [&](const std::string& p) { return fs->IsBeingWritten(p); };
  if (o.dry_run) {
    const bool archiving = has_target && *trigger != keeper::ArchiveTrigger::kDisabled;
    const int64_t now = Clock::Real()->NowMicros();
    for (const std::string& dir : o.dirs) {
      auto files = keeper::ListJournalDir(fs, dir, nullptr, in_use);
      uint64_t total = 0;
      for (const auto& f : files) total += f.size;
      keeper::RetentionPlan plan = keeper::PlanRetention(files, rc, archiving, now);
      std::fprintf(out, "%s: %zu files, %llu bytes\n", dir.c_str(), files.size(),
                   static_cast<unsigned long long>(total));
      for (const auto& p : plan.delete_paths) std::fprintf(out, "  would delete  %s\n", p.c_str());
      for (const auto& p : plan.archive_paths) std::fprintf(out, "  would archive %s\n", p.c_str());
      if (plan.need_pause) std::fprintf(out, "  would pause recording (over max-size with unarchived files)\n");
      if (plan.delete_paths.empty() && plan.archive_paths.empty()) std::fprintf(out, "  nothing to do\n");
    }
    return 0;
  }

  keeper::KeeperOptions ko;
  for (const std::string& dir : o.dirs) ko.dirs.push_back({dir, o.instance_id});
  ko.retention = rc;
  ko.trigger = has_target ? *trigger : keeper::ArchiveTrigger::kDisabled;
  ko.is_open = in_use;
  if (has_target) {
    keeper::ArchiverConfig ac;
    ac.command = o.command;
    ac.target = o.target;
    auto archiver = keeper::MakeArchiver(ac);
    if (!archiver.ok()) {
      std::fprintf(err, "lplex retention: %s\n", archiver.status().message().c_str());
      return 2;
    }
    ko.archiver = std::move(archiver).value();
  }
  keeper::Keeper k(ko);
  k.ScanAll();
  const auto& s = k.stats();
  std::fprintf(out, "%llu deleted, %llu archived, %llu failed to archive\n",
               static_cast<unsigned long long>(s.deleted), static_cast<unsigned long long>(s.archived),
               static_cast<unsigned long long>(s.archive_failures));
  return s.archive_failures == 0 ? 0 : 1;
}

}  // namespace lplex::cli
