#include "cloud_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "broker/broker.h"
#include "cloud/instance_manager.h"
#include "config/checks.h"
#include "config/keeper_config.h"
#include "core/shutdown_steps.h"
#include "data_dir_lock.h"
#include "http/instance_directory.h"
#include "http/server.h"
#include "keeper/archiver_factory.h"
#include "keeper/directory_archiver.h"
#include "keeper/keeper.h"
#include "keeper/open_files.h"
#include "replication/replication_server.h"
#include "tls_files.h"

namespace lplex::cloud_app {
namespace {

using config::CloudServerConfig;

int64_t Us(std::chrono::seconds s) { return std::chrono::duration_cast<std::chrono::microseconds>(s).count(); }

// "HOST:PORT", an IPv6 host in brackets ("[::1]:9443"): the form gRPC
// wants, and the one a reader can paste.
std::string HostPort(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

bool IsWildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

// -grpc-listen and -http-listen on one port: the second listener would fail
// at startup (after the keeper's sweep) with "address in use". Port 0 (any
// free port) never collides; a wildcard host collides with every host.
Status CheckListenersApart(const CloudServerConfig& c, const ListenAddress& grpc, const ListenAddress& http) {
  if (grpc.port == 0 || grpc.port != http.port) return Status::Ok();
  if (grpc.host != http.host && !IsWildcard(grpc.host) && !IsWildcard(http.host)) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "-grpc-listen \"{}\" and -http-listen \"{}\" use the same port {} (valid: two different ports, e.g. the "
      "defaults :9443 for replication and :8080 for HTTP)",
      c.grpc_listen, c.http_listen, grpc.port));
}

// A file:// archive inside the data directory, or around it, reaches into
// {data-dir}/instances/*/journal: the keeper refuses such a target for every
// instance at every scan (a copy must not be the journal), so nothing would
// ever be archived. Refused up front, naming both paths.
Status CheckArchiveOutsideDataDir(const CloudServerConfig& c) {
  if (c.journal_archive_target.rfind("file:", 0) != 0) return Status::Ok();
  LPLEX_ASSIGN_OR_RETURN(std::string root, keeper::ParseFileUrl(c.journal_archive_target));
  LPLEX_ASSIGN_OR_RETURN(std::string archive, keeper::ResolvePath(root));
  LPLEX_ASSIGN_OR_RETURN(std::string data, keeper::ResolvePath(c.data_dir));
  const char* relation = nullptr;
  if (archive == data) {
    relation = "is";
  } else if (keeper::PathIsWithin(archive, data)) {
    relation = "lies inside";
  } else if (keeper::PathIsWithin(data, archive)) {
    relation = "contains";
  }
  if (relation == nullptr) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "-journal-archive-target {}: the archive directory {} {} -data-dir {} (valid: a directory outside {}: every "
      "instance's journal is under {}/instances, and an archive must not be, contain or lie inside a journal "
      "directory)",
      c.journal_archive_target, root, relation, c.data_dir, c.data_dir, c.data_dir));
}

// Binds `a` once and lets go, so that a taken or foreign address is
// reported with the kernel's reason ("Address already in use", "Cannot
// assign requested address") before gRPC tries it and says only that it
// could not listen. SO_REUSEADDR as gRPC sets it: a port in TIME_WAIT is
// not in use.
Status ProbeListen(const ListenAddress& a, const std::string& flag, const std::string& value) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(a.port);
  if (const int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::IOError(
        fmt::format("cannot listen on {} \"{}\": host \"{}\": {}", flag, value, a.host, ::gai_strerror(rc)));
  }
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool bound = ::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!bound) err = errno;
    ::close(fd);
    if (bound) {
      ::freeaddrinfo(found);
      return Status::Ok();
    }
  }
  ::freeaddrinfo(found);
  return Status::IOError(fmt::format("cannot listen on {} \"{}\" ({}): {}", flag, value, HostPort(a.host, a.port),
                                     std::strerror(err)));
}

// The fleet as the HTTP API sees it: the InstanceManager's registry and
// persisted state, with `connected` from the replication server. Reads
// never start an instance; BrokerFor(id, true) does (Ensure).
class FleetDirectory final : public http::InstanceDirectory {
 public:
  FleetDirectory(cloud::InstanceManager* instances, const replication::ReplicationServer* replication)
      : instances_(instances), replication_(replication) {}

