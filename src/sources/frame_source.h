// FrameSource: a live origin of NMEA 2000 frames for lplex-server — a CAN
// interface, a replayed recording, the simulated boat, a Yacht Devices
// gateway (docs/sources.md, "Live sources").
//
// A source hands its owner reassembled messages (can::Frame: fast-packet
// transfers already joined, `seq` 0, `bus` = the source's bus index) through
// a sink callback, from at most one thread that the source object owns. The
// owner starts it, may stop it at any time (Stop returns promptly and joins
// the thread), and hears once when it ends by itself: OK for a clean end (a
// replay that has played), or the fatal error.
//
// Time comes from a Clock and every wait goes through a Pacer, so tests run
// sources on a FakeClock without sleeping: FakeClockPacer moves the fake
// clock to each deadline instead of waiting for it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "can/fast_packet.h"
#include "can/frame.h"
#include "core/clock.h"
#include "core/status.h"

namespace lplex::sources {

// Receives one frame. Called on the source's thread; frame.data is valid only
// during the call (copy the bytes to keep them). Must not call Stop() of the
// same source (Stop joins the thread the sink runs on).
using FrameSink = std::function<void(const can::Frame& frame)>;

// Hears that a source ended by itself: OK for a clean end, else the error.
// Called at most once, on the source's thread, and never for an end caused by
// Stop().
using EndHandler = std::function<void(const Status& status)>;

// Blocks a source's thread until a time on its clock. Wake() ends a wait
// early; a Wake() while nobody waits makes the next WaitUntil return at once,
// so a wake-up is never lost between checking for work and waiting.
class Pacer {
 public:
  virtual ~Pacer() = default;
  // Returns true once clock()->NowMicros() >= deadline_us, false when woken.
  virtual bool WaitUntil(int64_t deadline_us) = 0;
  // Thread-safe.
  virtual void Wake() = 0;
  virtual Clock* clock() const = 0;
};

// Waits on a condition variable, re-reading `clock` at least every 100 ms so
// a clock that is stepped (NTP) does not oversleep by much.
std::unique_ptr<Pacer> NewRealPacer(Clock* clock);

// For tests and "as fast as possible" runs on simulated time: WaitUntil moves
// `clock` forward to the deadline (never back) and returns at once.
std::unique_ptr<Pacer> NewFakeClockPacer(FakeClock* clock);

class FrameSource {
 public:
  FrameSource(const FrameSource&) = delete;
  FrameSource& operator=(const FrameSource&) = delete;
  virtual ~FrameSource() = default;

  // Starts delivering frames to `sink`. Setup that can fail (opening a file,
  // binding a port, opening a CAN socket) happens before Start returns and
  // its error is returned; nothing is delivered then. Call once.
  virtual Status Start(FrameSink sink, EndHandler on_end) = 0;

  // Stops delivering and joins the source's thread; returns promptly (a
  // blocking read or connect is interrupted). No sink call happens after
  // Stop returns. Safe to call more than once, and before Start.
  virtual void Stop() = 0;

  // True for sources that can put frames on their bus (socketcan, ydraw+tcp,
  // sim, which answers ISO requests).
  virtual bool can_send() const { return false; }

  // Transmits one message; fast-packet PGNs over 8 bytes are fragmented
  // (spec/boat.md §3.3). Thread-safe. Errors: Unsupported for sources that
  // cannot send, InvalidArgument for a payload that cannot be framed, IOError
  // when the transport refused (not connected, socket error).
  virtual Status Send(const can::Frame& frame);

  // The URI the source was made from (for logs and errors).
  const std::string& uri() const { return uri_; }
  // The bus index every frame of this source carries.
  uint8_t bus() const { return bus_; }

  // Messages handed to the sink so far. Any thread.
  uint64_t frames_delivered() const { return delivered_.load(std::memory_order_relaxed); }

 protected:
  FrameSource(std::string uri, uint8_t bus) : uri_(std::move(uri)), bus_(bus) {}

  std::atomic<uint64_t> delivered_{0};

 private:
  std::string uri_;
  uint8_t bus_;
};

// The common shape of a source: synchronous Open() in Start, then Run() on
// one owned thread. Subclasses implement Open/Run/Interrupt and MUST call
// Stop() first thing in their destructor (the thread may still use their
// members; by the time ~ThreadedSource runs they are gone).
class ThreadedSource : public FrameSource {
 public:
  Status Start(FrameSink sink, EndHandler on_end) final;
  void Stop() final;
  ~ThreadedSource() override;

 protected:
  ThreadedSource(std::string uri, uint8_t bus, std::unique_ptr<Pacer> pacer);

  // Setup on the caller's thread, before the thread starts.
  virtual Status Open() { return Status::Ok(); }
  // The thread's body. Returns when the source has ended (its Status goes to
  // the EndHandler unless Stop caused the end) or as soon as stopping().
  virtual Status Run() = 0;
  // Called by Stop() after stopping() became true and the pacer was woken:
  // unblock any I/O the thread may be blocked in (shutdown a socket, signal
  // an eventfd). Thread-safe against Run.
  virtual void Interrupt() {}

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  Pacer& pacer() { return *pacer_; }
  Clock* clock() const { return pacer_->clock(); }
  // Hands `frame` to the sink with this source's bus and seq 0.
  void Deliver(const can::Frame& frame);

 private:
  std::unique_ptr<Pacer> pacer_;
  FrameSink sink_;
  EndHandler on_end_;
  std::thread thread_;
  std::mutex stop_mu_;  // serializes Stop() calls
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

// Fast-packet reassembly for one live bus. Purges transfers abandoned
// mid-way every 5 s of frame time (as the reference's reader does), so a
// device that stops in the middle of a transfer does not hold a slot forever.
class BusAssembler {
 public:
  // Feeds one received CAN frame. Returns true and fills *out when it
  // completes a message; out->data is valid until the next call.
  bool Process(const can::RawFrame& raw, can::Frame* out);
  const can::FastPacketStats& stats() const { return assembler_.stats(); }

 private:
  can::FastPacketAssembler assembler_;
  int64_t last_purge_us_ = 0;
};

}  // namespace lplex::sources
