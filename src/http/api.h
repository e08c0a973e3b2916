// The HTTP API's request handling without the networking: a parsed request
// in, an Action out (a complete reply, or which stream to start). Plain C++
// (no Beast), so it compiles fast and server.cc stays the one Beast unit.
// Internal to src/http.
//
// Two modes (docs/adr/008-http-serves-many-brokers.md): the boat serves one
// broker at the root (/events, /devices, ...); the cloud serves an
// InstanceDirectory: the fleet endpoints plus the same broker routes under
// /instances/{id}/. The broker routes are one piece of code that takes the
// broker per request, so the two modes cannot drift apart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "http/history.h"
#include "http/instance_directory.h"
#include "http/send_policy.h"
#include "http/server.h"

namespace lplex::http::internal {

using Params = std::vector<std::pair<std::string, std::string>>;

// Splits a query string into percent-decoded (key, value) pairs ('+' is a
// space). InvalidArgument names the bad pair (a '%' not followed by two hex
// digits).
Result<Params> ParseQuery(std::string_view query);
// Percent-decodes one path segment; nullopt on a bad escape.
std::optional<std::string> DecodeSegment(std::string_view s);

struct Request {
  std::string_view method;  // as sent, e.g. "GET"
  std::string_view target;  // "/path?query"
  std::string_view authorization;
  std::string_view body;
};

struct Reply {
  int status = 200;
  std::string content_type;  // "" = none
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides CORS and Content-Type
};

// The plain-text error of spec/boat.md §2.0: the message plus "\n",
// text/plain; charset=utf-8, X-Content-Type-Options: nosniff.
Reply ErrorReply(int status, std::string_view message);

enum class ActionKind {
  kReply,          // send `reply`
  kEvents,         // GET /events: ephemeral SSE with `filter`
  kSessionEvents,  // GET /clients/{id}/events: SSE from `consumer`
  kQuery,          // POST /query: subscribe to `query_pgn`, request it, wait
  kHistory,        // GET /history: stream `history`
};

struct Action {
  ActionKind kind = ActionKind::kReply;
  Reply reply;
  bool head = false;  // a HEAD request: headers only
  // The broker a stream or a query runs on (the boat's, or an instance's on
  // the cloud); null for replies and /history.
  std::shared_ptr<broker::Broker> broker;
  broker::FilterSpec filter;
  // ?decode=true on /events and /clients/{id}/events: frames carry lplex
  // HEAD's "decoded" key (docs/http.md).
  bool decode = false;
  std::unique_ptr<broker::Consumer> consumer;
  uint32_t query_pgn = 0;
  uint8_t query_dst = 255;
  std::chrono::milliseconds query_timeout{2000};
  std::unique_ptr<HistoryStream> history;
};

// What the HTTP layer counts (exported by Api::AppendMetrics).
struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections{0};           // gauge
  std::atomic<uint64_t> connections_rejected{0};  // over max_connections
  std::atomic<uint64_t> streams{0};               // gauge: open SSE and /history streams
  std::atomic<uint64_t> sse_messages{0};
  std::atomic<uint64_t> stalled_clients{0};       // streams closed because a write made no progress
  std::atomic<uint64_t> fallen_behind{0};         // session streams ended by kFallenBehind
  std::atomic<uint64_t> bad_requests{0};          // 4xx replies
};

class Api {
 public:
  // The boat: one broker at the root.
  Api(const ServerOptions& options, std::shared_ptr<broker::Broker> broker, SendPolicy policy);
  // The cloud: the fleet endpoints and, per instance, the broker routes
  // without /send and /query (a replica broker has no bus to send on).
  Api(const ServerOptions& options, std::shared_ptr<InstanceDirectory> directory);

  // Routes and handles one request (OPTIONS, auth, 404/405 included).
  Action Handle(const Request& req);

  void SetReady(bool ready) { ready_.store(ready); }
  void SetMetricsHook(std::function<void(std::string*)> hook);
  void SetHealthHook(std::function<void(HealthReport*)> hook);
  // The boat's GET /replication/status body (spec/cloud.md §3.4); unset =
  // 404 (no replication configured).
  void SetReplicationStatusHook(std::function<std::string()> hook);
  Counters& counters() { return counters_; }

 private:
  using Segments = std::vector<std::string_view>;
  // Resolves the broker of a broker route once the route and method are
  // known; `start` is true for streams and sessions (InstanceDirectory).
  using BrokerGetter = std::function<std::shared_ptr<broker::Broker>(bool start)>;

  Action RouteBoat(const Request& req, const Segments& raw, std::string_view query);
  Action RouteCloud(const Request& req, const Segments& raw, std::string_view query);
  // The routes one broker serves, matched on raw[first..]: /events,
  // /clients/{id}[/events|/ack], /devices, /values[/decoded], and with
  // `with_send` /send and /query. An unknown path: 404 "404 page not found".
  Action RouteBroker(const Request& req, const Segments& raw, size_t first, std::string_view query,
                     bool with_send, const BrokerGetter& get);
  Reply CreateSession(broker::Broker& b, const std::string& id, std::string_view body);
  Reply Ack(broker::Broker& b, const std::string& id, std::string_view body);
  Reply Send(broker::Broker& b, std::string_view body);
  Action Query(broker::Broker& b, std::string_view body);
  Reply Health(bool readyz);
  Reply Metrics();
  Action History(std::string_view query);
  // The cloud's own endpoints (spec/cloud.md §2.7).
  Reply Instances();
  Reply InstanceStatusReply(const std::string& id);
  Reply ReplicationEventsReply(const std::string& id, std::string_view query);
  Reply CloudHealth(bool readyz);
  // The hook's components into `report`; true when one is degraded.
  bool CollectHealth(HealthReport* report);
  void AppendServerMetrics(std::string* out);
  // 403 for read-only, the policy and the rate limit; OK to go on.
  Reply* CheckSend(broker::Broker& b, uint32_t pgn, uint8_t bus, uint8_t dst, Reply* storage);
  bool TakeSendToken();

  const ServerOptions opt_;
  const std::shared_ptr<broker::Broker> broker_;           // the boat's; null on the cloud
  const std::shared_ptr<InstanceDirectory> directory_;     // the cloud's; null on the boat
  const SendPolicy policy_;
  Clock* const clock_;
  std::atomic<bool> ready_{false};
  Counters counters_;

  std::mutex mu_;  // guards the hooks and the token bucket
  std::function<void(std::string*)> metrics_hook_;
  std::function<std::string()> replication_status_hook_;
  std::function<void(HealthReport*)> health_hook_;
  double tokens_ = 0;
  int64_t last_refill_us_ = 0;
};

}  // namespace lplex::http::internal
