// CloudServer: lplex-cloud's parts wired together (docs/cloud.md "Running
// lplex-cloud"; spec/cloud.md §2.8 with the fixes of §6.2 P9).
//
// Start(), in this order:
//   1. the data directory created and locked ({data-dir}/.lock,
//      data_dir_lock.h: a second cloud on it fails here, before its keeper
//      touches anything); the keeper built, and its startup
//      retention scan and archive sweep of every {data-dir}/instances/*/journal
//      run to the end on the calling thread BEFORE any server starts (P9:
//      they never meet a file being written), then its thread starts;
//   2. the InstanceManager opened (every instance registered, none active);
//   3. the replication server (gRPC) listening (its address bound once
//      beforehand, so a taken port is reported with the kernel's reason);
//   4. the HTTP API listening;
//   5. the idle timer (InstanceManager::Tick about once a second);
//   6. /readyz ready.
// A failure at any step stops what was started (in the shutdown order) and
// is returned; the message names the part and the cause.
//
// Stop(), in this order, each step bounded and logged with its duration
// ("shutdown: ... in 0.123 s"):
//   not ready → replication stopped (no new streams; open calls get a grace
//   period, then are cancelled; backfill files finished) → HTTP stopped →
//   idle timer stopped → instances shut down (every active journal
//   finalized; on_rotate reaches the keeper) → keeper drained (the last files
//   archived; what is left is swept at the next start) → done.
//
// Start/Stop from one control thread; the port getters from any thread
// after Start.
#pragma once

#include <memory>
#include <string>

#include "config/cloud_config.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"

namespace lplex::cloud_app {

struct CloudServerEnv {
  Logger* log = nullptr;     // null = Logger::Default(); must outlive the server
  Clock* clock = nullptr;    // null = Clock::Real()
  FileSystem* fs = nullptr;  // null = FileSystem::Default()
  // How long open replication calls may run on at shutdown before they
  // are cancelled.
  int64_t grpc_grace_us = 5'000'000;
};

// "[HOST]:PORT" of -grpc-listen / -http-listen as host and port; an empty
// host is every interface ("0.0.0.0"), "[::1]:80" gives "::1". The error
// names `flag`, the value and the valid form.
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};
Result<ListenAddress> ParseListenAddress(const std::string& value, const std::string& flag);

// Checks what can be checked without starting anything: both listen
// addresses (and that they are not on one port), the TLS files (readable
// PEM, the key the certificate's; tls_files.h), the api-key file, the
// retention and archive settings and the archive target (credentials
// included; a file:// target must lie outside -data-dir, where the keeper
// would refuse it for every instance). Used by -validate-config and
// Create(); a failure is a configuration error (exit 2).
Status ValidateCloudServerConfig(const config::CloudServerConfig& config);

class CloudServer {
 public:
  // Validates (ValidateCloudServerConfig); starts nothing.
  static Result<std::unique_ptr<CloudServer>> Create(config::CloudServerConfig config, CloudServerEnv env = {});
  ~CloudServer();  // Stop()
  CloudServer(const CloudServer&) = delete;
  CloudServer& operator=(const CloudServer&) = delete;

  // The startup order above. Call once.
  Status Start();
  // The shutdown order above. Idempotent; safe after a failed Start.
  void Stop();
  // A second SIGINT/SIGTERM: the archivers stop between files (the script's
  // process group is stopped), so Stop() returns soon. Any thread.
  void CancelArchiving();

  // The bound ports (the real ones when the config says 0); 0 before Start.
  uint16_t http_port() const;
  int grpc_port() const;

 private:
  struct Parts;
  CloudServer(config::CloudServerConfig config, CloudServerEnv env);
  Status StartKeeper();
  Status OpenInstances();
  Status StartReplication();
  Status StartHttp();
  void StartTicker();

  config::CloudServerConfig config_;
  CloudServerEnv env_;
  Logger* log_;
  Clock* clock_;
  std::unique_ptr<Parts> parts_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace lplex::cloud_app
