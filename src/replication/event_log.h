// EventLog: the replication event log of one cloud instance (spec/cloud.md
// §1.11): the last 1024 things its boat's streams did, newest first, for
// GET /instances/{id}/replication/events. Memory only, never persisted.
//
// Each event has a wall time, a type and a detail object. The types and
// their details are fixed, so there is one typed method per type and a
// caller cannot misspell a type or a key:
//   live_start      {boat_head_seq}
//   live_stop       {frames_received}            (+ reason, lag: HEAD's stops)
//   backfill_start  {holes}
//   backfill_stop   {blocks_received}
//   block_received  {base_seq, bytes, compressed, frame_count}
//   checkpoint      {boat_head_seq, cursor, frames_received}
// The detail is rendered as compact JSON with its keys in alphabetical order,
// byte for byte what the Go reference produces (it marshals a map, and Go
// sorts map keys).
//
// Memory: a cloud holds 10,000 registered instances, most of them idle at any
// moment, so a log that never recorded anything owns no heap at all; the ring
// grows with use up to kCapacity entries (40 bytes each: numbers only, the
// JSON text is built by Recent()). A full log is about 40 KiB.
//
// Thread-safe: every method takes the log's own mutex, held only to copy a
// few numbers in or out (Recent() renders after releasing it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace lplex::replication {

// One event as Recent() returns it. The same three fields as the HTTP
// layer's http::ReplicationEvent (the app converts; replication does not
// include http).
struct EventLogEntry {
  int64_t time_us = 0;      // wall time, µs since the Unix epoch (UTC)
  std::string type;         // "live_start", "live_stop", ...
  std::string detail_json;  // a complete JSON object, e.g. {"boat_head_seq":42}; "" when there is no detail
};

// Why a live stream ended, for live_stop's detail. HEAD's rate limit and lag
// check add a "reason" (and the lag); any other end has none.
enum class LiveStopReason : uint8_t {
  kEnded,              // EOF, a stream error, a cancel: no "reason" key
  kRateLimitExceeded,  // "reason":"rate_limit_exceeded"
  kCloudLagExceeded,   // "lag":<lag>,"reason":"cloud_lag_exceeded"
};

class EventLog {
 public:
  // The most events kept; older ones are overwritten (the reference's 1024).
  static constexpr size_t kCapacity = 1024;

  EventLog() = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // A live stream started; the boat's head as last reported (handshake).
  void RecordLiveStart(int64_t time_us, uint64_t boat_head_seq);
  // A live stream ended after `frames_received` frames. `lag` is rendered
  // only with kCloudLagExceeded.
  void RecordLiveStop(int64_t time_us, uint64_t frames_received, LiveStopReason reason = LiveStopReason::kEnded,
                      uint64_t lag = 0);
  // A backfill stream started while the instance had `holes` holes.
  void RecordBackfillStart(int64_t time_us, uint64_t holes);
  // A backfill stream ended after `blocks_received` blocks were written.
  void RecordBackfillStop(int64_t time_us, uint64_t blocks_received);
  // A backfill block of `bytes` data bytes, holding seqs
  // [base_seq, base_seq + frame_count), was written.
  void RecordBlockReceived(int64_t time_us, uint64_t base_seq, uint32_t frame_count, uint64_t bytes, bool compressed);
  // A live stream's periodic progress report.
  void RecordCheckpoint(int64_t time_us, uint64_t frames_received, uint64_t cursor, uint64_t boat_head_seq);

  // The newest min(n, kCapacity, size()) events, newest first; empty when
  // the log is empty or n is 0. Events recorded with the same time keep
  // their recording order (the later one comes first).
  std::vector<EventLogEntry> Recent(size_t n) const;

  // Events held now (0..kCapacity).
  size_t size() const;
  // Entry slots allocated now (0 until the first event; grows with use, at
  // most kCapacity). For tests and memory accounting.
  size_t allocated() const;

 private:
  enum class Type : uint8_t { kLiveStart, kLiveStop, kBackfillStart, kBackfillStop, kBlockReceived, kCheckpoint };

  // Numbers only; what a, b, c and flag hold depends on the type (see
  // Render in event_log.cc).
  struct Entry {
    int64_t time_us;
    uint64_t a;
    uint64_t b;
    uint64_t c;
    Type type;
    uint8_t flag;
  };

  void Record(const Entry& e);
  static EventLogEntry Render(const Entry& e);

  mutable std::mutex mu_;
  std::vector<Entry> ring_;  // grows to kCapacity, then wraps
  size_t next_ = 0;          // where the next event goes; once full, also the oldest
};

}  // namespace lplex::replication
