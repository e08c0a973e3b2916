// Broker: the single writer of the ring, sequence numbers, device registry
// and values (spec/boat.md §1, with the fixes of issue 7).
//
// Threading. One owner thread drives the broker: Start() once, Ingest() for
// every reassembled frame, Tick(now) about once a second (and whenever it
// likes; Tick is where every timer lives: session expiry, discovery retries
// and pacing, device idle removal, bus silence). The broker starts no thread.
// Any other thread (HTTP) may call the "reader" methods; they take the
// broker's shared lock briefly. Ingest takes the exclusive lock once per
// frame. Consumers (pull readers) and subscribers (push queues) are used from
// their own threads; a consumer's Next() waits on a condition variable that
// Ingest signals only when someone waits.
//
// Lifetime: create with Broker::Create (a shared_ptr). Subscribers and
// consumers keep the broker alive while they exist, so an HTTP stream can
// never outlive the state it reads. Shutdown() ends every stream.
//
// Memory (per broker): the ring entry array (capacity × 32 bytes, plus each
// frame's JSON in a buffer sized to it: 144 bytes for an 8-byte payload) is
// allocated by the first frame and returned by ReleaseMemory(), with the
// pool of recycled JSON buffers (at most 64 KiB); the device table and value
// store grow with the sources on the bus and shrink with idle removal; each
// subscriber holds at most `subscriber_queue` messages (shared buffers, not
// copies); sessions are metadata only. Nothing else grows with traffic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "broker/filter.h"
#include "broker/json_buffer.h"
#include "broker/queues.h"
#include "can/frame.h"
#include "core/status.h"

namespace lplex {
class Clock;
class Logger;
class FileSystem;
}  // namespace lplex

namespace lplex::broker {

class Ring;
class DeviceTable;
class FrameDecoder;
class ValueStore;
struct DeviceRecord;
struct SourceValues;
class Broker;
class Consumer;
class Subscriber;

inline constexpr int64_t kSecondUs = 1'000'000;

struct BrokerOptions {
  // Power of two; 0 = 65536.
  size_t ring_capacity = 65536;
  // The first seq to assign (P2: the server recovers it from the newest
  // journal block as BaseSeq + FrameCount). 0 = 1.
  uint64_t initial_head = 0;
  // Replica (cloud): keep each frame's own seq (head = max(head, seq+1)),
  // send no ISO requests.
  bool replica = false;
  // Buses to broadcast the startup 60928 request on (0..buses-1).
  uint8_t buses = 1;

  // Session buffer timeouts are capped at this.
  int64_t max_buffer_duration_us = 5 * 60 * kSecondUs;
  // A device whose last frame is older than this (owner clock) is removed
  // with a device_removed event; 0 = never.
  int64_t device_idle_timeout_us = 5 * 60 * kSecondUs;
  // No frame for this long (after the first) = bus silent (health degraded);
  // 0 = never.
  int64_t bus_silence_timeout_us = 0;

  // Discovery: a 60928 / 126996 request that got no answer is sent again
  // after this delay, up to discovery_max_requests in all per device.
  int64_t discovery_retry_delay_us = 10 * kSecondUs;
  int discovery_max_requests = 3;
  // At most this many discovery requests per second (token bucket, burst
  // the same), so a bus of 50 devices is not flooded at startup.
  double discovery_requests_per_second = 10;

  // Messages per ephemeral subscriber: 0.57 s of a full bus (1,800 frames/s),
  // so an SSE stream can leave a few ms of frames queued between writes.
  size_t subscriber_queue = 1024;
  size_t tx_queue = 64;           // frames waiting for the bus writer

  // Journal tier for consumers that fell behind the ring ("" = none).
  std::string journal_dir;
  FileSystem* fs = nullptr;  // null = FileSystem::Default()

  // Called on the owner thread with every frame after it got its seq
  // (pipeline step 10). Must not block: a journal sink queues and counts
  // its own drops. May be empty.
  std::function<void(const can::Frame&)> journal_sink;

  Clock* clock = nullptr;    // null = Clock::Real()
  Logger* logger = nullptr;  // null = no logging
};

// spec/boat.md §1.10, plus what the fixes count. Every counter is monotonic.
struct BrokerStats {
  uint64_t frames_total = 0;
  int64_t last_frame_time_us = 0;  // the latest frame's own timestamp; 0 = none
  uint64_t ring_entries = 0;       // head - tail
  uint64_t ring_capacity = 0;
  uint64_t head_seq = 0;           // the NEXT seq
  uint64_t active_sessions = 0;
  uint64_t active_subscribers = 0;
  uint64_t active_consumers = 0;
  uint64_t device_count = 0;       // stats-only sources included
  bool bus_silent = false;

