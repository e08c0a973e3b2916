// lplex retention: apply the retention policy to journal directories now,
// or (--dry-run) print what it would do.
//
// One run does everything the policy asks: with --target or --command it
// archives the expired files and deletes those that were archived, and a
// file whose archive failed in this run is subject to --overflow-policy at
// once (Keeper::ApplyRetentionOnce). Every file deleted without an archived
// copy is said to be "(unarchived)", in the dry run and in the run itself.
// Exit codes: 0 all done, 1 something could not be archived or deleted,
// 2 refused before touching anything.
//
// Results go to `out`; the keeper's and the archiver's log lines go to `err`
// and start with the instance id ("[boat-1] keeper: deleted …"). Paths in
// result lines are escaped (EscapeForDisplay): a crafted file name cannot
// forge a line. A file a writer still holds (flock) that the policy would
// otherwise delete or archive is reported as "skipped PATH: still being
// written", in the dry run and in the run; a run that leaves a directory
// without journal files says so, as the dry run does.
//
// SIGINT and SIGTERM stop the run (InterruptGuard): archiving stops (the
// script's process group is stopped, built-in targets stop between files),
// files already archived keep their markers, nothing more is deleted, the
// summary says "interrupted", and the exit code is 1.
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "commands.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/instance_id.h"
#include "core/strings.h"
#include "interrupt_guard.h"
#include "journal_dirs.h"
#include "keeper/archiver_factory.h"
#include "keeper/script_archiver.h"
#include "keeper/keeper.h"
#include "stream_logger.h"

