// BrokerLoop: the broker's owner thread (broker.h: one thread drives Ingest
// and Tick) and the queues that bring it the sources' frames.
//
//   source thread 0 --SinkFor(0)--> FrameQueue 0 --+
//   source thread 1 --SinkFor(1)--> FrameQueue 1 ---+--> owner thread: Broker::Ingest
//   ...                                             |        |  Broker::Tick every tick_interval
//                                                            v
//                               Broker::tx() --> FrameSource::Send of the frame's bus
//
// Each source has its own bounded single-producer queue (journal/frame_queue.h:
// the frame and its bytes copied into a byte ring; no allocation, no lock), so
// sources never contend with each other and the owner thread never waits for a
// source. When a source's queue is full:
//  - live sources (socketcan, sim, ydraw): the frame is dropped and counted
//    (frames_dropped); the bus does not wait for us;
//  - lossless sources (replay, Options::lossless): the source's thread waits
//    until there is room, so a replay at --replay-speed 0 journals every frame.
// In lossless mode the owner thread also waits while `backlog_full` says the
// journal sink's queue is nearly full (at most lossless_wait per frame, so a
// stuck disk cannot stop the broker forever).
//
// The owner thread also calls `heartbeat` once per loop (the systemd
// watchdog: pings stop when this thread is stuck).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "core/clock.h"
#include "core/log.h"
#include "journal/frame_queue.h"
#include "sources/frame_source.h"

namespace lplex::server {

struct BrokerLoopOptions {
  // Broker::Tick period (timers: discovery retries, idle devices, sessions,
  // bus silence). 100 ms keeps discovery pacing smooth.
  int64_t tick_interval_us = 100'000;
  // How long the owner thread sleeps when the queues are empty before it
  // looks again: sources do not wake it per frame (at a full bus that was
  // ~1,800 wake-ups a second), it drains what they queued in one go. A frame
  // waits at most this long before Ingest (10 ms: the sim: source's release
  // period too). A queue more than a quarter full (a replay burst) wakes it
  // at once.
  int64_t drain_interval_us = 10'000;
  // Bytes per source queue (FrameQueue: ~26,000 8-byte frames per MiB).
  size_t queue_bytes = 1 << 20;
  // Sources whose full queue makes them wait instead of dropping (by index).
  std::vector<bool> lossless;
  // Lossless mode only: true when the journal can take no more for now.
  std::function<bool()> backlog_full;
  int64_t lossless_wait_us = 5'000'000;
  // Called on every loop pass of the owner thread. May be empty.
  std::function<void()> heartbeat;
  Clock* clock = nullptr;       // null = Clock::Real()
  Logger* log = nullptr;        // null = Logger::Default()
};

struct BrokerLoopStats {
  uint64_t frames_ingested = 0;  // handed to Broker::Ingest
  uint64_t frames_dropped = 0;   // source queue full (live sources)
  uint64_t tx_sent = 0;          // tx frames a source accepted
  uint64_t tx_failed = 0;        // refused by the source (or no source can send on that bus)
};

class BrokerLoop {
 public:
  // `sources` (not owned, must outlive the loop) are indexed by bus: frame.bus
  // == index. Does not start anything.
  BrokerLoop(std::shared_ptr<broker::Broker> broker, std::vector<sources::FrameSource*> sources,
             BrokerLoopOptions options);
  BrokerLoop(const BrokerLoop&) = delete;
  BrokerLoop& operator=(const BrokerLoop&) = delete;
  ~BrokerLoop();  // Stop()

  // The FrameSink for sources[i]: copies each frame into queue i. Called on
  // that source's thread only.
  sources::FrameSink SinkFor(size_t i);

  // Calls Broker::Start (the startup 60928 request) on the owner thread and
  // starts it.
  void Start();

  // Shutdown step "drain the broker": stop the sources first (nothing is
  // pushed any more), then call this. Ingests every frame still queued, runs
  // one last Tick, sends what is in the tx queue, and joins the owner thread.
  // Returns how many frames it drained. Idempotent.
  uint64_t DrainAndStop();

  BrokerLoopStats stats() const;
  // Monotonic time (clock) of the last frame ingested; 0 = none yet. For the
  // bus-silence health check. Any thread.
  int64_t last_ingest_mono_us() const { return last_ingest_us_.load(std::memory_order_relaxed); }

 private:
  struct Inbox;
  void Run();
  // Ingests up to `max` queued frames over all inboxes; returns how many.
  size_t IngestSome(size_t max);
  void SendTx();
  bool AllEmpty() const;
  void Push(Inbox& inbox, const can::Frame& frame);

  std::shared_ptr<broker::Broker> broker_;
  std::vector<sources::FrameSource*> sources_;
  BrokerLoopOptions opt_;
  Clock* clock_;
  Logger* log_;
  std::vector<std::unique_ptr<Inbox>> inboxes_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> owner_waiting_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> released_{false};  // lossless producers give up waiting
  std::thread thread_;

  std::atomic<int64_t> last_ingest_us_{0};
  std::atomic<uint64_t> ingested_{0}, dropped_{0}, tx_sent_{0}, tx_failed_{0};
};

}  // namespace lplex::server