  uint64_t subscriber_drops = 0;         // messages dropped for full subscriber queues
  uint64_t consumers_fallen_behind = 0;  // Next() calls that ended with kFallenBehind
  uint64_t consumer_journal_frames = 0;  // frames consumers read from the journal tier
  uint64_t discovery_requests = 0;       // ISO requests the broker queued for the bus
  uint64_t discovery_retries = 0;        // of which re-sends of unanswered requests
  uint64_t tx_dropped = 0;               // frames refused by a full tx queue
  uint64_t devices_removed = 0;          // idle devices removed
  uint64_t sessions_expired = 0;
  uint64_t bus_silence_events = 0;       // transitions into "silent"
};

struct SessionInfo {
  std::string id;
  uint64_t cursor = 0;  // last ACK'd seq; 0 = never
  int64_t buffer_timeout_us = 0;
  int64_t last_activity_us = 0;  // Clock::MonotonicMicros of the last create/ack/connect
  FilterSpec filter;    // empty = all frames
};

// What a consumer hands out: one frame and its JSON.
struct ConsumerItem {
  uint64_t seq = 0;
  int64_t timestamp_us = 0;
  can::CanHeader header;
  uint8_t bus = 0;
  JsonRef json;
};

enum class NextResult {
  kFrame,         // *out is the next frame passing the filter
  kTimeout,       // nothing new before the timeout
  kClosed,        // Close() or Broker::Shutdown()
  kFallenBehind,  // the cursor left the ring and the journal cannot serve it (error() says why)
};

// A pull reader with a cursor (behind buffered sessions and any replay).
// Tiers: journal (cursor < ring tail) → ring → wait for the broker.
// Next() and cursor() belong to one thread; Close() may come from any.
class Consumer {
 public:
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // The next frame with seq >= cursor() that passes the filter (frames it
  // rejects are skipped, the cursor still moves). Waits up to `timeout` for
  // the broker when the cursor reached the head. A replica gap (a seq never
  // written) is skipped. Seqs missing from the journal are skipped up to
  // the ring tail; a journal that has not reached the cursor yet (or no
  // journal) gives kFallenBehind.
  NextResult Next(ConsumerItem* out, std::chrono::milliseconds timeout);
  // Ends the consumer; a Next() waiting in another thread returns kClosed.
  // Idempotent. The destructor closes.
  void Close();

  uint64_t cursor() const { return cursor_; }  // the next seq Next() looks at
  const Status& error() const { return error_; }
  const ResolvedFilter& filter() const { return filter_; }

 private:
  friend class Broker;
  Consumer(std::shared_ptr<Broker> broker, uint64_t cursor, ResolvedFilter filter);
  NextResult FromJournal(uint64_t tail, ConsumerItem* out, bool* got);

  std::shared_ptr<Broker> broker_;
  uint64_t cursor_;
  ResolvedFilter filter_;
  std::atomic<bool> closed_{false};
  bool counted_ = true;
  Status error_;
  struct Journal;
  std::unique_ptr<Journal> journal_;
};

// An ephemeral subscription (GET /events). Messages are frame JSON and
// device events ({"type":"device"...} / {"type":"device_removed"...}).
// Pop from one thread; the destructor unsubscribes.
class Subscriber {
 public:
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  bool TryPop(JsonRef* out) { return queue_->TryPop(out); }
  // Appends up to `max` messages to *out under one lock; returns how many.
  size_t TryPopMany(std::vector<JsonRef>* out, size_t max) { return queue_->TryPopMany(out, max); }
  PopResult Pop(JsonRef* out, std::chrono::milliseconds timeout) { return queue_->Pop(out, timeout); }
  // Makes this a wake-up only (SubscriberQueue::SetWakeOnly): on_ready tells
  // a ring reader (a session's Consumer) about new frames, nothing is kept
  // or dropped. Pop until empty to re-arm it.
  void SetWakeOnly() { queue_->SetWakeOnly(); }
  // Messages dropped because this subscriber's queue was full.
  uint64_t dropped() const { return queue_->dropped(); }
  bool closed() const { return queue_->closed(); }