  std::vector<http::InstanceSummary> List() override {
    std::vector<http::InstanceSummary> out;
    for (const cloud::InstanceSummary& s : instances_->List()) {
      http::InstanceSummary h;
      h.id = s.id;
      h.connected = Connected(s.id);
      h.cursor = s.cursor;
      h.boat_head_seq = s.boat_head_seq;
      h.holes = s.holes;
      h.last_seen_us = s.last_seen_us;
      out.push_back(std::move(h));
    }
    return out;
  }

  std::optional<http::InstanceStatus> Find(std::string_view id) override {
    std::shared_ptr<cloud::Instance> instance = instances_->Get(id);
    if (!instance) return std::nullopt;
    const replication::InstanceState st = instance->state();
    http::InstanceStatus s;
    s.id = instance->id();
    s.connected = Connected(s.id);
    s.cursor = st.cursor;
    s.boat_head_seq = st.boat_head_seq;
    s.boat_journal_bytes = st.boat_journal_bytes;
    for (const auto& h : st.holes) s.holes.push_back(http::HoleSpan{h.start, h.end});
    s.last_seen_us = st.last_seen_us;
    return s;
  }

  std::shared_ptr<broker::Broker> BrokerFor(std::string_view id, bool start) override {
    if (!start) {
      std::shared_ptr<cloud::Instance> instance = instances_->Get(id);
      return instance ? instance->broker() : nullptr;
    }
    auto ensured = instances_->Ensure(id);
    return ensured.ok() ? (*ensured)->broker() : nullptr;
  }

  // The replication server's event log of the instance (spec/cloud.md
  // §1.11; memory only, empty until a stream touched it since start).
  std::optional<std::vector<http::ReplicationEvent>> ReplicationEvents(std::string_view id, size_t limit) override {
    if (!instances_->Get(id)) return std::nullopt;
    std::vector<http::ReplicationEvent> out;
    for (replication::EventLogEntry& e : replication_->Events(id, limit)) {
      out.push_back(http::ReplicationEvent{e.time_us, std::move(e.type), std::move(e.detail_json)});
    }
    return out;
  }

 private:
  bool Connected(std::string_view id) const {
    const auto r = replication_->Runtime(id);
    return r && r->connected;
  }

  cloud::InstanceManager* const instances_;
  const replication::ReplicationServer* const replication_;
};

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& value, const std::string& flag) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(
        fmt::format("{} \"{}\": {} (valid: [HOST]:PORT with PORT 0..65535, e.g. :9443 or 127.0.0.1:9443)", flag,
                    value, why));
  };
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  ListenAddress a;
  a.host = value.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty()) a.host = "0.0.0.0";
  const std::string port = value.substr(colon + 1);
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535) {
    return bad(fmt::format("port \"{}\" is not a number 0..65535", port));
  }
  a.port = static_cast<uint16_t>(v);
  return a;
}

Status ValidateCloudServerConfig(const CloudServerConfig& c) {
  LPLEX_ASSIGN_OR_RETURN(ListenAddress grpc, ParseListenAddress(c.grpc_listen, "grpc-listen"));
  LPLEX_ASSIGN_OR_RETURN(ListenAddress http, ParseListenAddress(c.http_listen, "http-listen"));
  LPLEX_RETURN_IF_ERROR(CheckListenersApart(c, grpc, http));
  if (!c.insecure_plaintext) {
    LPLEX_RETURN_IF_ERROR(CheckTlsFiles(TlsFiles{c.tls_cert, c.tls_key, c.tls_client_ca}));
  }
  LPLEX_RETURN_IF_ERROR(config::ResolveApiKey(c.api_key, c.api_key_file).status());
  LPLEX_RETURN_IF_ERROR(config::KeeperOptionsFor(c).status());
  if (config::Archiving(c)) {
    LPLEX_RETURN_IF_ERROR(
        keeper::CheckFileTargetUsable(c.journal_archive_target, "", "journal-archive-target"));
    LPLEX_RETURN_IF_ERROR(CheckArchiveOutsideDataDir(c));
    LPLEX_RETURN_IF_ERROR(keeper::MakeArchiver(config::ArchiverConfigFor(c)).status());
  }
  return Status::Ok();
}

