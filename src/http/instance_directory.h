// What the cloud's HTTP API (spec/cloud.md §2.7, §6.1; docs/http.md "Cloud")
// needs to know about the fleet, as an interface the cloud app implements.
//
// Layering: src/http must not include src/cloud or src/replication (they sit
// beside or above it), so the HTTP layer defines the few facts it serves —
// summaries, one instance's status, its replication event log and its
// broker — in its own plain types, and lplex-cloud adapts its
// InstanceManager to them. docs/adr/008-http-serves-many-brokers.md explains why.
//
// Threading: every method is called from the server's io threads, several
// at once, per request; implementations must be thread-safe and must not
// block for long (no disk I/O per request: a registry in memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lplex::broker {
class Broker;
}

namespace lplex::http {

// One range of seqs the cloud is missing, exactly as the replication layer
// keeps it; rendered as the reference's {"Start":n,"End":n}.
struct HoleSpan {
  uint64_t start = 0;
  uint64_t end = 0;
};

// One row of GET /instances. The lag is not here: the server computes it
// from cursor and boat_head_seq, clamped at 0 (P10), in one place for
// /instances, /instances/{id}/status and /metrics.
struct InstanceSummary {
  std::string id;
  bool connected = false;  // a boat streams now
  uint64_t cursor = 0;
  uint64_t boat_head_seq = 0;
  size_t holes = 0;                     // how many HoleSpans
  std::optional<int64_t> last_seen_us;  // nullopt = never (Go's zero time)
};

// GET /instances/{id}/status.
struct InstanceStatus {
  std::string id;
  bool connected = false;
  uint64_t cursor = 0;
  uint64_t boat_head_seq = 0;
  uint64_t boat_journal_bytes = 0;
  std::vector<HoleSpan> holes;  // ascending; the key is left out when empty
  std::optional<int64_t> last_seen_us;
};

// One entry of an instance's replication event log (spec/cloud.md §1.11).
struct ReplicationEvent {
  int64_t time_us = 0;  // wall time, µs since the epoch (UTC)
  std::string type;     // "live_start", "checkpoint", ...
  // The "detail" value: a complete JSON object, e.g. {"boat_head_seq":42}.
  // "" (or "{}") = the key is left out, as the reference does.
  std::string detail_json;
};

// How many instances the fleet has (/healthz, /readyz, /metrics).
struct FleetCounts {
  size_t total = 0;
  size_t connected = 0;
};

class InstanceDirectory {
 public:
  virtual ~InstanceDirectory() = default;

  // Every registered instance, in any order: the server sorts by id (the
  // reference's order is Go's random map order; a sorted list is stable for
  // clients and diffs). Must not start anything.
  virtual std::vector<InstanceSummary> List() = 0;

  // The instance's status, or nullopt when `id` is not registered. Must not
  // start anything.
  virtual std::optional<InstanceStatus> Find(std::string_view id) = 0;

  // The instance's broker, or null when `id` is unknown or its broker is
  // not running (both answered 404 "instance not found or broker not
  // running").
  //  - start == false (read-only requests: devices, values, values/decoded):
  //    must never start a broker (P9); an idle instance answers null.
  //  - start == true (the SSE stream and the session API, which hold the
  //    broker for as long as the client stays): the implementation may make
  //    the instance active (and keep it so while the broker has streams), or
  //    return null when it cannot (damaged, shutting down).
  // The returned broker may be shut down at any time (idle stop): streams on
  // it then end, as they do on the boat at shutdown.
  virtual std::shared_ptr<broker::Broker> BrokerFor(std::string_view id, bool start) = 0;

  // The newest `limit` (1..1024) events of the instance's replication event
  // log, newest first ({} when it has none), or nullopt when `id` is not
  // registered.
  virtual std::optional<std::vector<ReplicationEvent>> ReplicationEvents(std::string_view id, size_t limit) = 0;

  // The totals for /healthz and /metrics. The default counts List(); a
  // registry of 10,000 instances should keep counters instead.
  virtual FleetCounts Counts();
};

}  // namespace lplex::http
