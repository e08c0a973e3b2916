// InstanceJournal: the live journal of one boat (instance) on the cloud.
//
//   replica broker --journal_sink--> InstanceJournal::Offer
//        (seq 0 dropped here) --> JournalSink [queue] --SinkRunner--> JournalWriter --> nmea2k-*.lpj
//
// It is the boat's JournalSink + JournalWriter (docs/adr/006), with what the
// cloud needs in front of them:
//  - Cheap until the first frame. Creating one allocates no block buffer, no
//    zstd context, no queue and opens no file: the writer and its sink are
//    created by the first frame that is journaled, and Close() frees them
//    again, so an instance that stopped streaming costs its few fields only.
//    (JournalWriter allocates its block buffer and compressor in its
//    constructor, which is why the writer itself is created late.)
//  - Replica seqs. Frames keep the boat's seq. The seq-0 device snapshot a
//    boat sends at the start of every live stream (spec/cloud.md §1.5) is
//    not journaled (P5): it has no place in a seq-numbered block. Its
//    address claims and product information seed the new writer's device
//    registry, so the first blocks still name the devices. A seq that does
//    not follow the previous frame starts a new block (the writer's seq
//    break), so every journaled frame keeps its own seq (P5).
//  - Shared threads. The sink is served by a SinkRunner the owner passes in;
//    one runner serves the sinks of many instances (a cloud runs a small
//    pool), so an instance costs a queue, not a thread.
//  - Rotation that can change. SetRotation(duration, size) applies to the
//    next file and — once JournalWriter::SetRotation exists (see the .cc) —
//    to the file already open.
//  - Close() writes what is queued, finishes the open file and fires
//    on_rotate (the keeper) before it returns.
//
// Threads. Offer and Close belong to the instance's producer side: the owner
// serializes them (the instance lock), never calling them concurrently.
// SetRotation, SetPaused, active() and metrics() may be called from any
// thread at any time. on_rotate and on_open_change run on the runner's
// thread or on the thread that calls Close(): they must be thread-safe and
// must not call back into the owner's locks (the keeper's Send only queues).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "can/frame.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"
#include "journal/format.h"
#include "journal/journal_sink.h"
#include "journal/rotated_file.h"
#include "journal/writer.h"

namespace lplex::cloud {

// The journal settings every instance of a cloud shares (spec/cloud.md
// §2.2: prefix nmea2k, 256 KiB blocks, zstd; rotation from the flags).
struct JournalSettings {
  std::string prefix = "nmea2k";
  uint32_t block_size = journal::kDefaultBlockSize;
  journal::Compression compression = journal::Compression::kZstd;
  int zstd_level = 3;
  int64_t rotate_duration_us = 0;  // 0 = no time rotation
  uint64_t rotate_size = 0;        // 0 = no size rotation
  // A block is written at least this often. The cloud acknowledges a
  // boat's seqs only once they are in a file, so this bounds how far acks
  // trail live (the boat's 60 s would leave a quiet boat a minute behind),
  // at the price of smaller blocks for quiet boats.
  int64_t flush_interval_us = 10'000'000;
  // Per instance while it streams (FrameQueue: ~6,500 8-byte frames for
  // 256 KiB, over 3 s of a full bus while its runner is busy elsewhere).
  size_t queue_bytes = 256 << 10;
  int64_t close_budget_us = 5'000'000;
};

// Checks `settings` as JournalWriter::Create and JournalSink::Create would;
// the InvalidArgument names the bad value. Builds (and frees) one writer, so
// call it once (the InstanceManager does, at startup), not per instance.
Status CheckJournalSettings(const JournalSettings& settings);

struct InstanceJournalOptions {
  std::string instance_id;  // put into every RotatedFile
  std::string dir;          // {data-dir}/instances/{id}/journal; created by the first file
  JournalSettings settings;
  // Runner that serves the sink (not owned; must outlive this journal, or
  // at least its last Close). Null: nobody services the sink but Close()
  // (tests drive a runner of their own by passing it here).
  journal::SinkRunner* runner = nullptr;
  // The keeper's hook: each finished file, with instance_id filled in.
  std::function<void(const journal::RotatedFile&)> on_rotate;
  std::function<void(const std::string& path, bool open)> on_open_change;
  // Each block written to a file: seqs [base_seq, base_seq + frame_count)
  // are in the journal (JournalWriter's on_block_written; runner thread or
  // the caller of WriteOut/Close). What the cloud may acknowledge.
  std::function<void(uint64_t base_seq, uint64_t frame_count)> on_block_written;
  FileSystem* fs = nullptr;  // null = FileSystem::Default()
  Clock* clock = nullptr;    // null = Clock::Real()
  Logger* log = nullptr;     // null = no logging
};

// Counters of one InstanceJournal, summed over every writer it had.
struct InstanceJournalMetrics {
  uint64_t snapshot_frames_skipped = 0;  // seq 0: not journaled
  uint64_t frames_queued = 0;            // accepted by Offer
  uint64_t frames_dropped = 0;           // the queue was full
  uint64_t frames_refused = 0;           // payload too large, time out of range, or no writer could be made
  uint64_t frames_on_disk = 0;           // in blocks the disk accepted
  uint64_t files_finished = 0;
  bool active = false;                   // a writer and its queue exist now
};

class InstanceJournal {
 public:
  // Checks the cheap options (an id and a directory); allocates nothing
  // else. The writer's own options are checked when its first frame arrives
  // (CheckJournalSettings checks them up front).
  static Result<std::unique_ptr<InstanceJournal>> Create(InstanceJournalOptions options);