struct CloudServer::Parts {
  std::unique_ptr<DataDirLock> lock;  // first taken, last let go
  std::atomic<bool> cancel_archiving{false};
  keeper::OpenFiles open_files;  // live and backfill files being written
  keeper::ArchiverConfig archiver_config;
  std::unique_ptr<keeper::Keeper> keeper;

  // Pause states the keeper reported, applied to the manager when it opens
  // (the startup scan runs before it exists) and forwarded afterwards.
  std::mutex pause_mu;
  std::map<std::string, bool> paused;
  cloud::InstanceManager* live_instances = nullptr;  // under pause_mu

  std::unique_ptr<cloud::InstanceManager> instances;
  std::unique_ptr<replication::ReplicationServer> replication;
  std::shared_ptr<FleetDirectory> directory;
  std::unique_ptr<http::Server> http;

  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool tick_stop = false;
  std::thread ticker;
};

Result<std::unique_ptr<CloudServer>> CloudServer::Create(CloudServerConfig config, CloudServerEnv env) {
  LPLEX_RETURN_IF_ERROR(ValidateCloudServerConfig(config));
  return std::unique_ptr<CloudServer>(new CloudServer(std::move(config), env));
}

CloudServer::CloudServer(CloudServerConfig config, CloudServerEnv env)
    : config_(std::move(config)),
      env_(env),
      log_(env_.log != nullptr ? env_.log : Logger::Default()),
      clock_(env_.clock != nullptr ? env_.clock : Clock::Real()),
      parts_(std::make_unique<Parts>()) {
  if (env_.fs == nullptr) env_.fs = FileSystem::Default();
}

CloudServer::~CloudServer() { Stop(); }

Status CloudServer::Start() {
  if (started_) return Status::InvalidArgument("CloudServer::Start called twice");
  started_ = true;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = StartKeeper();
  if (s.ok()) s = OpenInstances();
  if (s.ok()) s = StartReplication();
  if (s.ok()) s = StartHttp();
  if (!s.ok()) {
    log_->Error("startup failed; stopping what had started");
    Stop();
    return s;
  }
  StartTicker();
  parts_->http->SetReady(true);
  log_->Info("lplex-cloud: ready in {}: replication on port {}, HTTP on port {}, {} instance(s) registered",
             FormatSeconds(std::chrono::steady_clock::now() - t0), grpc_port(), http_port(), parts_->instances->size());
  return Status::Ok();
}

