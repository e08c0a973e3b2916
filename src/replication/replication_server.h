// ReplicationServer: the cloud side of the replication protocol — the gRPC
// `lplex.replication.v1.Replication` service (spec/cloud.md §1) in front of
// an InstanceManager. docs/replication.md ("Cloud side") describes it.
//
//   boat --Handshake--> register the instance, open a hole for what it missed,
//                       answer cursor / holes / live_start_from (§1.4)
//   boat --Live-------> each frame into the instance (its own seq) via
//                       Instance::Ingest; the cursor counts only frames the
//                       journal took (P4); acked_through every ack_interval
//   boat --Backfill---> each block written as it came into backfill-*.lpj
//                       (journal::BlockWriter), holes filled, the cursor and
//                       the remaining holes answered per block (§1.6)
//
// Identity (§1.3, P7). On a TLS listener (server certificate + client CA,
// client certificates required and verified) the instance is the client
// certificate's subject CN, and nothing else: the x-instance-id header is
// never a fallback there (a header that names another instance is refused).
// With `insecure_plaintext` the instance id comes from the handshake and
// the x-instance-id header — anyone who can reach the port can write into
// any instance — so it is for tests and trusted networks only, and Start()
// logs that as an error-level line. Every id is validated
// (ValidateInstanceId) before any path is built from it.
//
// Keepalive (P8): the server pings every connection after keepalive_time of
// silence and closes it when no answer arrives within keepalive_timeout, so
// the streams of a boat that vanished end and it is marked disconnected.
//
// gRPC and protobuf stay in the .cc (pimpl): this header is cheap to include.
// Thread-safe: gRPC runs handlers on its own threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "journal/rotated_file.h"
#include "replication/event_log.h"

namespace lplex::cloud {
class InstanceManager;
}  // namespace lplex::cloud

namespace lplex::replication {

struct ReplicationServerOptions {
  // host:port; "127.0.0.1:0" picks a free port (port() tells which).
  std::string listen_address = "0.0.0.0:9443";

  // mTLS: PEM file paths. All three are required unless insecure_plaintext.
  std::string tls_cert_file;       // the server's certificate chain
  std::string tls_key_file;        // its private key
  std::string tls_client_ca_file;  // CA that signs the boats' client certificates
  // Plaintext, identity from the request (see the top of this file). Must
  // be set explicitly; tls_* must then be empty.
  bool insecure_plaintext = false;

  // Downstream acks on Live: at most one per interval, sent when a frame or
  // status arrives (the reference: 5 s). 0 = after every message.
  int64_t ack_interval_us = 5'000'000;
  // §6.1 (HEAD): per Live stream, a token bucket over Frame messages (seq-0
  // snapshot frames included). Over the limit the stream ends with
  // RESOURCE_EXHAUSTED. 0 = no limit (the CLI maps its "0 = default").
  double rate_limit_per_s = 2000;
  double rate_burst = 500;
  // §6.1: a LiveStatus whose head_seq is more than this above the highest
  // seq this stream delivered ends it with RESOURCE_EXHAUSTED (the boat
  // reconnects and the gap becomes a hole). 0 = no check.
  uint64_t max_live_lag = 10000;

  // P8: server keepalive pings.
  int64_t keepalive_time_ms = 30'000;
  int64_t keepalive_timeout_ms = 10'000;
  // Largest message accepted (a backfill block must fit; gRPC's default).
  int max_receive_message_bytes = 4 * 1024 * 1024;

  // Backfill files (prefix "backfill", one per session, block size and
  // compression as the boat sends them). The keeper's hooks, as the
  // InstanceManager's: instance_id is filled in.
  std::function<void(const journal::RotatedFile&)> on_backfill_rotate;
  std::function<void(const std::string& path, bool open)> on_backfill_open_change;

  cloud::InstanceManager* instances = nullptr;  // required; must outlive the server
  std::string data_dir;                          // the manager's data_dir (backfill files go under it)
  Clock* clock = nullptr;                        // null = Clock::Real()
  Logger* log = nullptr;                         // null = Logger::Default()
};

// What the server knows about one instance right now (not persisted).
struct ReplicaRuntime {
  bool connected = false;     // a Live stream is open
  uint64_t live_frames = 0;   // over all streams since start
  uint64_t live_dropped = 0;  // frames the journal did not take (P4)
  uint64_t live_duplicates = 0;  // frames the cloud held already (not journaled again)
  uint64_t unavailable_seqs = 0; // hole seqs the boat said it can never send
  uint64_t backfill_blocks = 0;
  uint64_t backfill_rejected = 0;
  uint64_t last_live_seq = 0;  // highest seq on the current/last Live stream
};

class ReplicationServer {
 public:
  // Checks the options (the message names the bad one), loads the PEM
  // files, binds the listening port and starts serving.
  static Result<std::unique_ptr<ReplicationServer>> Start(ReplicationServerOptions options);

  ReplicationServer(const ReplicationServer&) = delete;
  ReplicationServer& operator=(const ReplicationServer&) = delete;
  // Shutdown(0).
  ~ReplicationServer();

  // The bound port.
  int port() const;

  // Stops accepting, cancels every live stream at once (a boat's stream
  // never ends by itself; each handler still writes out and saves what it
  // took), lets backfill streams finish for up to `grace_us`, then cancels
  // them, and waits for every handler to return (backfill files are
  // finished then). Idempotent.
  void Shutdown(int64_t grace_us);

  // Runtime counters of `id`, or nullopt when no stream touched it.
  std::optional<ReplicaRuntime> Runtime(std::string_view id) const;

  // The newest `limit` events of `id`'s replication event log (spec/cloud.md
  // §1.11), newest first; empty when no stream touched it since start.
  std::vector<EventLogEntry> Events(std::string_view id, size_t limit) const;

  class Impl;

 private:
  explicit ReplicationServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lplex::replication
