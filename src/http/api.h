// The HTTP API's request handling without the networking: a parsed request
// in, an Action out (a complete reply, or which stream to start). Plain C++
// (no Beast), so it compiles fast and server.cc stays the one Beast unit.
// Internal to src/http.
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
  broker::FilterSpec filter;
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
  Api(const ServerOptions& options, std::shared_ptr<broker::Broker> broker, SendPolicy policy);

  // Routes and handles one request (OPTIONS, auth, 404/405 included).
  Action Handle(const Request& req);

  void SetReady(bool ready) { ready_.store(ready); }
  void SetMetricsHook(std::function<void(std::string*)> hook);
  void SetHealthHook(std::function<void(HealthReport*)> hook);
  Counters& counters() { return counters_; }
  broker::Broker& broker() { return *broker_; }

 private:
  Action Route(const Request& req, std::string_view path, std::string_view query);
  Reply CreateSession(const std::string& id, std::string_view body);
  Reply Ack(const std::string& id, std::string_view body);
  Reply Send(std::string_view body);
  Action Query(std::string_view body);
  Reply Health(bool readyz);
  Reply Metrics();
  Action History(std::string_view query);
  // 403 for read-only, the policy and the rate limit; OK to go on.
  Reply* CheckSend(uint32_t pgn, uint8_t bus, uint8_t dst, Reply* storage);
  bool TakeSendToken();

  const ServerOptions opt_;
  const std::shared_ptr<broker::Broker> broker_;
  const SendPolicy policy_;
  Clock* const clock_;
  std::atomic<bool> ready_{false};
  Counters counters_;

  std::mutex mu_;  // guards the hooks and the token bucket
  std::function<void(std::string*)> metrics_hook_;
  std::function<void(HealthReport*)> health_hook_;
  double tokens_ = 0;
  int64_t last_refill_us_ = 0;
};

}  // namespace lplex::http::internal