  InstanceJournal(const InstanceJournal&) = delete;
  InstanceJournal& operator=(const InstanceJournal&) = delete;
  // Close()s.
  ~InstanceJournal();

  // Producer. Journals `frame` under its own seq:
  //  - seq 0 (the device snapshot): not journaled; its claims and product
  //    information are kept (at most kMaxSnapshotFrames) to seed the next
  //    writer's device registry. Returns true (nothing was lost);
  //  - otherwise the first frame creates the writer and its sink and hands
  //    the sink to the runner; the frame is queued. False when it was not
  //    queued (full queue, oversized payload, writer not creatable, or
  //    recording paused by the keeper): the caller must not count it as
  //    durably accepted (ReplicaProgress P4), so it becomes a hole.
  // Never blocks on the disk.
  bool Offer(const can::Frame& frame);

  // Any thread. Rotation from now on, for the open file and the next. A
  // duration already passed, or a size already reached, rotates the open
  // file at the runner's next tick / next block.
  void SetRotation(int64_t rotate_duration_us, uint64_t rotate_size);
  // Any thread. The keeper's pause-recording policy: frames are discarded
  // (counted by the writer) while paused. Sticks across writers.
  void SetPaused(bool paused);

  // Producer side. The sink frames go to now (null while no writer exists).
  // Its WriteOut (thread-safe) writes every frame queued so far and the open
  // block to the file: each frame Offer accepted before is then in the file
  // (on_block_written has told) or was lost (counted). The caller need not
  // hold its own lock through that disk write.
  std::shared_ptr<journal::JournalSink> sink() const { return sink_; }

  // Producer side. Writes what is queued (within the close budget), finishes
  // the open file (on_rotate fires before Close returns) and frees the
  // writer, its buffers and queue. The journal is idle again: a later frame
  // starts a new file. OK when nothing was open.
  Status Close();

  // Whether a writer exists (between the first journaled frame and Close).
  bool active() const;
  InstanceJournalMetrics metrics() const;
  const std::string& instance_id() const { return opt_.instance_id; }

  // Seq-0 frames kept for the next writer's registry (a boat with more
  // devices than this seeds the rest from its live address claims).
  static constexpr size_t kMaxSnapshotFrames = 512;

 private:
  explicit InstanceJournal(InstanceJournalOptions options);
  // Builds the writer (seeded from the snapshot) and the sink. mu_ held.
  Status StartLocked();
  void KeepSnapshotFrame(const can::Frame& frame);

  InstanceJournalOptions opt_;

  // Guards the settings and the sink pointer against SetRotation/SetPaused
  // and readers. The producer reads sink_ without it (only the producer
  // side — Offer and Close — changes it).
  mutable std::mutex mu_;
  std::shared_ptr<journal::JournalSink> sink_;
  bool paused_ = false;
  std::atomic<bool> refusing_{false};  // paused_, for Offer without the lock

  struct SnapshotFrame {
    int64_t timestamp_us;
    uint8_t source;
    uint32_t pgn;
    std::vector<uint8_t> data;
  };
  std::vector<SnapshotFrame> snapshot_;  // producer only

  std::atomic<uint64_t> snapshot_skipped_{0};
  std::atomic<uint64_t> no_writer_refused_{0};  // frames refused because no writer could be made
  journal::SinkMetrics closed_;                  // sums over closed writers (mu_)
};

}  // namespace lplex::cloud
