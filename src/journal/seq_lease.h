// SeqLease: a durable reservation of sequence numbers, so that seq never goes
// backwards, not even after a crash (spec/cloud.md P2).
//
// Seq recovery from the journals (seq_recovery.h) only sees frames that
// reached the disk; after a kill -9 or a power cut the frames still in the
// writer's block were already served to apps (SSE, sessions, the cloud) with
// seqs the next run would hand out again for different frames. The lease
// closes that hole: before a seq is handed out, a ceiling above it is on disk
// in `{dir}/.lplex-seq` (written to a temp file, fsynced, renamed, the
// directory fsynced). At startup the next seq is max(journals, ceiling).
//  - Clean shutdown: Release(next) writes the exact next seq, so a clean
//    restart continues with no gap.
//  - Crash: the seqs between the last journaled frame and the ceiling are
//    skipped (never reused); a gap of at most `chunk` seqs.
//
// Cost on the thread that assigns seqs (the broker's): one atomic load per
// frame. Seqs are reserved `chunk` at a time (65,536 ≈ half a minute of a
// full 250 kbit/s bus); the next chunk is written by the lease's own thread
// once half of the current one is used, so the assigning thread only waits
// for an fsync when the disk is so slow that the renewal is not done after
// chunk/2 more frames.
//
// The file matches neither *.lpj nor *.lpj.archived, so the keeper and the
// lplex tools never see it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"

namespace lplex::journal {

inline constexpr char kSeqLeaseFileName[] = ".lplex-seq";

// `{dir}/.lplex-seq`.
std::string SeqLeasePath(const std::string& dir);

// The ceiling stored in `dir` (every seq below it may have been handed out);
// nullopt when there is no lease file. A file that does not follow the format
// is a Corruption error naming it and saying how to recover.
Result<std::optional<uint64_t>> ReadSeqLease(const std::string& dir, FileSystem* fs = nullptr);

// Stores `ceiling` durably: temp file, fsync, rename over the lease, fsync
// the directory. A crash at any point leaves the old or the new file whole.
Status WriteSeqLease(const std::string& dir, uint64_t ceiling, FileSystem* fs = nullptr);

struct SeqLeaseOptions {
  std::string dir;              // the journal directory (exists)
  uint64_t chunk = 65536;       // seqs reserved per write; >= 2
  FileSystem* fs = nullptr;     // null = FileSystem::Default()
  Logger* log = nullptr;        // null = Logger::Default()
};

class SeqLease {
 public:
  // Durably reserves [next_seq, next_seq + chunk) before returning and
  // starts the renewal thread. Errors: the write failed (naming the file).
  static Result<std::unique_ptr<SeqLease>> Acquire(SeqLeaseOptions options, uint64_t next_seq);
  ~SeqLease();  // stops the thread; does not write (Release does)
  SeqLease(const SeqLease&) = delete;
  SeqLease& operator=(const SeqLease&) = delete;

  // Called on the assigning thread after `seq` was handed out, for every
  // seq in order. Returns at once unless seq + 1 reached the durable ceiling:
  // then it waits until the next chunk is on disk (or, if that write fails,
  // logs an error and goes on: serving the bus matters more than a lease).
  void Assigned(uint64_t seq) {
    if (seq + 1 >= renew_at_.load(std::memory_order_relaxed)) Renew(seq);
  }

  // Clean shutdown, after the last seq was assigned: stops the thread and
  // stores exactly `next_seq`, so the next run starts there with no gap.
  Status Release(uint64_t next_seq);

  // The durable ceiling (seqs below it are reserved). Any thread.
  uint64_t ceiling() const { return ceiling_.load(std::memory_order_acquire); }
  // Lease writes that failed (each logged).
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }

 private:
  SeqLease(SeqLeaseOptions options, uint64_t ceiling);
  void Renew(uint64_t seq);
  void Run();

  SeqLeaseOptions opt_;
  Logger* log_;
  std::atomic<uint64_t> ceiling_;
  std::atomic<uint64_t> renew_at_;  // seq + 1 at which the next chunk is asked for
  std::atomic<uint64_t> write_errors_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wanted_ = 0;  // ceiling the thread should write; 0 = nothing asked
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lplex::journal
