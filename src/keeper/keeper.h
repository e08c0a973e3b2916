// Keeper: keeps journal directories within their retention limits and gets
// every finished journal file to the archive.
//
// One keeper serves a process (the boat has one directory; the cloud lists
// {data-dir}/instances/*/journal afresh on every scan through dir_func).
// Writers report finished files with Send(); Send never blocks and never
// loses a rotation: a path already queued is not queued twice, the queue
// holds queue_capacity paths (65,536 by default: a fleet's burst of
// rotations, a few MB), and past that the file's directory is marked for a
// rescan that the keeper runs at its next turn, not at the next periodic scan.
//
// What runs, on the keeper's own thread:
//  - at start: a retention scan of every directory, then (trigger on-rotate)
//    a sweep that archives every finished, unarchived file;
//  - on notifications (on-rotate): archive those files, up to
//    upload_parallelism of them at once;
//  - on an overflowed notification (on-rotate): sweep that file's directory;
//  - every scan_interval: retention scan, then (on-rotate) the sweep again;
//  - when files failed: a retry of all of them after the backoff (first
//    first_backoff, doubling to max_backoff; back to zero after a retry in
//    which everything succeeded).
// A file is archived at most until it has its "<path>.archived" marker,
// which is written only after the archiver reported success. Files a writer
// still has open (is_open) are never archived or deleted.
//
// Uploads in parallel: with make_upload_archiver set, the keeper holds up to
// upload_parallelism archivers (`archiver` and ones the function makes), and
// cuts every batch into as many contiguous parts, one Archive() call per
// archiver on its own thread. Each archiver still sees one call at a time
// (Archiver's contract), and the batch returns only when every part has: the
// markers, the retry list, deletions and the counters stay on the keeper's
// thread, so a marker is still written only after a confirmed upload and a
// file is still deleted only after its marker or by retention's own rule.
//
// Log lines go to KeeperOptions::log and start with "keeper: "; a line about
// one directory's files also names its instance id first ("[boat-1] keeper:
// archived …"), so the cloud's log says which boat a line is about.
//
// Directories are checked on every scan (CheckKeeperDir): one with an
// invalid instance id, or one the archiver would copy into or around, is
// skipped entirely — neither archived nor deleted from — with an error in the
// log, so a bad configuration can never turn retention into data loss.
//
// Stop(): stops the loop, then archives the notifications still queued (the
// last files the writers finished at shutdown) and sweeps the directories
// marked for a rescan, giving up after drain_timeout; what is left is logged
// and swept at the next start.
//
// Time: file ages come from KeeperOptions::clock's wall-clock time; every
// interval, backoff, timeout and archive deadline from its monotonic time,
// and the thread waits through a ClockCondition on it. With a FakeClock the
// keeper's schedule moves only with FakeClock::Advance (tests step through
// scans and retries without sleeping; FakeClock::AwaitBlocks tells them the
// thread is idle again).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/clock_condition.h"
#include "core/file_system.h"
#include "core/instance_id.h"
#include "core/log.h"
#include "journal/archived_marker.h"
#include "journal/rotated_file.h"
#include "keeper/archiver.h"
#include "keeper/policy.h"

namespace lplex::keeper {

using std::chrono::milliseconds;


struct KeeperDir {
  std::string dir;
  std::string instance_id;
  friend bool operator==(const KeeperDir&, const KeeperDir&) = default;
};

// The .lpj files of one directory with their state. Missing directory →
// empty. `is_pending` / `is_open` may be null (nothing pending / open). A
// directory that cannot be listed is logged to `log` ("cannot list DIR: …",
// the logger adds any component prefix; null: Logger::Default() with
// "keeper: ") and yields no files.
std::vector<FileState> ListJournalDir(FileSystem* fs, const std::string& dir,
                                      const std::function<bool(const std::string&)>& is_pending,
                                      const std::function<bool(const std::string&)>& is_open,
                                      lplex::Logger* log = nullptr);

// Creates the zero-byte "<path>.archived" marker (OK if it already exists).
Status WriteArchivedMarker(FileSystem* fs, const std::string& path);

// An archiver's failure message taken apart so that the keeper's warning,
// "archiving PATH to DESTINATION failed: REASON", names the file once:
// "archive PATH to DEST: REASON" gives (DEST, REASON), "PATH: REASON" gives
// (target, REASON), anything else (target, error).
struct ArchiveFailure {
  std::string destination;
  std::string reason;
};
ArchiveFailure SplitArchiveError(const std::string& error, const std::string& path, const std::string& target);

// Removes every "<name>.lpj.archived" marker in `dir` whose journal file is
// gone (deleted by hand, or by a process that died between deleting the file
// and its marker), logging each one to `log` (null: Logger::Default() with
// "keeper: "). An orphan marker is harmless until a new file gets its name;
// writers refuse such names (journal/archived_marker.h), and this keeps a
// directory from collecting them. Returns how many were removed.
size_t RemoveOrphanMarkers(FileSystem* fs, const std::string& dir, lplex::Logger* log = nullptr);

// The cloud's journal directories, listed afresh for each scan:
// {data_dir}/instances/<id>/journal for every subdirectory <id> with a valid
// instance id (ValidateInstanceId; others are skipped with a warning that
// says why, to `log` as for ListJournalDir). Use as KeeperOptions::dir_func.
std::vector<KeeperDir> ListInstanceJournalDirs(FileSystem* fs, const std::string& data_dir,
                                               lplex::Logger* log = nullptr);

struct KeeperOptions {
  std::vector<KeeperDir> dirs;
  // When set, called for every scan and sweep instead of using `dirs`.
  std::function<std::vector<KeeperDir>()> dir_func;

