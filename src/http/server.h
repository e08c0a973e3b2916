// The boat's HTTP/SSE API (spec/boat.md §2, §7; docs/http.md) on top of a
// broker::Broker, or the cloud's (spec/cloud.md §2.7; docs/http.md "Cloud")
// on top of an InstanceDirectory: the fleet endpoints and the boat's API per
// instance under /instances/{id}/.
//
// This header is deliberately free of Boost: the server's networking (Beast
// and Asio) lives in one translation unit behind a pimpl, so everything that
// includes this file compiles fast.
//
// Threading: Create/Start/Stop/~Server from one control thread; port(),
// SetReady() and the hooks from any thread. Requests are served by
// `io_threads` threads that Start() launches. The broker keeps its owner
// thread; the server only calls its "any thread" methods.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace lplex {
class Clock;
class Logger;
}  // namespace lplex

namespace lplex::broker {
class Broker;
}

namespace lplex::http {

class InstanceDirectory;  // http/instance_directory.h

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  // 0 = pick a free port (tests); port() tells which.
  uint16_t port = 8089;
  // "" = no authentication. Otherwise every request but OPTIONS, /livez,
  // /readyz and /healthz needs "Authorization: Bearer <api_key>" (401).
  std::string api_key;
  // Refuses /send and /query with 403 naming --read-only.
  bool read_only = false;
  // Send policy (spec/boat.md §2.11): off = 403 "send is disabled".
  bool send_enabled = false;
  // One rule per string (`[!] [pgn:<spec>] [name:<hex>[,<hex>...]]`),
  // checked at Create (errors name the rule number, counted from 1).
  std::vector<std::string> send_rules;
  // /send and /query together: at most this many requests per second
  // (token bucket, burst send_rate_burst); 0 = unlimited. Over: 429.
  double send_rate_per_second = 20;
  int send_rate_burst = 40;
  // Caps a session's buffer_timeout (the broker caps it too).
  int64_t max_buffer_duration_us = 300'000'000;
  // Request bodies above this get 413.
  size_t max_body_bytes = 65536;
  // Connections above this are answered 503 and closed.
  size_t max_connections = 2048;
  int io_threads = 1;
  // For GET /history ("" = 404 "no journal configured").
  std::string journal_dir;
  // A request's header and body must arrive within this (slowloris guard);
  // an idle keep-alive connection is closed after it too.
  std::chrono::milliseconds read_timeout{30'000};
  // An SSE or /history write that makes no progress for this long closes the
  // connection (counted in lplex_http_stalled_clients_total).
  std::chrono::milliseconds write_timeout{60'000};
  Clock* clock = nullptr;   // null = Clock::Real()
  Logger* log = nullptr;    // null = no logging
};

// What /healthz (and /readyz) reports besides the broker. Hooks append
// components; any component with `degraded` set makes the top-level status
// "degraded" (still HTTP 200, as the reference).
struct HealthComponent {
  std::string name;     // the key under "components", e.g. "journal"
  std::string status;   // e.g. "ok", "silent", "behind"
  std::string message;  // "" = omitted
  bool degraded = false;
};
struct HealthReport {
  std::vector<HealthComponent> components;
};

class Server {
 public:
  // Checks the options (send rules, io_threads >= 1, max_body_bytes > 0);
  // InvalidArgument names the bad value. Binds nothing yet.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, std::shared_ptr<broker::Broker> broker);
  // The cloud: /instances, /instances/{id}/status|replication/events, the
  // boat's /events, /clients/... , /devices, /values[/decoded] per instance
  // (no /send, /query, /history), /healthz, /readyz, /livez, /metrics.
  // api_key, limits and timeouts apply as on the boat; read_only, the send
  // options and journal_dir are boat-only and ignored. Same checks as
  // Create otherwise.
  static Result<std::unique_ptr<Server>> CreateCloud(ServerOptions options,
                                                     std::shared_ptr<InstanceDirectory> directory);
  ~Server();  // Stop(1 s) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then starts the io thread(s). The IOError names
  // address:port and the errno text ("cannot listen on 0.0.0.0:8089:
  // Address already in use"). Call once.
  Status Start();
  // The bound port (the real one when options.port was 0); 0 before Start.
  uint16_t port() const;
  // Open SSE and /history streams now (a status line's "clients": one per
  // client connection, whatever the broker holds for it).
  uint64_t open_streams() const;
  // /readyz answers 200 when ready, 503 before (initially not ready).
  void SetReady(bool ready);
  // Extra /metrics lines (journal sink, keeper), appended after the
  // broker's and the server's own; called on an io thread per request.
  void SetMetricsHook(std::function<void(std::string* text)> hook);
  // The body of GET /replication/status (boat with replication); without
  // a hook that path is 404. Called on an io thread per request.
  void SetReplicationStatusHook(std::function<std::string()> hook);
  // Extra /healthz components; called on an io thread per request.
  void SetHealthHook(std::function<void(HealthReport* report)> hook);
  // Stops accepting, ends every SSE and /history stream (chunked streams get
  // their terminating chunk), lets in-flight replies finish for up to
  // `grace`, then closes what is left and joins the io threads. Bounded by
  // about grace + 1 s. Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Impl;
  friend class Connection;  // server.cc
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lplex::http
