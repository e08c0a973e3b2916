// Archiver: sends finished journal files to long-term storage.
//
// Three targets implement it:
//  - ScriptArchiver   (journal.archive.command): runs an operator's program
//                     with the argv + JSONL protocol of spec/journal.md §6.4;
//  - S3Archiver       (journal.archive.target = "s3://bucket/prefix/"): uploads
//                     with libcurl's SigV4 to {prefix}{instance_id}/{file name};
//  - DirectoryArchiver (journal.archive.target = "file:///path"): copies to
//                     {path}/{instance_id}/{file name} via a temporary name,
//                     fsync and rename.
//
// Contract for every implementation:
//  - Archive() returns exactly one outcome per item, in batch order;
//  - an outcome is ok only when the copy is durable at the target and equal
//    to the file (the store confirmed it); anything else is a failure with a
//    message that names the file, the target and the reason (status code,
//    errno text, script answer);
//  - it never modifies or deletes the files it is given (the keeper writes the
//    `.archived` markers and deletes files);
//  - it returns by `deadline`, a point on the monotonic time line of the
//    archiver's clock (the `clock` each target takes; null = Clock::Real(),
//    whose monotonic time is steady_clock's): work still running then is
//    abandoned (a script is killed, a transfer aborted) and reported as
//    failed. Real blocking work (a script's process, a curl transfer) is
//    given the time left on that clock as a real timeout. One exception:
//    S3 spends up to its abort grace (2 s) past the deadline telling the store
//    to drop the parts of a failed multipart upload;
//  - cancellation (ArchiverConfig::cancel, set by a SIGINT/SIGTERM handler
//    or a server's shutdown): once the flag reads true, Archive() returns as
//    soon as it can — a script's process group is stopped (SIGTERM, then
//    SIGKILL), a per-file target stops between files (the file in progress
//    finishes or is abandoned). Items already done keep their outcome (ok
//    stays ok); the rest fail with `interrupted` set;
//  - it may be called again after any failure (retries) and must be safe to
//    call for a file that was archived before: a copy already at the
//    destination with the same content is success (a crash between the copy
//    and the marker must not make the file unarchivable);
//  - it NEVER replaces an existing copy with different content: that is a
//    failure naming the destination and saying "the destination already
//    exists with different content (...); not overwritten" (or "different
//    or unverifiable content" when the target cannot tell), and the existing
//    copy stays as it was (a script target is trusted to do the same). Two
//    recordings with the same file names (a re-import, another recorder
//    pointed at the same target) would otherwise overwrite each other's
//    copies, and retention would then delete the only remaining original;
//  - an item whose instance id is not valid (core/instance_id.h) fails
//    without anything being written: an id never moves a copy out of the
//    target's root, prefix or bucket.
// Archive() is called from one thread at a time (the keeper's).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lplex::keeper {

// A point on the archiver's clock's monotonic time line (Clock::Monotonic()).
// The keeper and its archiver must share a clock (KeeperOptions::clock,
// ArchiverConfig::clock).
using Deadline = MonoTime;

// One file to archive, as the keeper queued it.
struct ArchiveItem {
  std::string path;
  std::string instance_id;  // "" on a boat without a replication id
  uint64_t size = 0;        // bytes when the file was queued
  int64_t created_us = 0;   // time in the file name; meaningful only when created_known
  bool created_known = false;
};

struct ArchiveOutcome {
  bool ok = false;
  std::string error;  // why it failed ("" when ok)
  bool interrupted = false;  // failed because the run was cancelled, not because of the target
};

class Archiver {
 public:
  Archiver() = default;
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;
  virtual ~Archiver() = default;

  virtual std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) = 0;

  // What the archiver sends to, for logs: "script /usr/local/bin/archive.sh",
  // "s3://bucket/prefix/", "file:///srv/archive".
  virtual std::string Describe() const = 0;

  // Whether the files of `journal_dir` may be archived here under
  // `instance_id` ("" = none). A target that writes to the local file system
  // refuses (InvalidArgument, naming both directories) a directory its copies
  // would land in, inside, or around — a copy there is no copy, and retention
  // would delete the only one. Targets that cannot overlap a local directory
  // (S3, scripts) accept every directory. Callers check before archiving
  // anything: the keeper skips such a directory, the CLI refuses to run.
  virtual Status CheckJournalDir(const std::string& journal_dir, const std::string& instance_id) const;
};

// Base for targets that archive one file at a time (S3, directory): Archive()
// checks each item (CheckArchiveItem; a bad one fails without ArchiveOne being
// called), calls ArchiveOne for each good one in order, and turns an error
// into an outcome that names the file and its destination.
class PerFileArchiver : public Archiver {
 public:
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) final;

 protected:
  // Called once at the start of every Archive() call, before any item.
  virtual void OnBatchStart() {}
  virtual Status ArchiveOne(const ArchiveItem& item, Deadline deadline) = 0;
  // Where the item goes, as a URL: "s3://bucket/key", "file:///srv/archive/boat/x.lpj".
  virtual std::string DestinationUrl(const ArchiveItem& item) const = 0;
};

// OK when the item can be archived anywhere without escaping: its instance id
// is empty or valid (ValidateInstanceId), and its path names a file (the part
// after the last '/' is not "", "." or ".."). The error names the file.
Status CheckArchiveItem(const ArchiveItem& item);

// The file name part of an item's path plus the object key / relative path
// every target uses: "{instance_id}/{file name}", or just "{file name}" when
// the instance id is empty. Only meaningful for an item CheckArchiveItem
// accepted (PerFileArchiver::Archive checks before calling ArchiveOne).
std::string ArchiveRelativePath(const ArchiveItem& item);

}  // namespace lplex::keeper
