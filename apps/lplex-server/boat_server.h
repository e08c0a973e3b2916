// BoatServer: lplex-server's parts wired together, in the order that keeps
// every frame and every file (docs/server.md; spec/cloud.md §3 with the
// fixes of §6.2 P2 and P9).
//
// Start(), in this order:
//   1. the journal directory created and proven writable (a probe file);
//      keeper: built, and its startup retention scan and archive sweep run to
//      the end on the calling thread BEFORE any writer opens a file (P9), then
//      its thread starts;
//   2. seq: max(the newest journal block, the seq lease's ceiling) (P2), so
//      numbering continues where the last run stopped and never reuses a seq
//      served before a crash; a new lease is on disk before the first frame
//      (journal/seq_lease.h; a clean Stop stores the exact next seq);
//   3. broker, with that initial head;
//   4. journal sink + writer (on_open_change → OpenFiles, which the keeper
//      consults; on_rotate → keeper.Send with the replication instance id);
//   5. HTTP server (listening, not ready yet);
//   6. sources, then the broker's owner thread (its startup 60928 request
//      goes to sources that are running);
//   7. /readyz ready, systemd READY=1.
// A failure at any step stops what was started (in the shutdown order) and
// is returned; the message names the part and the cause.
//
// Stop(), in this order, each step bounded and logged with its duration:
//   STOPPING=1 → stop HTTP and the sources → drain the broker (every queued
//   frame ingested, seq assigned, handed to the journal) → finalize the
//   journal (the open file finished; on_rotate reaches the keeper) → keeper
//   drains its queue (the last file archived) → done.
// Without a journal directory steps 1, 2, 4 and the journal/keeper shutdown
// steps are skipped (seq starts at 1, as there is nothing to continue from).
//
// Threads it owns: the broker owner thread (BrokerLoop), one per source, the
// sink runner, the keeper, the HTTP io threads. Start/Stop/status() from one
// control thread; status() may also be called from any thread after Start.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/boat_config.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"

namespace lplex::broker {
class Broker;
}
namespace lplex::http {
struct HealthReport;
}

namespace lplex::server {

class SystemdNotifier;

struct BoatServerEnv {
  Logger* log = nullptr;       // null = Logger::Default(); must outlive the server
  Clock* clock = nullptr;      // null = Clock::Real()
  FileSystem* fs = nullptr;    // null = FileSystem::Default()
  // Address the HTTP API listens on (the config has only the port).
  std::string bind_address = "0.0.0.0";
  // systemd notifications (not owned; null = none).
  SystemdNotifier* notifier = nullptr;
  // Told (once, on a source's thread) that a source failed for good: the
  // program should shut down and exit non-zero. Null: only logged.
  std::function<void(const Status&)> on_fatal;
};

// What the status line and the tests read. Any thread, after Start().
struct BoatServerStatus {
  uint64_t frames_total = 0;     // frames the broker ingested
  uint64_t head_seq = 0;         // the next seq
  uint64_t first_seq = 0;        // the seq this run started at (recovered)
  uint64_t devices = 0;
  uint64_t clients = 0;          // SSE subscribers + session/consumer streams
  uint64_t files_written = 0;    // journal files finished this run
  uint64_t files_archived = 0;   // archived this run (keeper)
  uint64_t journal_dropped = 0;  // frames the journal could not take (queue full)
  uint64_t source_dropped = 0;   // frames a live source's queue could not take
  std::string open_file;         // journal file being written; "" = none
};

// Checks what can be checked without starting anything: the source URIs,
// the send rules, the api-key file, the archive target (credentials
// included) and the keeper's directory rules (an archive directory inside the
// journal directory is refused). Used by -validate-config and Start().
Status ValidateBoatServerConfig(const config::BoatServerConfig& config);

// What -validate-config checks beyond the values, without creating
// anything: the journal directory exists or could be created, and takes a
// file (a probe is created, fsynced and removed in it, or in the nearest
// existing parent). Start() checks the same after creating the directory
// (a failure there is a startup error, exit 1, not a configuration error).
// The error names the directory and the cause (errno text).
Status CheckBoatServerEnvironment(const config::BoatServerConfig& config);

class BoatServer {
 public:
  // Validates (ValidateBoatServerConfig); starts nothing.
  static Result<std::unique_ptr<BoatServer>> Create(config::BoatServerConfig config, BoatServerEnv env = {});
  ~BoatServer();  // Stop()
  BoatServer(const BoatServer&) = delete;
  BoatServer& operator=(const BoatServer&) = delete;

  // The startup order above. Call once.
  Status Start();
  // The shutdown order above. Idempotent; safe after a failed Start.
  void Stop();

  // A second SIGINT/SIGTERM: stop archiving now (the archive script's
  // process group is stopped, the built-in targets stop between files), so
  // Stop() returns soon and no child is left running. What was not archived
  // is swept at the next start. Any thread, any time.
  void CancelArchiving();

  // The HTTP port (the real one when the config says 0); 0 before Start.
  uint16_t http_port() const;
  BoatServerStatus status() const;
  // The broker (null before Start), for in-process tests.
  std::shared_ptr<broker::Broker> broker() const;

 private:
  struct Parts;
  BoatServer(config::BoatServerConfig config, BoatServerEnv env);
  Status StartKeeper();
  Status RecoverSeq(uint64_t* next_seq);
  Status StartBroker(uint64_t next_seq);
  Status StartJournal();
  Status StartHttp();
  Status StartSources();
  Status StartReplication();
  std::string ReplicationStatusJson() const;
  // The /metrics lines and /healthz components of the journal, the keeper
  // and the sources (the HTTP server adds the broker's and its own).
  void AppendMetrics(std::string* out) const;
  void AppendHealth(http::HealthReport* report) const;

  config::BoatServerConfig config_;
  BoatServerEnv env_;
  Logger* log_;
  Clock* clock_;
  std::unique_ptr<Parts> parts_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace lplex::server
