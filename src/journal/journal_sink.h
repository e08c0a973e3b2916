// JournalSink and SinkRunner: the one way a broker (boat) or a cloud instance
// feeds a JournalWriter (docs/adr/006-journal-sink-and-runner.md).
//
//   producer (broker) --Offer--> JournalSink [FrameQueue] --Service--> JournalWriter --> .lpj
//                                      ^ drained, ticked and closed by a SinkRunner thread
//
// The producer never waits for the disk: Offer copies the frame into a
// bounded queue, or counts it as dropped when the queue is full. A SinkRunner
// owns the thread that drains queues into their writers and calls the
// writers' Tick about once a second; one runner can serve many sinks (one per
// boat, a small pool in the cloud), so a sink costs a queue, not a thread.
// Files are finished and on_rotate fires on the runner's thread, or on the
// thread that calls Close().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "can/frame.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "journal/frame_queue.h"
#include "journal/writer.h"

namespace lplex::journal {

struct SinkOptions {
  // Queue size in bytes: about 26,000 8-byte frames per MiB (FrameQueue).
  size_t queue_bytes = 1 << 20;
  // How often the writer's Tick runs (flush_interval and rotate_duration are
  // only as precise as this).
  int64_t tick_interval_us = 1'000'000;
  // Most frames one Service() call writes, so that one busy sink cannot
  // starve the others on its runner.
  size_t max_batch = 4096;
  // The longest Close() spends writing queued frames; what is still queued
  // then is abandoned (counted). The disk write in progress is not cut.
  int64_t close_budget_us = 5'000'000;
  // Monotonic time for the tick schedule and the close budget; wall time for
  // the writer's Tick. Null = Clock::Real().
  Clock* clock = nullptr;
  // Where disk errors are reported: the first at error level at once, then
  // at most one line a minute with the count since (a full disk fails every
  // block). Null = not logged (last_error() and the metrics still tell).
  Logger* log = nullptr;
};

// Counters, readable from any thread at any time.
struct SinkMetrics {
  uint64_t frames_queued = 0;       // accepted by Offer
  uint64_t frames_dropped = 0;      // refused by Offer: queue full (the producer goes on)
  uint64_t frames_refused = 0;      // never recordable: Offer after Close, payload over 1785 bytes,
                                    // or refused by the writer (time out of range, too large for a block)
  uint64_t frames_written = 0;      // appended into blocks (writer; some may still be in memory)
  uint64_t frames_on_disk = 0;      // in blocks the disk accepted (writer): what a reader finds
  uint64_t frames_paused = 0;       // discarded by the writer while paused (keeper)
  uint64_t frames_lost = 0;         // not recorded because the writer had an I/O error
  uint64_t frames_abandoned = 0;    // still queued when Close() ran out of budget
  uint64_t write_errors = 0;        // failed disk writes (writer)
  uint64_t files_finished = 0;      // writer
  uint64_t bytes_written = 0;       // writer
  uint64_t queue_depth = 0;         // frames waiting now
  uint64_t queue_bytes = 0;         // ring bytes in use now
  uint64_t queue_capacity_bytes = 0;
};

// What Close() did.
struct SinkCloseReport {
  uint64_t frames_drained = 0;    // written (or handed to the writer) by Close
  uint64_t frames_abandoned = 0;  // left in the queue when the budget ran out
  int64_t elapsed_us = 0;         // monotonic time Close took
  Status status;                  // the writer's Close, or the first error while draining
};

class SinkRunner;

class JournalSink {
 public:
  // Takes the writer (which must not be used by anyone else afterwards).
  // InvalidArgument when the writer is null or an option is out of range
  // (the message names it).
  static Result<std::shared_ptr<JournalSink>> Create(std::unique_ptr<JournalWriter> writer, SinkOptions options);

  JournalSink(const JournalSink&) = delete;
  JournalSink& operator=(const JournalSink&) = delete;
  // Closes the sink if the owner did not.
  ~JournalSink();

  // Producer: queues a copy of `frame` (data included) for the writer.
  // Never blocks on the disk or the consumer and never allocates (but the
  // first call allocates the queue). False when the frame is not queued:
  // the queue is full (frames_dropped), or the sink is closed or the payload
  // exceeds kMaxFrameDataLen (frames_refused). One producer thread at a time.
  bool Offer(const can::Frame& frame);

  // Consumer (a SinkRunner, or a test driving the sink by hand): writes up
  // to options.max_batch queued frames, then calls the writer's Tick when
  // tick_interval has passed since the last one. Returns true when frames
  // are still queued afterwards. Does nothing once the sink is closed.
  // Serialized with Close(); never run by two threads at once.
  bool Service();
  // Service(), unless another thread is servicing or closing this sink right
  // now (a runner thread stuck in a slow disk write): then it returns false
  // at once and sets *more to false. Otherwise true, with *more = Service().
  bool TryService(bool* more);