Status CloudServer::StartKeeper() {
  Parts& p = *parts_;
  if (Status s = env_.fs->CreateDirs(config_.data_dir); !s.ok()) {
    return Status::IOError(fmt::format("data-dir {}: cannot be created: {} (valid: a directory this user can write)",
                                       config_.data_dir, s.message()));
  }
  // Before the keeper's sweep: a second cloud on this directory must not
  // touch the first one's live files.
  auto lock = DataDirLock::Acquire(config_.data_dir);
  if (!lock.ok()) return lock.status();
  p.lock = std::move(*lock);
  LPLEX_ASSIGN_OR_RETURN(keeper::KeeperOptions k, config::KeeperOptionsFor(config_));
  k.dir_func = [fs = env_.fs, dir = config_.data_dir, log = log_] {
    return keeper::ListInstanceJournalDirs(fs, dir, log);
  };
  if (config::Archiving(config_)) {
    p.archiver_config = config::ArchiverConfigFor(config_);
    p.archiver_config.log = log_;
    p.archiver_config.fs = env_.fs;
    p.archiver_config.clock = clock_;
    p.archiver_config.cancel = &p.cancel_archiving;
    auto archiver = keeper::MakeArchiver(p.archiver_config);
    if (!archiver.ok()) return archiver.status().WithContext("keeper");
    k.archiver = std::shared_ptr<keeper::Archiver>(std::move(*archiver));
    k.upload_parallelism = static_cast<size_t>(std::max(1, config_.journal_archive_upload_parallelism));
    k.make_upload_archiver = [&p]() -> std::shared_ptr<keeper::Archiver> {
      auto more = keeper::MakeArchiver(p.archiver_config);
      if (!more.ok()) return nullptr;
      return std::shared_ptr<keeper::Archiver>(std::move(*more));
    };
  }
  k.is_open = p.open_files.Checker();
  k.on_pause_change = [&p, log = log_](const keeper::KeeperDir& d, bool paused) {
    std::lock_guard<std::mutex> lock(p.pause_mu);
    p.paused[d.instance_id] = paused;
    if (p.live_instances != nullptr) p.live_instances->SetInstancePaused(d.instance_id, paused);
    log->Warn("[{}] journal: recording {} (retention overflow-policy pause-recording)", d.instance_id,
              paused ? "paused" : "resumed");
  };
  k.clock = clock_;
  k.fs = env_.fs;
  k.log = log_;
  LPLEX_RETURN_IF_ERROR(keeper::CheckKeeperOptions(k));
  const bool on_rotate = k.trigger == keeper::ArchiveTrigger::kOnRotate;
  const std::string describe = k.archiver ? k.archiver->Describe() : std::string();
  p.keeper = std::make_unique<keeper::Keeper>(std::move(k));
  // P9: the startup scan and sweep of every instance's journal finish before
  // any server starts, so they never meet a file being written.
  const auto t0 = std::chrono::steady_clock::now();
  p.keeper->ScanAll();
  if (on_rotate) p.keeper->SweepUnarchived();
  log_->Info("keeper: startup scan{} of {}/instances done in {}{}", on_rotate ? " and archive sweep" : "",
             config_.data_dir, FormatSeconds(std::chrono::steady_clock::now() - t0),
             describe.empty() ? "" : fmt::format(" (archive: {})", describe));
  p.keeper->Start();
  return Status::Ok();
}

Status CloudServer::OpenInstances() {
  Parts& p = *parts_;
  cloud::InstanceManagerOptions o;
  o.data_dir = config_.data_dir;
  o.journal.rotate_duration_us = config_.journal_rotate_duration ? Us(*config_.journal_rotate_duration) : 0;
  o.journal.rotate_size = config_.journal_rotate_size;
  o.ring_capacity = static_cast<size_t>(config_.ring_size);
  o.device_idle_timeout_us = Us(config_.device_idle_timeout);  // 0 = never (the broker's rule)
  o.idle_timeout_us = Us(config_.instance_idle_timeout);
  o.on_rotate = [&p](const journal::RotatedFile& f) { p.keeper->Send(f); };
  o.on_open_change = p.open_files.Tracker();
  o.fs = env_.fs;
  o.clock = clock_;
  o.log = log_;
  auto opened = cloud::InstanceManager::Open(std::move(o));
  if (!opened.ok()) return opened.status().WithContext("instances");
  p.instances = std::move(*opened);
  std::lock_guard<std::mutex> lock(p.pause_mu);
  for (const auto& [id, paused] : p.paused) p.instances->SetInstancePaused(id, paused);
  p.live_instances = p.instances.get();
  return Status::Ok();
}

Status CloudServer::StartReplication() {
  Parts& p = *parts_;
  LPLEX_ASSIGN_OR_RETURN(ListenAddress a, ParseListenAddress(config_.grpc_listen, "grpc-listen"));
  LPLEX_RETURN_IF_ERROR(ProbeListen(a, "-grpc-listen", config_.grpc_listen).WithContext("replication"));
  replication::ReplicationServerOptions o;
  // gRPC wants HOST:PORT with a host (":9443" is every interface).
  o.listen_address = HostPort(a.host, a.port);
  o.insecure_plaintext = config_.insecure_plaintext;
  o.tls_cert_file = config_.tls_cert;
  o.tls_key_file = config_.tls_key;
  o.tls_client_ca_file = config_.tls_client_ca;
  o.rate_limit_per_s = config_.replication_rate_limit;
  o.rate_burst = config_.replication_rate_burst;
  o.max_live_lag = static_cast<uint64_t>(std::max<int64_t>(0, config_.replication_max_live_lag));
  o.on_backfill_rotate = [&p](const journal::RotatedFile& f) { p.keeper->Send(f); };
  o.on_backfill_open_change = p.open_files.Tracker();
  o.instances = p.instances.get();
  o.data_dir = config_.data_dir;
  o.clock = clock_;
  o.log = log_;
  auto started = replication::ReplicationServer::Start(std::move(o));
  if (!started.ok()) return started.status().WithContext("replication");
  p.replication = std::move(*started);
  log_->Info("lplex-cloud: replication (gRPC) at {} ({})", HostPort(a.host, p.replication->port()),
             config_.insecure_plaintext ? "plaintext" : "mTLS");
  return Status::Ok();
}