namespace lplex::cli {
namespace {

// Parses an ISO 8601 duration flag ("" leaves *out_us alone).
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

std::string Shown(const std::string& path) { return EscapeForDisplay(path); }

// The files a writer holds that the policy would delete or archive if they
// were finished: the ones retention spares because they are still written.
std::vector<std::string> SparedOpenFiles(const std::vector<keeper::FileState>& files,
                                         const keeper::RetentionConfig& rc, bool archiving, int64_t now) {
  std::vector<keeper::FileState> as_if_closed = files;
  bool any_open = false;
  for (auto& f : as_if_closed) {
    any_open = any_open || f.open;
    f.open = false;
  }
  if (!any_open) return {};
  const keeper::RetentionPlan plan = keeper::PlanRetention(as_if_closed, rc, archiving, now);
  std::set<std::string> touched(plan.delete_paths.begin(), plan.delete_paths.end());
  touched.insert(plan.archive_paths.begin(), plan.archive_paths.end());
  std::vector<std::string> spared;
  for (const auto& f : files) {
    if (f.open && touched.count(f.path) != 0) spared.push_back(f.path);
  }
  return spared;
}

// Prints what one directory's retention would do, assuming first that every
// archive attempt succeeds and then, for the overflow policy, that they fail.
void PrintDryRun(const std::string& dir, const std::vector<keeper::FileState>& files,
                 const keeper::RetentionConfig& rc, bool archiving, int64_t now, std::FILE* out) {
  uint64_t total = 0;
  std::map<std::string, const keeper::FileState*> by_path;
  for (const auto& f : files) {
    total += f.size;
    by_path[f.path] = &f;
  }
  std::fprintf(out, "%s: %zu files, %llu bytes\n", Shown(dir).c_str(), files.size(),
               static_cast<unsigned long long>(total));

  const keeper::RetentionPlan plan = keeper::PlanRetention(files, rc, archiving, now);
  const std::set<std::string> deleted(plan.delete_paths.begin(), plan.delete_paths.end());
  const std::set<std::string> archived(plan.archive_paths.begin(), plan.archive_paths.end());
  // The directory after this run's archive attempts: all succeeded / all failed.
  std::vector<keeper::FileState> if_ok, if_failed;
  for (const auto& f : files) {
    if (deleted.count(f.path) != 0) continue;
    keeper::FileState good = f, bad = f;
    if (archived.count(f.path) != 0) {
      good.archived = true;
      bad.pending = true;
    }
    if_ok.push_back(good);
    if_failed.push_back(bad);
  }
  const keeper::RetentionPlan after_ok = keeper::PlanRetention(if_ok, rc, archiving, now);
  const keeper::RetentionPlan after_failure = keeper::PlanRetention(if_failed, rc, archiving, now);
  const std::set<std::string> deleted_after_archiving(after_ok.delete_paths.begin(), after_ok.delete_paths.end());

  for (const auto& p : plan.delete_paths) {
    std::fprintf(out, by_path[p]->archived ? "  would delete %s\n" : "  would delete (unarchived) %s\n",
                 Shown(p).c_str());
  }
  for (const auto& p : plan.archive_paths) {
    std::fprintf(out, deleted_after_archiving.count(p) != 0 ? "  would archive, then delete %s\n"
                                                            : "  would archive %s\n",
                 Shown(p).c_str());
  }
  for (const auto& p : after_failure.delete_paths) {
    std::fprintf(out, "  if archiving it fails: would delete (unarchived) %s (--overflow-policy %s)\n",
                 Shown(p).c_str(), std::string(keeper::OverflowPolicyName(rc.overflow)).c_str());
  }
  const std::vector<std::string> spared = SparedOpenFiles(files, rc, archiving, now);
  for (const auto& p : spared) std::fprintf(out, "  skipped %s: still being written\n", Shown(p).c_str());
  if (after_failure.need_pause) {
    std::fprintf(out,
                 "  if archiving fails: would keep the files over --max-size that could not be archived, and a "
                 "recorder would pause recording (--overflow-policy pause-recording)\n");
  }
  if (!files.empty() && plan.delete_paths.size() + after_ok.delete_paths.size() == files.size()) {
    std::fprintf(out, "  would leave %s without journal files\n", Shown(dir).c_str());
  }
  if (plan.delete_paths.empty() && plan.archive_paths.empty() && spared.empty()) {
    std::fprintf(out, "  nothing to do\n");
  }
}

}  // namespace

int RunRetention(const RetentionOptions& o, std::FILE* out, std::FILE* err) {
  if (o.dirs.empty()) {
    std::fprintf(err, "lplex retention: no journal directories given\n");
    return 2;
  }
  keeper::RetentionConfig rc;
  if (!ParseDurationFlag("max-age", o.max_age, &rc.max_age_us, err)) return 2;
  if (!o.max_age.empty() && rc.max_age_us == 0) {
    // 0 means "no age limit" inside the policy; taken literally it would
    // expire every file at once. Neither is what a user typing it means.
    std::fprintf(err,
                 "lplex retention: --max-age %s: a zero age would expire every file at once; give a positive "
                 "duration such as P30D, or leave --max-age out for no age limit\n",
                 o.max_age.c_str());
    return 2;
  }
  if (!ParseDurationFlag("min-keep", o.min_keep, &rc.min_keep_us, err)) return 2;
  rc.max_size = o.max_size;
  if (o.soft_pct < 0 || o.soft_pct > 99) {
    std::fprintf(err, "lplex retention: --soft-pct %d out of range (valid: 0..99, default 80)\n", o.soft_pct);
    return 2;
  }
  rc.soft_pct = o.soft_pct;
  auto overflow = keeper::ParseOverflowPolicy(o.overflow_policy);
  if (!overflow.ok()) {
    std::fprintf(err, "lplex retention: --overflow-policy: %s\n", overflow.status().message().c_str());
    return 2;
  }
  rc.overflow = *overflow;
  if (!o.instance_id.empty()) {
    Status valid = ValidateInstanceId(o.instance_id);
    if (!valid.ok()) {
      std::fprintf(err, "lplex retention: --instance-id: %s; or leave it empty or out for none\n",
                   valid.message().c_str());
      return 2;
    }
  }
  const bool has_target = !o.target.empty() || !o.command.empty();
  auto trigger = keeper::ParseArchiveTrigger(o.archive_trigger.empty() && has_target ? "before-expire"
                                                                                     : o.archive_trigger);
  if (!trigger.ok()) {
    std::fprintf(err, "lplex retention: --archive-trigger: %s\n", trigger.status().message().c_str());
    return 2;
  }
  if (*trigger == keeper::ArchiveTrigger::kOnRotate) {
    std::fprintf(err,
                 "lplex retention: --archive-trigger on-rotate is for a running recorder, which archives each file "
                 "as it is finished; a one-shot run archives what it is about to delete (valid here: "
                 "before-expire, disabled)\n");
    return 2;
  }
  if (*trigger != keeper::ArchiveTrigger::kDisabled && !has_target) {
    std::fprintf(err,
                 "lplex retention: --archive-trigger %s needs --target or --command: there is nothing to archive "
                 "to, and expired files would be deleted unarchived\n",
                 std::string(keeper::ArchiveTriggerName(*trigger)).c_str());
    return 2;
  }
  if (rc.max_age_us == 0 && rc.max_size == 0) {
    if (rc.min_keep_us > 0) {
      std::fprintf(err,
                   "lplex retention: --min-keep %s only works with --max-age (it keeps files younger than it from "
                   "expiring by age); give --max-age and/or --max-size\n",
                   o.min_keep.c_str());
    } else {
      std::fprintf(err, "lplex retention: nothing to do: give --max-age and/or --max-size\n");
    }
    return 2;
  }
  std::chrono::milliseconds timeout = keeper::ScriptArchiver::kDefaultTimeout;
  if (!o.timeout.empty()) {
    auto t = ParseArchiveTimeoutFlag(o.timeout);
    if (!t.ok()) {
      std::fprintf(err, "lplex retention: %s\n", t.status().message().c_str());
      return 2;
    }
    timeout = *t;
  }
  const bool archiving = has_target && *trigger != keeper::ArchiveTrigger::kDisabled;

  InterruptGuard interrupt;
  StreamLogger log(err);
  // The archiver cannot tell which instance a line is about, so its logger
  // names it; the keeper adds each directory's instance id itself.
  const std::unique_ptr<Logger> instance_log = WithInstance(&log, o.instance_id);
  const std::unique_ptr<Logger> command_log = WithPrefix(&log, "lplex retention: ");
  std::shared_ptr<keeper::Archiver> archiver;
  if (has_target) {
    keeper::ArchiverConfig ac;
    ac.log = instance_log.get();
    ac.command = o.command;
    ac.target = o.target;
    ac.names = {"--command", "--target", "--timeout"};
    ac.script_timeout = timeout;
    ac.cancel = interrupt.flag();
    auto made = keeper::MakeArchiver(ac);
    if (!made.ok()) {
      std::fprintf(err, "lplex retention: %s\n", made.status().message().c_str());
      return 2;
    }
    archiver = std::move(made).value();
    Status target_usable = keeper::CheckFileTargetUsable(o.target, o.instance_id, "--target");
    if (!target_usable.ok()) {
      std::fprintf(err, "lplex retention: %s\n", target_usable.message().c_str());
      return 2;
    }
  }
  FileSystem* fs = FileSystem::Default();
  for (const std::string& dir : o.dirs) {
    Status exists = CheckJournalDirExists(fs, dir);
    if (!exists.ok()) {
      std::fprintf(err, "lplex retention: %s\n", exists.message().c_str());
      return 2;
    }
    if (!archiving) continue;
    Status separate = archiver->CheckJournalDir(dir, o.instance_id);
    if (!separate.ok()) {
      std::fprintf(err, "lplex retention: --target %s: %s\n", o.target.c_str(),
                   EscapeForDisplay(separate.message()).c_str());
      return 2;
    }
  }

  auto in_use = [&](const std::string& p) { return fs->IsBeingWritten(p); };
  if (o.dry_run) {
    const int64_t now = Clock::Real()->NowMicros();
    for (const std::string& dir : o.dirs) {
      PrintDryRun(dir, keeper::ListJournalDir(fs, dir, nullptr, in_use, command_log.get()), rc, archiving, now, out);
    }
    return 0;
  }

  keeper::KeeperOptions ko;
  for (const std::string& dir : o.dirs) ko.dirs.push_back({dir, o.instance_id});
  ko.retention = rc;
  ko.archive_timeout = timeout;
  ko.trigger = archiving ? *trigger : keeper::ArchiveTrigger::kDisabled;
  ko.archiver = archiving ? archiver : nullptr;
  ko.is_open = in_use;
  ko.log = &log;
  ko.on_delete = [out](const std::string& path, bool was_archived, const Status& result) {
    if (!result.ok()) {
      std::fprintf(out, "FAILED to delete %s: %s\n", Shown(path).c_str(), Shown(result.message()).c_str());
    } else {
      std::fprintf(out, was_archived ? "deleted %s\n" : "deleted (unarchived) %s\n", Shown(path).c_str());
    }
  };
  ko.on_pause_change = [out](const keeper::KeeperDir& d, bool paused) {
    if (!paused) return;
    std::fprintf(out,
                 "kept files over --max-size in %s that could not be archived (--overflow-policy pause-recording); "
                 "a recorder would pause recording there until they are archived\n",
                 Shown(d.dir).c_str());
  };
  Status usable = keeper::CheckKeeperOptions(ko);
  if (!usable.ok()) {  // every part was checked above; this is the keeper's own guard
    std::fprintf(err, "lplex retention: %s\n", usable.message().c_str());
    return 2;
  }
  // What the run spares and what it starts from, for the lines the keeper
  // cannot print: files a writer holds, directories it will empty.
  const int64_t now = Clock::Real()->NowMicros();
  std::vector<std::string> had_files;
  for (const std::string& dir : o.dirs) {
    const auto files = keeper::ListJournalDir(fs, dir, nullptr, in_use, command_log.get());
    if (!files.empty()) had_files.push_back(dir);
    for (const auto& p : SparedOpenFiles(files, rc, archiving, now)) {
      std::fprintf(out, "skipped %s: still being written\n", Shown(p).c_str());
    }
  }

  keeper::Keeper k(ko);
  // Keeper::ApplyRetentionOnce, with a stop after a signal: a second pass
  // would count the files whose archive was interrupted as failed, and
  // --overflow-policy delete-unarchived would delete them.
  const uint64_t attempts = k.stats().archived + k.stats().archive_failures;
  k.ScanAll();
  if (!interrupt.interrupted() && k.stats().archived + k.stats().archive_failures != attempts) k.ScanAll();

  std::vector<std::string> emptied;
  for (const std::string& dir : had_files) {
    if (keeper::ListJournalDir(fs, dir, nullptr, nullptr, command_log.get()).empty()) {
      emptied.push_back(dir);
      std::fprintf(out, "left %s without journal files\n", Shown(dir).c_str());
    }
  }
  const auto& s = k.stats();
  std::fprintf(out, "%llu deleted (%llu unarchived), %llu archived, %llu failed to archive, %llu failed to delete",
               static_cast<unsigned long long>(s.deleted), static_cast<unsigned long long>(s.deleted_unarchived),
               static_cast<unsigned long long>(s.archived), static_cast<unsigned long long>(s.archive_failures),
               static_cast<unsigned long long>(s.delete_failures));
  if (!emptied.empty()) {
    std::fprintf(out, "; %zu %s left without journal files", emptied.size(),
                 emptied.size() == 1 ? "directory" : "directories");
  }
  if (interrupt.interrupted()) {
    std::fprintf(out, "; interrupted by %s: the rest is left for the next run",
                 interrupt.signal_number() == SIGINT ? "SIGINT" : "SIGTERM");
  }
  std::fprintf(out, "\n");
  const bool clean = s.archive_failures == 0 && s.delete_failures == 0 && s.skipped_dirs == 0;
  return clean && !interrupt.interrupted() ? 0 : 1;
}

}  // namespace lplex::cli
