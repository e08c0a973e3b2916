#include "keeper/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace lplex::keeper {

Result<ArchiveTrigger> ParseArchiveTrigger(std::string_view s) {
  if (s.empty() || s == "disabled") return ArchiveTrigger::kDisabled;
  if (s == "on-rotate") return ArchiveTrigger::kOnRotate;
  if (s == "before-expire") return ArchiveTrigger::kBeforeExpire;
  return Status::InvalidArgument(
      fmt::format("unknown archive trigger: \"{}\" (valid: on-rotate, before-expire, disabled)", s));
}

std::string_view ArchiveTriggerName(ArchiveTrigger t) {
  switch (t) {
    case ArchiveTrigger::kDisabled: return "disabled";
    case ArchiveTrigger::kOnRotate: return "on-rotate";
    case ArchiveTrigger::kBeforeExpire: return "before-expire";
  }
  return "disabled";
}

Result<OverflowPolicy> ParseOverflowPolicy(std::string_view s) {
  if (s.empty() || s == "delete-unarchived") return OverflowPolicy::kDeleteUnarchived;
  if (s == "pause-recording") return OverflowPolicy::kPauseRecording;
  return Status::InvalidArgument(
      fmt::format("unknown overflow policy: \"{}\" (valid: delete-unarchived, pause-recording)", s));
}

std::string_view OverflowPolicyName(OverflowPolicy p) {
  return p == OverflowPolicy::kPauseRecording ? "pause-recording" : "delete-unarchived";
}

RetentionPlan PlanRetention(std::vector<FileState> files, const RetentionConfig& c, bool archiving, int64_t now_us) {
  // Oldest first; a name without a time counts as infinitely old.
  std::stable_sort(files.begin(), files.end(), [](const FileState& a, const FileState& b) {
    const int64_t ta = a.created_us.value_or(std::numeric_limits<int64_t>::min());
    const int64_t tb = b.created_us.value_or(std::numeric_limits<int64_t>::min());
    return ta != tb ? ta < tb : a.path < b.path;
  });
  uint64_t total = 0;
  for (const FileState& f : files) total += f.size;
  const uint64_t soft =
      (c.max_size > 0 && archiving && c.soft_pct > 0) ? c.max_size * static_cast<uint64_t>(c.soft_pct) / 100 : 0;

  RetentionPlan plan;
  size_t i = 0;
  for (; i < files.size(); ++i) {
    const FileState& f = files[i];
    const bool over_cap = c.max_size > 0 && total > c.max_size;
    bool expired = over_cap;
    if (!expired && c.max_age_us > 0) {
      // A zero/unparseable time is ancient: older than any limit.
      const bool ancient = !f.created_us.has_value();
      const int64_t age = ancient ? 0 : now_us - *f.created_us;
      expired = ancient || (age > c.max_age_us && (c.min_keep_us <= 0 || age > c.min_keep_us));
    }
    if (!expired) break;
    total -= f.size;
    if (f.open) continue;  // a writer still has it: neither deleted nor archived
    if (!archiving || f.archived) {
      plan.delete_paths.push_back(f.path);
    } else if (f.pending && over_cap) {
      if (c.overflow == OverflowPolicy::kDeleteUnarchived) {
        plan.delete_paths.push_back(f.path);
      } else {
        plan.need_pause = true;
      }
    } else if (!f.pending) {
      plan.archive_paths.push_back(f.path);
    }
  }
  if (soft > 0 && total > soft) {
    for (; i < files.size(); ++i) {
      const FileState& f = files[i];
      if (!f.archived && !f.pending && !f.open) plan.archive_paths.push_back(f.path);
    }
  }
  return plan;
}

}  // namespace lplex::keeper