Status CloudServer::StartHttp() {
  Parts& p = *parts_;
  LPLEX_ASSIGN_OR_RETURN(ListenAddress a, ParseListenAddress(config_.http_listen, "http-listen"));
  http::ServerOptions h;
  h.bind_address = a.host;
  h.port = a.port;
  LPLEX_ASSIGN_OR_RETURN(h.api_key, config::ResolveApiKey(config_.api_key, config_.api_key_file));
  h.clock = clock_;
  h.log = log_;
  p.directory = std::make_shared<FleetDirectory>(p.instances.get(), p.replication.get());
  auto created = http::Server::CreateCloud(std::move(h), p.directory);
  if (!created.ok()) return created.status().WithContext("http");
  p.http = std::move(*created);
  LPLEX_RETURN_IF_ERROR(p.http->Start());
  log_->Info("lplex-cloud: HTTP API at http://{}/", HostPort(a.host, p.http->port()));
  return Status::Ok();
}

// Idle stop (P9): about once a second, InstanceManager::Tick stops the
// instances that saw no frame for instance-idle-timeout.
void CloudServer::StartTicker() {
  Parts& p = *parts_;
  p.ticker = std::thread([&p] {
    std::unique_lock<std::mutex> lock(p.tick_mu);
    while (!p.tick_cv.wait_for(lock, std::chrono::seconds(1), [&p] { return p.tick_stop; })) {
      lock.unlock();
      p.instances->Tick();
      lock.lock();
    }
  });
}

void CloudServer::Stop() {
  if (stopped_ || !started_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  Parts& p = *parts_;
  ShutdownSteps steps(log_);
  if (p.http) p.http->SetReady(false);
  if (p.replication) {
    steps.Step("stopped replication", [&] {
      p.replication->Shutdown(env_.grpc_grace_us);
      return std::string();
    });
  }
  if (p.http) {
    steps.Step("stopped HTTP", [&] {
      p.http->Stop(std::chrono::seconds(2));
      return std::string();
    });
  }
  if (p.ticker.joinable()) {
    steps.Step("stopped the idle timer", [&] {
      {
        std::lock_guard<std::mutex> lock(p.tick_mu);
        p.tick_stop = true;
      }
      p.tick_cv.notify_all();
      p.ticker.join();
      return std::string();
    });
  }
  if (p.instances) {
    steps.Step("stopped instances", [&] {
      const size_t active = p.instances->active_count();
      const Status s = p.instances->Shutdown();
      {
        std::lock_guard<std::mutex> lock(p.pause_mu);
        p.live_instances = nullptr;
      }
      std::string out = fmt::format("{} active instance(s) finalized", active);
      if (!s.ok()) {
        log_->Error("instances: {}", s.ToString());
        out += ", error: " + s.ToString();
      }
      return out;
    });
  }
  if (p.keeper) {
    steps.Step("keeper drained", [&] {
      p.keeper->Stop();
      const keeper::KeeperStats& ks = p.keeper->stats();
      return fmt::format("{} archived, {} failed, {} still pending (swept at next start)", ks.archived,
                         ks.archive_failures, p.keeper->pending_count());
    });
  }
  steps.Done();
}

void CloudServer::CancelArchiving() { parts_->cancel_archiving.store(true); }

uint16_t CloudServer::http_port() const { return parts_->http ? parts_->http->port() : 0; }

int CloudServer::grpc_port() const { return parts_->replication ? parts_->replication->port() : 0; }

}  // namespace lplex::cloud_app