 private:
  friend class Broker;
  Subscriber(std::shared_ptr<Broker> broker, std::shared_ptr<SubscriberQueue> q)
      : broker_(std::move(broker)), queue_(std::move(q)) {}
  std::shared_ptr<Broker> broker_;
  std::shared_ptr<SubscriberQueue> queue_;
};

class Broker : public std::enable_shared_from_this<Broker> {
 public:
  // Checks the options; the InvalidArgument names the bad value and what is
  // valid (e.g. "ring_capacity 1000 is not a power of two").
  static Result<std::shared_ptr<Broker>> Create(BrokerOptions options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // ---- owner thread -------------------------------------------------------

  // Queues the startup broadcast ISO request for 60928 on every bus (not in
  // replica mode). Call once, when the bus writer is ready.
  void Start();
  // Runs the §1.4 pipeline for one reassembled frame: registry and
  // discovery (device events go out before the frame), seq, JSON (once),
  // ring, counters, values, fan-out to subscribers, consumer wake-up, the
  // journal sink. Frames from the ISO null address (254: nodes without an
  // address, our own requests echoed back) skip the registry and discovery
  // only: they never create or refresh a device. Never blocks on a reader,
  // a subscriber or the disk. No
  // allocation once warm (new sources, new (source, PGN) values, larger
  // payloads and device events aside).
  void Ingest(const can::Frame& frame);
  // The timers, at monotonic time now_us (Clock::MonotonicMicros): token
  // refill and pending discovery requests, retries of unanswered requests,
  // device idle removal, session expiry, bus silence. Tick() reads the
  // clock. Every broker timer runs on the monotonic time line, so a wall
  // clock step (NTP) neither expires sessions nor removes devices.
  void Tick(int64_t now_us);
  void Tick();
  // Ends every consumer and subscriber stream (they return kClosed) and
  // closes the tx queue. Ingest still works afterwards (for draining).
  void Shutdown();
  // Gives back the ring's memory (an idle cloud instance); consumers then
  // read from the journal. Seqs go on from the same head.
  void ReleaseMemory();

  // ---- any thread ---------------------------------------------------------

  // `decoded` (GET /events?decode=true): the subscriber gets each frame's
  // JSON with lplex HEAD's "decoded" key (docs/http.md). The broker decodes
  // a frame once for all such subscribers whose filter it passes, and not
  // at all when there are none: the others keep the shared plain JSON.
  std::unique_ptr<Subscriber> Subscribe(FilterSpec filter, std::function<void()> on_ready = {},
                                        bool decoded = false);
  // A consumer whose first frame is `start_seq` (clamped to >= 1), with the
  // filter's device criteria resolved now against the registry.
  std::unique_ptr<Consumer> NewConsumer(uint64_t start_seq, const FilterSpec& filter);

  // Creates or reconnects a session (§1.6): timeout capped at
  // max_buffer_duration; an existing id gets the new timeout and filter, and
  // its cursor is reset when the timeout is 0. Returns the session and the
  // last assigned seq (head - 1).
  std::pair<SessionInfo, uint64_t> CreateSession(const std::string& id, int64_t buffer_timeout_us,
                                                 FilterSpec filter);
  // Sets the cursor (no validation, as the reference) and touches the
  // session. NotFound "session not found: <id>".
  Status AckSession(const std::string& id, uint64_t seq);
  // The stream of a session: touches it and starts at cursor+1 when the
  // cursor is set, else live (head). NotFound when the id is unknown.
  Result<std::unique_ptr<Consumer>> OpenSession(const std::string& id);
  std::optional<SessionInfo> GetSession(const std::string& id) const;

  // Queues an ISO request (PGN 59904, priority 6, source 254) for `pgn` to
  // `dst` (255 = broadcast) on `bus`. IOError "tx queue full" when full.
  Status SendIsoRequest(uint8_t bus, uint32_t pgn, uint8_t dst);
  // Queues any frame for the bus writer; IOError "tx queue full" when full.
  Status Send(TxFrame frame);
  // The queue the bus writer drains.
  TxQueue& tx() { return tx_; }

  // /devices body: every registry entry, ascending by (bus, source).
  std::string DevicesJson() const;
  // Copies of the entries (with discovery state), ascending by (bus, source).
  std::vector<DeviceRecord> Devices() const;
  // /values body (filter rules of §4.1 for values) and its data.
  std::string ValuesJson(const FilterSpec& filter) const;
  std::vector<SourceValues> Values(const FilterSpec& filter) const;
  // /values/decoded body (spec/boat.md §2.9, docs/http.md): the values
  // copied under the lock, decoded after it.
  std::string DecodedValuesJson(const FilterSpec& filter) const;
  // The manufacturer code of the device claimed at (bus, source); nullopt
  // when the source has not claimed an address. Picks the variant of
  // proprietary PGNs for streams that decode on their own.
  std::optional<uint16_t> ClaimedManufacturer(uint8_t bus, uint8_t source) const;

  BrokerStats Stats() const;
  // Prometheus text for the broker's metrics (§7.1 names plus the new
  // counters; docs/broker.md lists them), each with HELP and TYPE.
  void AppendMetrics(std::string* out) const;
  // head - 1 (0 before the first frame).
  uint64_t CurrentSeq() const;
  bool bus_silent() const { return bus_silent_.load(std::memory_order_relaxed); }
  const BrokerOptions& options() const { return opt_; }

 private:
  friend class Consumer;
  friend class Subscriber;
  struct PendingRequest {
    uint8_t bus;
    uint8_t dst;
    uint32_t pgn;
  };
  struct Session {
    SessionInfo info;
  };

  explicit Broker(BrokerOptions options);
  void EmitDeviceEvent(uint8_t bus, const can::Device& d, const char* type);  // mu_ held
  void QueueRequest(uint8_t bus, uint8_t dst, uint32_t pgn);      // mu_ held
  void DrainRequests();                                            // mu_ held
  void Unsubscribe(const SubscriberQueue* q);
  // The frame's JSON with its "decoded" key, in a pooled buffer; empty when
  // nothing decodes it (the plain JSON is pushed). Owner thread, mu_ held.
  JsonRef DecodedFrameJson(const can::Frame& f, std::string_view plain, const can::Device* d);
  void Wake();
  // Waits until the ring head passes `cursor`, *closed, shutdown, or the
  // deadline. False on timeout.
  bool WaitForHead(uint64_t cursor, std::chrono::steady_clock::time_point deadline,
                   const std::atomic<bool>& closed);

  BrokerOptions opt_;
  Clock* clock_;
  Logger* logger_;
  FileSystem* fs_;

  // Guards ring entries, devices_, values_, sessions_, subs_.
  mutable std::shared_mutex mu_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<DeviceTable> devices_;
  std::unique_ptr<ValueStore> values_;
  std::map<std::string, Session, std::less<>> sessions_;
  std::vector<std::shared_ptr<SubscriberQueue>> subs_;
  TxQueue tx_;

  // Owner-thread state.
  std::string scratch_;  // the next frame's JSON is written here, then copied into a pooled buffer
  JsonPool pool_;        // buffers of frames that left the ring, for the next frames' JSON
  // ?decode=true: created by the first frame a decoding subscriber takes.
  std::unique_ptr<FrameDecoder> decoder_;
  std::string decoded_scratch_;
  int64_t now_us_ = 0;  // monotonic time of the last Tick (device last_rx)
  int64_t last_refill_us_ = 0;
  double tokens_ = 0;
  std::deque<PendingRequest> pending_;
  uint64_t frames_at_tick_ = 0;
  int64_t last_activity_us_ = 0;

  // Consumer wake-up (the one place threads meet).
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::atomic<int> waiters_{0};
  std::atomic<uint64_t> published_head_{1};
  std::atomic<bool> shutdown_{false};

  // Counters (atomics: Stats() reads them without the lock).
  std::atomic<uint64_t> frames_total_{0};
  std::atomic<int64_t> last_frame_ts_{0};
  std::atomic<uint64_t> active_consumers_{0};
  std::atomic<uint64_t> subscriber_drops_{0};
  std::atomic<uint64_t> fallen_behind_{0};
  std::atomic<uint64_t> journal_frames_{0};
  std::atomic<uint64_t> discovery_requests_{0};
  std::atomic<uint64_t> discovery_retries_{0};
  std::atomic<uint64_t> devices_removed_{0};
  std::atomic<uint64_t> sessions_expired_{0};
  std::atomic<uint64_t> bus_silence_events_{0};
  std::atomic<bool> bus_silent_{false};
};

}  // namespace lplex::broker
