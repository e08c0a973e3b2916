// Retention policy as a pure function: (files of one directory, config, now)
// → what to delete, what to archive, whether recording must pause.
// The keeper loop only executes the plan. docs/retention.md explains the
// zones with examples; spec/journal.md §6.3 is the reference behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::keeper {

enum class ArchiveTrigger { kDisabled, kOnRotate, kBeforeExpire };
enum class OverflowPolicy { kDeleteUnarchived, kPauseRecording };

// "" and "disabled" → kDisabled; "on-rotate"; "before-expire". The error
// names the value and lists the valid ones.
Result<ArchiveTrigger> ParseArchiveTrigger(std::string_view s);
std::string_view ArchiveTriggerName(ArchiveTrigger t);
// "" and "delete-unarchived" → kDeleteUnarchived; "pause-recording".
Result<OverflowPolicy> ParseOverflowPolicy(std::string_view s);
std::string_view OverflowPolicyName(OverflowPolicy p);

struct RetentionConfig {
  int64_t max_age_us = 0;   // 0 = no age limit
  int64_t min_keep_us = 0;  // with max_age: files younger than this are never expired by age
  uint64_t max_size = 0;    // bytes per directory; 0 = no limit
  int soft_pct = 80;        // soft zone starts at max_size * soft_pct / 100 (0 = no soft zone)
  OverflowPolicy overflow = OverflowPolicy::kDeleteUnarchived;
};

// One .lpj file as the keeper sees it.
struct FileState {
  std::string path;
  uint64_t size = 0;
  std::optional<int64_t> created_us;  // from the name; nullopt = unparseable = infinitely old
  bool archived = false;              // "<path>.archived" exists
  bool pending = false;               // an archive attempt failed and awaits retry
  bool open = false;                  // a writer still has it open: never archived or deleted
};

struct RetentionPlan {
  std::vector<std::string> delete_paths;  // delete file and marker, in this order
  std::vector<std::string> archive_paths; // archive now (oldest first)
  bool need_pause = false;                // over the hard cap with unarchivable files (pause-recording)
};

// The plan for one directory. `archiving` is true when an archive target is
// configured and the trigger is not disabled. Files are considered oldest
// first (by name time, then name). Comparisons are strict: total > max_size,
// total > soft threshold, age > max_age, age > min_keep.
//
// Walk, oldest first, while files are expired (over the size cap, or older
// than max_age and min_keep):
//  - not archiving, or archived          → delete;
//  - pending and over the size cap        → delete-unarchived: delete;
//                                           pause-recording: keep, need_pause;
//  - not pending                          → archive (a later scan deletes it);
//  - pending, not over the cap            → wait for the retry.
// Each expired file leaves the running total whatever happens to it. At the
// first file that is not expired, if the total is still above the soft
// threshold, every unarchived, not pending file from there on is archived.
// Open files are never deleted or archived (they still count toward size).
RetentionPlan PlanRetention(std::vector<FileState> files, const RetentionConfig& config, bool archiving,
                            int64_t now_us);

}  // namespace lplex::keeper