  // Consumer side, from any thread: writes every frame queued so far and the
  // writer's open block to the file now (the file stays open), so that
  // everything offered before the call is in the file — or lost and counted
  // — when it returns. A cloud calls it before it tells a boat what it holds.
  // Serialized with Service and Close (waits for a pass in progress). OK
  // after Close (nothing to write); else the first write error.
  Status WriteOut();

  // Stops accepting frames, writes what is queued (within close_budget_us;
  // the rest is abandoned and counted), and closes the writer: the open file
  // is finished and on_rotate fires before Close returns. Idempotent (a
  // second call returns an empty report). Stop the producer first: a frame
  // offered while Close runs is either written or refused.
  SinkCloseReport Close();

  bool closed() const { return closed_.load(std::memory_order_acquire); }
  SinkMetrics metrics() const;
  // The last error from the writer (OK when none), for logs and health.
  Status last_error() const;

  // The writer, for the thread that services the sink (e.g. to seed its
  // device registry before the first frame). Not for the producer.
  JournalWriter& writer() { return *writer_; }

 private:
  friend class SinkRunner;
  struct Wakeup;

  JournalSink(std::unique_ptr<JournalWriter> writer, SinkOptions options);
  // Service's work. service_mu_ held.
  bool ServiceLocked();
  // Appends one frame; counts the outcome. Called with service_mu_ held.
  void AppendLocked(const can::Frame& frame);
  void NoteError(const Status& s);
  void CopyWriterStats();
  void SetWakeup(std::weak_ptr<Wakeup> wakeup);

  const SinkOptions opt_;
  Clock* const clock_;
  FrameQueue queue_;

  std::mutex service_mu_;  // held by Service and Close: the writer's side
  std::unique_ptr<JournalWriter> writer_;
  int64_t last_tick_mono_us_ = 0;
  bool close_done_ = false;

  std::atomic<bool> closed_{false};
  // Set by Offer when the queue passes half full, cleared by Service: the
  // runner is woken once per fill instead of once per frame.
  std::atomic<bool> nudged_{false};
  std::mutex wakeup_mu_;  // guards wakeup_ (taken by Offer only to nudge)
  std::weak_ptr<Wakeup> wakeup_;

  std::atomic<uint64_t> frames_queued_{0}, frames_dropped_{0}, frames_refused_{0}, frames_lost_{0},
      frames_abandoned_{0};
  // Copies of the writer's counters (the writer is not thread-safe).
  std::atomic<uint64_t> w_written_{0}, w_on_disk_{0}, w_paused_{0}, w_refused_{0}, w_errors_{0}, w_files_{0},
      w_bytes_{0};
  mutable std::mutex error_mu_;
  Status last_error_;
  // Rate limit of SinkOptions::log (guarded by service_mu_).
  bool error_logged_ = false;
  int64_t error_logged_mono_us_ = 0;
  uint64_t errors_unlogged_ = 0;
};

struct SinkRunnerOptions {
  // How long the runner sleeps when no sink has queued frames; a sink whose
  // queue passes half full wakes it at once.
  int64_t poll_interval_us = 50'000;
  // Threads Start() runs (at least 1). They share every sink: a thread takes
  // whichever sink no other thread is servicing, so a sink whose disk write
  // hangs holds one thread, and the others go on serving the rest (the
  // cloud's many instances on one pool).
  size_t threads = 1;
};

// Serves any number of sinks from a pool of threads (options.threads; one
// by default). Sinks are added at any time; a closed sink is dropped from the
// list on the next pass. The runner holds a reference to each sink, so a
// sink outlives its last pass. A sink is serviced by one thread at a time;
// the others skip it.
class SinkRunner {
 public:
  explicit SinkRunner(SinkRunnerOptions options = {});
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;
  // Stop()s; does not close the sinks.
  ~SinkRunner();

  // Serves `sink` from now on. Thread-safe.
  void Add(std::shared_ptr<JournalSink> sink);
  // Sinks being served (closed ones leave on the next pass).
  size_t sink_count() const;

  // One pass: Service() on every sink, repeated while any still has frames
  // queued (each sink at most max_batch frames per round); closed sinks are
  // dropped. What the thread runs; tests call it by hand instead of Start().
  void RunOnce();

  // Starts the threads (each: RunOnce, then sleep up to poll_interval
  // unless woken). Calling it twice is a no-op.
  void Start();
  // Stops the threads after their current pass. The sinks keep their
  // queues; Close() each to write them out.
  void Stop();

 private:
  void Loop();

  const SinkRunnerOptions opt_;
  std::shared_ptr<JournalSink::Wakeup> wakeup_;
  mutable std::mutex sinks_mu_;
  std::vector<std::shared_ptr<JournalSink>> sinks_;
  std::vector<std::thread> threads_;
};

}  // namespace lplex::journal
