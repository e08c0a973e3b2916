// ReplicationClient: the boat side of replication (spec/cloud.md §1). It
// dials the cloud, introduces the boat (Handshake), streams every new frame
// (Live) and sends the journal blocks the cloud reports missing (Backfill),
// and reconnects with backoff whenever anything fails.
//
// One session, in order:
//  1. Handshake {instance_id, head_seq, journal_bytes} → {cursor, holes,
//     live_start_from}. A successful handshake resets the backoff (P11).
//  2. Live: first the device snapshot as seq-0 frames (60928 NAME, and
//     126996 product info when known: the replica never asks the bus), then
//     the broker's frames from live_start_from, clamped to what the boat
//     still holds in its ring or journal (P3: a first connect that asks for
//     seq 1 starts at the oldest seq left, instead of failing "fallen behind"
//     forever). A LiveStatus with the head every status interval. Every
//     lag_check_frames frames the consumer's distance to the head is
//     checked; past max_live_lag the session ends and the next starts at
//     once (the cloud's handshake then reports the skipped seqs as a hole),
//     at most once per min_lag_reconnect_interval (spec/cloud.md §6.1).
//  3. Backfill (only when the handshake listed holes), beside Live on the
//     same channel: holes newest first (recent history is worth most), and
//     in each hole the blocks in seq order, read as stored from the journal
//     files whose seq span can hold it (ListJournalSpans /
//     SelectSpansForSeqRange, blocks by binary search: P12; dictionary
//     blocks re-encoded as plain zstd by StoredBlockReader: P6). A block is
//     sent once per session, however many holes it holds. Seqs past the
//     journal's last one but at or before the head are still in the
//     journal's open block (not on disk before its flush interval): the
//     backfill waits for them, looking again every backfill_recheck
//     interval, and sends them once journaled. Seqs the boat can never
//     serve (older than its journal, a gap in it, past its head) are logged
//     once and left to the cloud. A finished backfill leaves Live running;
//     a failed one ends the session.
//     A session that ends reports the stream that failed first: a live
//     stream's failure is not hidden behind the backfill it cancelled.
//  4. Any error ends both streams; the client waits the backoff (min,
//     doubling up to max, on the Clock's monotonic time) and starts again.
//
// TLS: the server is checked against the system roots plus, when set, the
// CA file (a private CA is honoured, P7; the reference ignored it). A client
// certificate and key are presented when set (mTLS: the cloud takes the
// instance id from its CN). `insecure` is plaintext, for tests and trusted
// networks only.
//
// This header includes no gRPC or protobuf header (they are slow to
// compile): the implementation is behind a pimpl.
//
// Thread-safe: Start/Stop from the owner, Status() from any thread (HTTP).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "replication/hole_tracker.h"

namespace lplex {
class Clock;
class Logger;
class FileSystem;
namespace broker {
class Broker;
}
}  // namespace lplex

namespace lplex::replication {

struct ReplicationClientOptions {
  // "host:port" of the cloud's gRPC listener.
  std::string target;
  // The boat's name (ValidateInstanceId); under mTLS it must equal the
  // client certificate's CN.
  std::string instance_id;

  // Plaintext gRPC. Otherwise TLS, with the files below.
  bool insecure = false;
  // PEM file of an extra trusted root for the server's certificate ("" =
  // system roots only).
  std::string tls_ca_file;
  // PEM client certificate and key, both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Where frames come from (required) and the journal backfill reads
  // ("" = no journal: holes cannot be filled and are left to the cloud).
  std::shared_ptr<broker::Broker> broker;
  std::string journal_dir;
  std::string journal_prefix;  // "" = every *.lpj in journal_dir

  Clock* clock = nullptr;    // null = Clock::Real(); backoff and status timers
  Logger* logger = nullptr;  // null = Logger::Default()
  FileSystem* fs = nullptr;  // null = FileSystem::Default()

  int64_t backoff_min_us = 1'000'000;
  int64_t backoff_max_us = 60'000'000;
  int64_t status_interval_us = 5'000'000;
  // Lag check (§6.1); max_live_lag 0 = never.
  uint64_t max_live_lag = 10'000;
  uint64_t lag_check_frames = 1'000;
  int64_t min_lag_reconnect_interval_us = 30'000'000;
  // A live session whose cloud cursor has not moved for this long while the
  // boat sent frames past it is restarted: the cloud is missing a seq (a
  // frame it dropped mid-session becomes a hole), and only a new handshake
  // lists it for backfill. Well above the cloud's ack delay (acks follow
  // journal blocks: up to its flush interval, 60 s by default). Not while
  // the cursor waits at a hole the cloud already listed: a new handshake
  // would list it again (and a hole the boat cannot fill parks the cursor
  // for good). 0 = never.
  int64_t ack_stall_reconnect_us = 180'000'000;
  // How long a Handshake may take (real time; gRPC deadlines are real).
  int64_t handshake_timeout_us = 10'000'000;
  // While backfill waits for holes still in the journal's open block: how
  // often it looks whether the journal files grew (a few stats; the files
  // are only listed again when they did). The boat's journal flushes every
  // 60 s by default.
  int64_t backfill_recheck_interval_us = 5'000'000;
};

// What GET /replication/status, /healthz and /metrics show (spec/cloud.md
// §3.4, §6.1).
struct ReplicationStatus {
  bool connected = false;  // a handshake succeeded and its session is running
  std::string instance_id;
  uint64_t local_head_seq = 0;  // the broker's last assigned seq
  uint64_t cloud_cursor = 0;    // the cloud's latest acked_through / continuous_through
  std::vector<SeqRange> holes;  // the cloud's latest list of gaps
  uint64_t live_lag = 0;        // local_head_seq - cloud_cursor, 0 when negative
  uint64_t backfill_remaining_seqs = 0;  // seqs in `holes`
  int64_t last_ack_us = 0;      // wall time of the latest ack; 0 = never
  uint64_t live_frames_sent = 0;
  uint64_t backfill_blocks_sent = 0;
  uint64_t backfill_bytes_sent = 0;
  uint64_t reconnects = 0;      // sessions started after the first
  std::string last_error;       // why the latest session ended ("" = none yet)
};

class ReplicationClient {
 public:
  // Checks the options and reads the TLS files. InvalidArgument names the
  // bad value (an empty target, an invalid instance id, no broker, a
  // certificate without its key, a backoff min above its max, an interval
  // that is not positive); IOError
  // names a TLS file that cannot be read.
  static Result<std::unique_ptr<ReplicationClient>> Create(ReplicationClientOptions options);
  ~ReplicationClient();  // Stop()s
  ReplicationClient(const ReplicationClient&) = delete;
  ReplicationClient& operator=(const ReplicationClient&) = delete;

  // Starts the replication thread. Once only.
  void Start();
  // Ends the session in progress (streams cancelled, a backoff wait cut
  // short) and joins the thread. Prompt: it waits for no timer and no
  // network round trip. Idempotent.
  void Stop();

  ReplicationStatus Status() const;

 private:
  class Impl;
  explicit ReplicationClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lplex::replication