  RetentionConfig retention;
  ArchiveTrigger trigger = ArchiveTrigger::kDisabled;
  std::shared_ptr<Archiver> archiver;  // null: nothing is archived

  milliseconds scan_interval = std::chrono::minutes(5);
  milliseconds first_backoff = std::chrono::minutes(1);
  milliseconds max_backoff = std::chrono::hours(1);
  milliseconds archive_timeout = std::chrono::minutes(5);  // one archiver call
  milliseconds drain_timeout = std::chrono::minutes(5);    // Stop(): queued notifications
  // Distinct paths Send() queues before it marks a file's directory for a
  // rescan instead (each entry is one path; the default bounds the queue to
  // a few MB however large the fleet's burst).
  size_t queue_capacity = 65536;
  // Archive() calls running at once (see the top of this file); 0 counts as
  // 1. Only with make_upload_archiver: `archiver` alone serves one call at a
  // time.
  size_t upload_parallelism = 4;
  // Makes another archiver like `archiver` (same target, clock and cancel
  // flag) for a parallel upload slot; called at most upload_parallelism - 1
  // times, from the keeper's thread. Null, or a null result: fewer slots.
  std::function<std::shared_ptr<Archiver>()> make_upload_archiver;

  // Called when a directory's pause state changes (false → true, true → false).
  std::function<void(const KeeperDir&, bool paused)> on_pause_change;
  // True for files a writer still has open. Null: none.
  std::function<bool(const std::string& path)> is_open;
  // Called after every deletion attempt: `result` is OK when the file is gone
  // (`archived`: it had its marker) or says why it could not be deleted.
  std::function<void(const std::string& path, bool archived, const Status& result)> on_delete;

  // Null = Clock::Real(). Wall time: file ages; monotonic time: intervals,
  // backoffs, timeouts and archive deadlines. `archiver` must run on the same
  // clock (ArchiverConfig::clock): the keeper's deadlines are on its time line.
  Clock* clock = nullptr;
  FileSystem* fs = nullptr;
  // Where the keeper logs (not owned, must outlive the keeper, called from
  // the keeper's thread and from Send()'s callers); null: Logger::Default().
  // Give it no instance prefix: the keeper adds each directory's own.
  lplex::Logger* log = nullptr;
};

struct KeeperStats {
  uint64_t archived = 0;
  uint64_t archive_failures = 0;
  uint64_t deleted = 0;
  uint64_t deleted_unarchived = 0;  // of `deleted`: files without their marker
  uint64_t delete_failures = 0;     // files retention meant to delete but could not
  uint64_t skipped_dirs = 0;        // directory scans skipped because CheckKeeperDir refused
  uint64_t scans = 0;
};

// Whether the keeper may work in `d`: its instance id, when not empty, is
// valid, and `archiver` (null: no archiving) accepts the directory
// (Archiver::CheckJournalDir: a directory target must not be, contain or lie
// inside it). The error names the directory and the reason.
Status CheckKeeperDir(const KeeperDir& d, const Archiver* archiver);

// The checks a server runs before starting a keeper, so a bad configuration
// is refused at start instead of skipped at every scan: an archive trigger
// other than disabled needs an archiver (without one, expired files would be
// deleted unarchived), and every directory in `dirs` passes CheckKeeperDir.
// (Directories from dir_func are checked as they are listed.)
Status CheckKeeperOptions(const KeeperOptions& options);

class Keeper {
 public:
  explicit Keeper(KeeperOptions options);
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;
  ~Keeper();  // Stop()

  // Starts the keeper thread (startup scan and sweep run there).
  void Start();
  // Queues a finished file. Never blocks. A path already queued is not
  // queued again. Returns false when the queue held queue_capacity paths:
  // the file's directory (the part of its path before the last '/', which
  // must spell the KeeperDir's `dir` as given) is then marked for a sweep
  // that the keeper runs at its next turn (on-rotate), so the file is not
  // left to the next periodic scan.
  bool Send(journal::RotatedFile file);
  // Stops the thread and drains the queue and the marked directories
  // (bounded by drain_timeout).
  void Stop();

  // True when archiving is configured: an archiver and a trigger.
  bool archiving() const;

  // The steps the thread runs, callable directly when it is not running
  // (tests, `lplex archive`, `lplex retention`).
  void ScanAll();            // retention for every directory
  // One-shot retention (`lplex retention`): ScanAll, then, when it archived
  // or failed to archive anything, ScanAll again, so the expired files just
  // archived are deleted in the same run, and those whose archive failed now
  // count as pending: over the size cap, delete-unarchived deletes them and
  // pause-recording keeps them (on_pause_change reports the pause). A running
  // keeper leaves that to its next scan instead, as the reference does.
  void ApplyRetentionOnce();
  void SweepUnarchived();    // archive every finished, unarchived, not pending file
  void HandleRotation(const journal::RotatedFile& file);
  void HandleRotation(const journal::RotatedFile& file, Deadline deadline);
  void RetryPending();

  size_t pending_count() const { return pending_.size(); }
  std::vector<std::string> pending_paths() const;
  milliseconds backoff() const { return backoff_; }
  // Counters of the keeper thread's work; read them after Stop() (or when
  // using the synchronous steps), not while the thread runs.
  const KeeperStats& stats() const { return stats_; }
  // Notifications Send() did not queue because the queue was full, their
  // directory marked for a rescan instead (any time).
  uint64_t dropped_notifications() const { return dropped_.load(std::memory_order_relaxed); }

  // Marker helpers: "<path>.archived".
  static std::string MarkerPath(const std::string& path) { return journal::ArchivedMarkerPath(path); }

 private:
  void Run();
  std::vector<KeeperDir> Dirs() const;
  // Dirs() without those CheckKeeperDir refuses (each refusal logged once).
  std::vector<KeeperDir> CheckedDirs();
  std::vector<FileState> ListDir(const KeeperDir& d);
  ArchiveItem ItemFor(const std::string& path, const std::string& instance_id, uint64_t size) const;
  // Runs the archiver; marks successes; failures join pending. Returns true
  // when every item succeeded.
  bool ArchiveBatch(const std::vector<ArchiveItem>& batch, Deadline deadline);
  // The archiver's outcomes for `items` (valid ones), the batch cut over the
  // upload slots; one outcome per item, in order.
  std::vector<ArchiveOutcome> RunArchivers(const std::vector<ArchiveItem>& items, Deadline deadline);
  // The upload slots, made on first use (at least 1 with an archiver).
  size_t UploadSlots();
  // The on-rotate handling of several notifications as one batch.
  void HandleRotations(const std::vector<journal::RotatedFile>& files, Deadline deadline);
  // SweepUnarchived over the checked directories whose dir is in `only`
  // (null: all of them).
  void Sweep(const std::set<std::string>* only, Deadline deadline);
  void DeleteFile(const KeeperDir& d, const std::string& path);
  void SetPaused(const KeeperDir& d, bool paused);
  Deadline ArchiveDeadline() const { return clock_->Monotonic() + opt_.archive_timeout; }

  KeeperOptions opt_;
  Clock* clock_;
  FileSystem* fs_;
  lplex::Logger* base_log_;            // opt_.log or Logger::Default()
  std::unique_ptr<lplex::Logger> log_;  // "keeper: " over base_log_

  // Owned by the keeper thread (or the caller of the synchronous steps).
  bool IsPending(const std::string& path) const { return pending_set_.count(path) != 0; }
  void AddPending(const ArchiveItem& item);
  void RemovePending(const std::string& path);

  std::vector<ArchiveItem> pending_;  // in the order they failed
  std::set<std::string> pending_set_; // the same paths, for lookups during scans
  milliseconds backoff_{0};
  std::map<std::string, bool> paused_;  // by directory
  std::set<std::string> refusals_logged_;  // "dir\n reason" already reported
  KeeperStats stats_;
  std::vector<std::shared_ptr<Archiver>> uploaders_;  // [0] is opt_.archiver
  bool uploaders_made_ = false;

  std::mutex mu_;
  ClockCondition cond_{clock_};  // on mu_: queue_ and stopping_ changed, or the clock moved
  std::deque<journal::RotatedFile> queue_;
  std::set<std::string> queued_paths_;  // the paths in queue_
  std::set<std::string> rescan_dirs_;   // directories of notifications that found queue_ full
  std::atomic<uint64_t> dropped_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lplex::keeper
