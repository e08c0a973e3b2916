#include "boat_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "broker/broker.h"
#include "config/checks.h"
#include "broker_loop.h"
#include "config/keeper_config.h"
#include "config/pem_file.h"
#include "core/instance_id.h"
#include "core/prometheus_text.h"
#include "core/shutdown_steps.h"
#include "core/time.h"
#include "http/send_policy.h"
#include "http/server.h"
#include "journal/journal_sink.h"
#include "journal/seq_lease.h"
#include "journal/seq_recovery.h"
#include "journal/writer.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "keeper/open_files.h"
#include "keeper/policy.h"
#include "replication/replication_client.h"
#include "sources/source_factory.h"
#include "sources/source_uri.h"
#include "systemd_notify.h"

namespace lplex::server {
namespace {

using config::BoatServerConfig;
using std::chrono::milliseconds;

// Counts the files its archiver confirmed, for the status line and /metrics
// (the keeper's own stats may only be read once its thread stopped).
class CountingArchiver final : public keeper::Archiver {
 public:
  explicit CountingArchiver(std::unique_ptr<keeper::Archiver> inner) : inner_(std::move(inner)) {}
  std::vector<keeper::ArchiveOutcome> Archive(const std::vector<keeper::ArchiveItem>& batch,
                                              keeper::Deadline deadline) override {
    auto out = inner_->Archive(batch, deadline);
    for (const auto& o : out) {
      (o.ok ? archived_ : failed_).fetch_add(1, std::memory_order_relaxed);
    }
    return out;
  }
  std::string Describe() const override { return inner_->Describe(); }
  Status CheckJournalDir(const std::string& journal_dir, const std::string& instance_id) const override {
    return inner_->CheckJournalDir(journal_dir, instance_id);
  }
  uint64_t archived() const { return archived_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<keeper::Archiver> inner_;
  std::atomic<uint64_t> archived_{0}, failed_{0};
};

int64_t Us(std::optional<std::chrono::seconds> s) {
  return s ? std::chrono::duration_cast<std::chrono::microseconds>(*s).count() : 0;
}
int64_t Us(std::chrono::seconds s) { return std::chrono::duration_cast<std::chrono::microseconds>(s).count(); }

Result<std::vector<sources::SourceSpec>> SourceSpecs(const BoatServerConfig& c) {
  std::vector<sources::SourceSpec> specs;
  if (!c.sources.empty()) {
    for (const auto& uri : c.sources) {
      LPLEX_ASSIGN_OR_RETURN(sources::SourceSpec spec, sources::ParseSourceUri(uri));
      specs.push_back(std::move(spec));
    }
  } else if (!c.interfaces.empty()) {
    std::string list;
    for (const auto& i : c.interfaces) list += (list.empty() ? "" : ",") + i;
    LPLEX_ASSIGN_OR_RETURN(specs, sources::ParseInterfaceList(list));
  } else {
    LPLEX_ASSIGN_OR_RETURN(specs, sources::ParseInterfaceList(c.interface));
  }
  LPLEX_RETURN_IF_ERROR(sources::AssignBuses(&specs));
  return specs;
}

using config::Archiving;
using config::ArchiverConfigFor;

// The keeper's options from the settings both servers share
// (config/keeper_config.h), with the boat's one directory.
Result<keeper::KeeperOptions> BoatKeeperOptions(const BoatServerConfig& c) {
  LPLEX_ASSIGN_OR_RETURN(keeper::KeeperOptions k, config::KeeperOptionsFor(c));
  k.dirs = {keeper::KeeperDir{c.journal_dir, c.replication_instance_id}};
  return k;
}

// Proves the journal directory takes a file (create, fsync, remove a probe),
// so a directory the writer cannot use fails at startup instead of losing
// every frame quietly. `create`: make the directory first (startup);
// otherwise (-validate-config, which starts nothing and leaves no trace) a
// missing directory is checked by probing the nearest existing ancestor,
// where it would be created.
Status CheckJournalDirWritable(const std::string& dir, FileSystem* fs, bool create) {
  auto fail = [&dir](const std::string& cause) {
    return Status::InvalidArgument(
        fmt::format("journal-dir {}: not writable: {} (valid: a directory this user can create files in)", dir, cause));
  };
  namespace fsys = std::filesystem;
  std::error_code ec;
  std::string probe_dir = dir;
  if (create) {
    Status s = fs->CreateDirs(dir);
    if (!s.ok()) return fail(s.message());
  } else {
    fsys::path p = fsys::absolute(dir, ec);
    while (!ec && !fsys::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
    if (ec) return fail(ec.message());
    probe_dir = p.string();
  }
  if (!fsys::is_directory(probe_dir, ec)) {
    return fail(fmt::format("{} is not a directory", probe_dir));
  }
  const std::string probe = JoinPath(probe_dir, ".lplex-write-probe");
  if (fs->Exists(probe)) (void)fs->RemoveFile(probe);
  auto f = fs->NewExclusiveFile(probe);
  if (!f.ok()) return fail(f.status().message());
  const uint8_t byte = 0;
  Status s = (*f)->Append(std::span<const uint8_t>(&byte, 1));
  if (s.ok()) s = (*f)->Sync();
  const Status closed = (*f)->Close();
  if (s.ok()) s = closed;
  const Status removed = fs->RemoveFile(probe);
  if (s.ok()) s = removed;
  return s.ok() ? Status::Ok() : fail(s.message());
}

// A source's error, said once: sources name their URI themselves
// ("socketcan:can0: ..."); others get "source URI: " in front.
Status InSource(const Status& s, const std::string& uri) {
  if (s.message().rfind(uri + ":", 0) == 0) return s;
  return s.WithContext("source " + uri);
}

}  // namespace

Status ValidateBoatServerConfig(const BoatServerConfig& c) {
  LPLEX_ASSIGN_OR_RETURN(std::vector<sources::SourceSpec> specs, SourceSpecs(c));
  for (const auto& spec : specs) {
    LPLEX_RETURN_IF_ERROR(sources::CheckSourceSpec(spec));
    // A replay's capture format or journal directory is checked by making
    // the source (it opens and reads the start of the file, starts nothing):
    // a garbage file failed only at the real start before.
    if (spec.kind == sources::SourceKind::kReplay) {
      auto made = sources::MakeSource(spec, sources::SourceEnv{});
      if (!made.ok()) return InSource(made.status(), spec.uri);
    }
  }
  if (c.send_enabled) {
    auto rules = http::ParseSendRules(c.send_rules);
    if (!rules.ok()) return rules.status().WithContext("send-rules");
  }
  LPLEX_RETURN_IF_ERROR(config::ResolveApiKey(c.api_key, c.api_key_file).status());
  if (!c.replication_target.empty()) {
    LPLEX_RETURN_IF_ERROR(ValidateInstanceId(c.replication_instance_id).WithContext(
        "-replication-instance-id (required with -replication-target)"));
    if (c.replication_tls_cert.empty() != c.replication_tls_key.empty()) {
      return Status::InvalidArgument(
          "-replication-tls-cert and -replication-tls-key go together (give both for mTLS, or neither for plaintext)");
    }
    // A CA alone would silently mean plaintext: no client certificate, no TLS.
    if (!c.replication_tls_ca.empty() && c.replication_tls_cert.empty()) {
      return Status::InvalidArgument(
          "-replication-tls-ca given without -replication-tls-cert and -replication-tls-key (mTLS needs the "
          "certificate and key, and the CA when the cloud's certificate is from a private CA; plaintext needs none)");
    }
    // Checked here, not left to gRPC: it finds a bad file only after
    // startup, then retries the connection forever.
    const struct {
      const char* flag;
      const std::string& path;
      config::PemContent content;
    } tls_files[] = {{"-replication-tls-cert", c.replication_tls_cert, config::PemContent::kCertificate},
                     {"-replication-tls-key", c.replication_tls_key, config::PemContent::kPrivateKey},
                     {"-replication-tls-ca", c.replication_tls_ca, config::PemContent::kCertificate}};
    for (const auto& f : tls_files) {
      if (!f.path.empty()) LPLEX_RETURN_IF_ERROR(config::CheckPemFile(f.flag, f.path, f.content));
    }
  }
  if (c.journal_dir.empty()) {
    // An archive set up for a journal that is not recorded would archive
    // nothing, silently.
    if (!c.journal_archive_target.empty() || !c.journal_archive_command.empty()) {
      return Status::InvalidArgument(fmt::format(
          "{} is set but -journal-dir is not: nothing is recorded, so nothing would be archived (set -journal-dir, "
          "or drop the archive setting)",
          !c.journal_archive_target.empty() ? "-journal-archive-target" : "-journal-archive-command"));
    }
    return Status::Ok();
  }
  LPLEX_RETURN_IF_ERROR(journal::ParseCompression(c.journal_compression).status());
  LPLEX_ASSIGN_OR_RETURN(keeper::KeeperOptions k, BoatKeeperOptions(c));
  if (Archiving(c)) {
    const keeper::ArchiverConfig ac = ArchiverConfigFor(c);
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<keeper::Archiver> a, keeper::MakeArchiver(ac));
    k.archiver = std::move(a);
    LPLEX_RETURN_IF_ERROR(keeper::CheckFileTargetUsable(ac.target, c.replication_instance_id, ac.names.target));
  }
  return keeper::CheckKeeperOptions(k);
}

Status CheckBoatServerEnvironment(const BoatServerConfig& c) {
  if (c.journal_dir.empty()) return Status::Ok();
  return CheckJournalDirWritable(c.journal_dir, FileSystem::Default(), /*create=*/false);
}

// The live objects, in the order they are started.
struct BoatServer::Parts {
  // Keeper side.
  keeper::OpenFiles open_files;
  std::unique_ptr<Logger> archiver_log;
  std::shared_ptr<CountingArchiver> archiver;
  std::unique_ptr<keeper::Keeper> keeper;
  std::atomic<bool> pause_recording{false};
  std::atomic<bool> cancel_archiving{false};  // ArchiverConfig::cancel

  uint64_t first_seq = 1;
  // Seqs reserved on disk ahead of the broker (P2 across a crash).
  std::unique_ptr<journal::SeqLease> lease;
  std::shared_ptr<broker::Broker> broker;

  // Journal side: set before the broker ingests its first frame.
  std::shared_ptr<journal::JournalSink> sink;
  std::unique_ptr<journal::SinkRunner> runner;
  std::atomic<journal::JournalWriter*> writer{nullptr};

  std::unique_ptr<http::Server> http;
  std::vector<std::unique_ptr<sources::FrameSource>> sources;
  std::unique_ptr<replication::ReplicationClient> replication;  // -replication-target set
  std::unique_ptr<BrokerLoop> loop;
  // `loop` for the HTTP hooks, which may run (on io threads) before it exists.
  std::atomic<BrokerLoop*> live_loop{nullptr};
  std::atomic<bool> fatal_reported{false};
};

Result<std::unique_ptr<BoatServer>> BoatServer::Create(BoatServerConfig config, BoatServerEnv env) {
  LPLEX_RETURN_IF_ERROR(ValidateBoatServerConfig(config));
  return std::unique_ptr<BoatServer>(new BoatServer(std::move(config), std::move(env)));
}

BoatServer::BoatServer(BoatServerConfig config, BoatServerEnv env)
    : config_(std::move(config)),
      env_(std::move(env)),
      log_(env_.log != nullptr ? env_.log : Logger::Default()),
      clock_(env_.clock != nullptr ? env_.clock : Clock::Real()),
      parts_(std::make_unique<Parts>()) {
  if (env_.fs == nullptr) env_.fs = FileSystem::Default();
}

BoatServer::~BoatServer() { Stop(); }

Status BoatServer::Start() {
  if (started_) return Status::InvalidArgument("BoatServer::Start called twice");
  started_ = true;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = StartKeeper();
  uint64_t next_seq = 1;
  if (s.ok()) s = RecoverSeq(&next_seq);
  if (s.ok()) s = StartBroker(next_seq);
  if (s.ok()) s = StartJournal();
  if (s.ok()) s = StartHttp();
  if (s.ok()) s = StartSources();
  if (s.ok()) s = StartReplication();
  if (!s.ok()) {
    // The status goes back to the caller (lplex-server prints it as its last
    // line); logging it here too printed every startup error twice.
    log_->Error("startup failed; stopping what had started");
    Stop();
    return s;
  }
  parts_->http->SetReady(true);
  const std::string ready = fmt::format("serving on port {}, {} source(s), seq from {}", http_port(),
                                        parts_->sources.size(), parts_->first_seq);
  if (env_.notifier != nullptr) env_.notifier->Ready(ready);
  log_->Info("lplex-server: ready in {}: {}", FormatSeconds(std::chrono::steady_clock::now() - t0), ready);
  return Status::Ok();
}

Status BoatServer::StartKeeper() {
  if (config_.journal_dir.empty()) {
    log_->Info("journal: off (no -journal-dir); frames are served but not recorded");
    return Status::Ok();
  }
  Parts& p = *parts_;
  LPLEX_RETURN_IF_ERROR(CheckJournalDirWritable(config_.journal_dir, env_.fs, /*create=*/true));
  LPLEX_ASSIGN_OR_RETURN(keeper::KeeperOptions k, BoatKeeperOptions(config_));
  if (Archiving(config_)) {
    keeper::ArchiverConfig a = ArchiverConfigFor(config_);
    p.archiver_log = WithInstance(log_, config_.replication_instance_id);
    a.log = p.archiver_log.get();
    a.fs = env_.fs;
    a.clock = clock_;
    a.cancel = &p.cancel_archiving;
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<keeper::Archiver> inner, keeper::MakeArchiver(a));
    p.archiver = std::make_shared<CountingArchiver>(std::move(inner));
    k.archiver = p.archiver;
  }
  k.is_open = p.open_files.Checker();
  k.on_pause_change = [&p, log = log_](const keeper::KeeperDir& d, bool paused) {
    p.pause_recording.store(paused);
    if (journal::JournalWriter* w = p.writer.load()) w->SetPaused(paused);
    log->Warn("journal: recording {} for {} (retention overflow-policy pause-recording)",
              paused ? "paused" : "resumed", d.dir);
  };
  k.clock = clock_;
  k.fs = env_.fs;
  k.log = log_;
  LPLEX_RETURN_IF_ERROR(keeper::CheckKeeperOptions(k));
  const bool on_rotate = k.trigger == keeper::ArchiveTrigger::kOnRotate;
  p.keeper = std::make_unique<keeper::Keeper>(std::move(k));
  // P9: the startup scan and sweep finish before any writer opens a file,
  // so they never see a file being written (is_open guards the rest).
  const auto t0 = std::chrono::steady_clock::now();
  p.keeper->ScanAll();
  if (on_rotate) p.keeper->SweepUnarchived();
  log_->Info("keeper: startup scan{} of {} done in {}{}", on_rotate ? " and archive sweep" : "",
             config_.journal_dir, FormatSeconds(std::chrono::steady_clock::now() - t0),
             p.archiver ? fmt::format(" (archive: {})", p.archiver->Describe()) : "");
  p.keeper->Start();
  return Status::Ok();
}

Status BoatServer::RecoverSeq(uint64_t* next_seq) {
  *next_seq = 1;
  if (config_.journal_dir.empty()) return Status::Ok();
  auto r = journal::RecoverNextSeq(config_.journal_dir, config_.journal_prefix, env_.fs);
  if (!r.ok()) return r.status().WithContext("journal: recovering seq");
  for (const auto& skipped : r->skipped) log_->Warn("journal: seq recovery skipped {}", skipped);
  *next_seq = r->next_seq;
  auto lease = journal::ReadSeqLease(config_.journal_dir, env_.fs);
  if (!lease.ok()) return lease.status().WithContext("journal: recovering seq");
  if (lease->has_value() && **lease > *next_seq) {
    // The last run reserved seqs it may have served but never journaled (a
    // crash): they are skipped, never handed out again.
    log_->Info("journal: seq continues at {} (seq lease {}; the journals' last seq is {})", **lease,
               journal::SeqLeasePath(config_.journal_dir), *next_seq - 1);
    *next_seq = **lease;
  } else if (r->path.empty()) {
    log_->Info("journal: no journal with seqs in {}; seq starts at {}", config_.journal_dir, *next_seq);
  } else {
    log_->Info("journal: seq continues at {} (after block {} of {})", *next_seq, r->block, r->path);
  }
  journal::SeqLeaseOptions lo;
  lo.dir = config_.journal_dir;
  lo.fs = env_.fs;
  lo.log = log_;
  auto acquired = journal::SeqLease::Acquire(std::move(lo), *next_seq);
  if (!acquired.ok()) return acquired.status().WithContext("journal: reserving seqs");
  parts_->lease = std::move(*acquired);
  return Status::Ok();
}

Status BoatServer::StartBroker(uint64_t next_seq) {
  Parts& p = *parts_;
  LPLEX_ASSIGN_OR_RETURN(std::vector<sources::SourceSpec> specs, SourceSpecs(config_));
  broker::BrokerOptions b;
  b.initial_head = next_seq;
  b.buses = static_cast<uint8_t>(std::min<size_t>(specs.size(), 255));
  b.max_buffer_duration_us = Us(config_.max_buffer_duration);
  b.device_idle_timeout_us = Us(config_.device_idle_timeout);
  b.bus_silence_timeout_us = Us(config_.bus_silence_timeout);
  b.journal_dir = config_.journal_dir;
  b.fs = env_.fs;
  if (!config_.journal_dir.empty()) {
    // The owner thread hands every frame to the sink's queue; Offer never
    // waits for the disk. The sink exists before the first Ingest.
    b.journal_sink = [&p](const can::Frame& f) {
      // Before the broker assigns f.seq + 1 that seq is reserved on disk.
      if (p.lease) p.lease->Assigned(f.seq);
      if (p.sink) p.sink->Offer(f);
    };
  }
  b.clock = clock_;
  b.logger = log_;
  LPLEX_ASSIGN_OR_RETURN(p.broker, broker::Broker::Create(std::move(b)));
  p.first_seq = next_seq;
  return Status::Ok();
}

Status BoatServer::StartJournal() {
  if (config_.journal_dir.empty()) return Status::Ok();
  Parts& p = *parts_;
  journal::WriterOptions w;
  w.dir = config_.journal_dir;
  w.prefix = config_.journal_prefix;
  w.block_size = static_cast<uint32_t>(config_.journal_block_size);
  LPLEX_ASSIGN_OR_RETURN(w.compression, journal::ParseCompression(config_.journal_compression));
  w.rotate_duration_us = Us(config_.journal_rotate_duration);
  w.rotate_size = config_.journal_rotate_size;
  w.flush_interval_us = Us(config_.journal_flush_interval);
  w.on_open_change = p.open_files.Tracker();
  if (p.keeper) {
    w.on_rotate = [&p, id = config_.replication_instance_id](const journal::RotatedFile& f) {
      journal::RotatedFile named = f;
      named.instance_id = id;
      p.keeper->Send(std::move(named));
    };
  }
  w.fs = env_.fs;
  w.clock = clock_;
  LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalWriter> writer, journal::JournalWriter::Create(w));
  writer->SetPaused(p.pause_recording.load());
  p.writer.store(writer.get());
  journal::SinkOptions so;
  so.clock = clock_;
  so.log = log_;
  so.queue_bytes = 4 << 20;  // ~100,000 frames: a minute of a full bus while the disk stalls
  LPLEX_ASSIGN_OR_RETURN(p.sink, journal::JournalSink::Create(std::move(writer), so));
  p.runner = std::make_unique<journal::SinkRunner>();
  p.runner->Add(p.sink);
  p.runner->Start();
  log_->Info("journal: recording to {}/{}-*.lpj ({}, rotate {}{})", config_.journal_dir, config_.journal_prefix,
             config_.journal_compression,
             config_.journal_rotate_duration ? fmt::format("every {}s", config_.journal_rotate_duration->count())
                                             : std::string("never by time"),
             config_.journal_rotate_size ? fmt::format(" or at {} bytes", config_.journal_rotate_size) : "");
  return Status::Ok();
}

Status BoatServer::StartHttp() {
  Parts& p = *parts_;
  http::ServerOptions h;
  h.bind_address = env_.bind_address;
  h.port = static_cast<uint16_t>(config_.port);
  LPLEX_ASSIGN_OR_RETURN(h.api_key, config::ResolveApiKey(config_.api_key, config_.api_key_file));
  h.read_only = config_.read_only;
  h.send_enabled = config_.send_enabled;
  h.send_rules = config_.send_rules;
  h.max_buffer_duration_us = Us(config_.max_buffer_duration);
  h.journal_dir = config_.journal_dir;
  h.clock = clock_;
  h.log = log_;
  LPLEX_ASSIGN_OR_RETURN(p.http, http::Server::Create(std::move(h), p.broker));
  p.http->SetMetricsHook([this](std::string* out) { AppendMetrics(out); });
  p.http->SetHealthHook([this](http::HealthReport* report) { AppendHealth(report); });
  LPLEX_RETURN_IF_ERROR(p.http->Start());
  log_->Info("lplex-server: HTTP API at http://{}:{}/", env_.bind_address, p.http->port());
  return Status::Ok();
}

// §3.2 step 8: after the sources, so the first handshake reports a head
// that is moving. Without -replication-tls-cert the transport is plaintext
// (the reference's rule); -replication-tls-ca adds a trusted root (P7).
Status BoatServer::StartReplication() {
  if (config_.replication_target.empty()) return Status::Ok();
  if (config_.journal_dir.empty()) {
    // Without a journal the seq restarts at 1 on every start (spec/cloud.md
    // P2): the cloud, which keys everything on seqs, cannot tell the new
    // frames from the ones it holds under the same seqs, and nothing can be
    // backfilled either.
    log_->Warn(
        "replication without -journal-dir: this boat's seqs restart at 1 on every start, so after a restart the "
        "cloud holds different frames under the same seqs, and holes cannot be backfilled; give -journal-dir");
  }
  Parts& p = *parts_;
  replication::ReplicationClientOptions o;
  o.target = config_.replication_target;
  o.instance_id = config_.replication_instance_id;
  o.insecure = config_.replication_tls_cert.empty();
  o.tls_ca_file = config_.replication_tls_ca;
  o.tls_cert_file = config_.replication_tls_cert;
  o.tls_key_file = config_.replication_tls_key;
  o.broker = p.broker;
  o.journal_dir = config_.journal_dir;
  o.journal_prefix = config_.journal_prefix;
  o.clock = clock_;
  o.logger = log_;
  o.fs = env_.fs;
  auto client = replication::ReplicationClient::Create(std::move(o));
  if (!client.ok()) {
    // The client's errors already start with "replication: ".
    const Status& e = client.status();
    return e.message().rfind("replication:", 0) == 0 ? e : e.WithContext("replication");
  }
  p.replication = std::move(client).value();
  p.replication->Start();
  p.http->SetReplicationStatusHook([this] { return ReplicationStatusJson(); });
  log_->Info("replication: to {} as instance {} ({})", config_.replication_target, config_.replication_instance_id,
             config_.replication_tls_cert.empty() ? "plaintext: no -replication-tls-cert" : "mTLS");
  return Status::Ok();
}

// GET /replication/status (spec/cloud.md §3.4, keys in the reference's
// order, then HEAD's counters): holes as {"Start","End"} and left out when
// none; last_ack as RFC 3339, the zero time when never acked.
std::string BoatServer::ReplicationStatusJson() const {
  const replication::ReplicationStatus r = parts_->replication->Status();
  std::string out = fmt::format(R"({{"connected":{},"instance_id":"{}","local_head_seq":{},"cloud_cursor":{})",
                                r.connected ? "true" : "false", r.instance_id, r.local_head_seq, r.cloud_cursor);
  if (!r.holes.empty()) {
    out += ",\"holes\":[";
    for (size_t i = 0; i < r.holes.size(); ++i) {
      out += fmt::format(R"({}{{"Start":{},"End":{}}})", i ? "," : "", r.holes[i].start, r.holes[i].end);
    }
    out += "]";
  }
  out += fmt::format(R"(,"live_lag":{},"backfill_remaining_seqs":{},"last_ack":")", r.live_lag,
                     r.backfill_remaining_seqs);
  out += r.last_ack_us == 0 ? "0001-01-01T00:00:00Z" : timefmt::Rfc3339Nano(r.last_ack_us);
  out += fmt::format(
      R"(","live_frames_sent":{},"backfill_blocks_sent":{},"backfill_bytes_sent":{},"reconnects":{}}})",
      r.live_frames_sent, r.backfill_blocks_sent, r.backfill_bytes_sent, r.reconnects);
  out += "\n";
  return out;
}

Status BoatServer::StartSources() {
  Parts& p = *parts_;
  LPLEX_ASSIGN_OR_RETURN(std::vector<sources::SourceSpec> specs, SourceSpecs(config_));
  sources::SourceEnv se;
  se.clock = clock_;
  se.fs = env_.fs;
  se.replay_speed = config_.replay_speed;
  BrokerLoopOptions lo;
  for (const auto& spec : specs) {
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<sources::FrameSource> src, sources::MakeSource(spec, se));
    p.sources.push_back(std::move(src));
    // A recording can wait for us; a bus cannot.
    lo.lossless.push_back(spec.kind == sources::SourceKind::kReplay);
  }
  if (p.sink) {
    lo.backlog_full = [&p] {
      const journal::SinkMetrics m = p.sink->metrics();
      return m.queue_bytes * 4 > m.queue_capacity_bytes * 3;
    };
  }
  if (env_.notifier != nullptr) lo.heartbeat = [n = env_.notifier] { n->MaybePingWatchdog(); };
  lo.clock = clock_;
  lo.log = log_;
  std::vector<sources::FrameSource*> raw;
  for (auto& s : p.sources) raw.push_back(s.get());
  p.loop = std::make_unique<BrokerLoop>(p.broker, raw, std::move(lo));
  p.live_loop.store(p.loop.get());
  for (size_t i = 0; i < p.sources.size(); ++i) {
    sources::FrameSource* src = p.sources[i].get();
    Status s = src->Start(p.loop->SinkFor(i), [this, src](const Status& end) {
      if (end.ok()) {
        log_->Info("source {}: ended (frames delivered: {}); still serving", src->uri(), src->frames_delivered());
        return;
      }
      log_->Error("source {}: failed: {}", src->uri(), end.ToString());
      if (env_.on_fatal && !parts_->fatal_reported.exchange(true)) {
        env_.on_fatal(InSource(end, src->uri()));
      }
    });
    if (!s.ok()) return InSource(s, src->uri());
    log_->Info("source {}: started on bus {}", src->uri(), src->bus());
  }
  // After the sources: the startup 60928 request reaches running writers.
  p.loop->Start();
  return Status::Ok();
}

void BoatServer::Stop() {
  if (stopped_ || !started_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  Parts& p = *parts_;
  if (env_.notifier != nullptr) env_.notifier->Stopping("shutting down");
  ShutdownSteps steps(log_);
  if (p.replication) {
    steps.Step("stopped replication", [&] {
      p.replication->Stop();
      const replication::ReplicationStatus r = p.replication->Status();
      return fmt::format("cloud cursor {}, local head {}", r.cloud_cursor, r.local_head_seq);
    });
  }
  steps.Step("stopped HTTP", [&] {
    if (!p.http) return std::string();
    p.http->SetReady(false);
    p.http->Stop(std::chrono::seconds(2));
    return std::string();
  });
  steps.Step("stopped sources", [&] {
    for (auto& s : p.sources) s->Stop();
    return fmt::format("{} source(s)", p.sources.size());
  });
  steps.Step("drained the broker", [&] {
    uint64_t drained = p.loop ? p.loop->DrainAndStop() : 0;
    if (p.broker) p.broker->Shutdown();
    std::string lease;
    if (p.lease) {
      // Clean stop: the exact next seq, so the next run has no gap.
      const uint64_t next = p.broker ? p.broker->Stats().head_seq : p.first_seq;
      const Status s = p.lease->Release(next);
      lease = s.ok() ? fmt::format(", next seq {} stored", next) : ", " + s.ToString();
      if (!s.ok()) log_->Error("journal: {}", s.ToString());
    }
    return fmt::format("{} queued frame(s) ingested, last seq {}{}", drained,
                       p.broker ? p.broker->CurrentSeq() : 0, lease);
  });
  steps.Step("finalized the journal", [&] {
    if (!p.sink) return std::string("no journal");
    if (p.runner) p.runner->Stop();
    const journal::SinkCloseReport r = p.sink->Close();
    const journal::SinkMetrics m = p.sink->metrics();
    // Frames on disk, not frames handed to the writer: a disk that refuses
    // every block must not look like a working journal.
    std::string out = fmt::format(
        "{} frame(s) on disk this run ({} drained at close), {} file(s), {} frame(s) dropped, {} lost to {} write "
        "error(s)",
        m.frames_on_disk, r.frames_drained, m.files_finished, m.frames_dropped + m.frames_abandoned, m.frames_lost,
        m.write_errors);
    if (!r.status.ok()) out += ", error: " + r.status.ToString();
    p.writer.store(nullptr);
    return out;
  });
  steps.Step("keeper drained", [&] {
    if (!p.keeper) return std::string("no keeper");
    p.keeper->Stop();
    const keeper::KeeperStats& ks = p.keeper->stats();
    return fmt::format("{} archived, {} failed, {} still pending (swept at next start)", ks.archived,
                       ks.archive_failures, p.keeper->pending_count());
  });
  steps.Done();
}

void BoatServer::CancelArchiving() { parts_->cancel_archiving.store(true); }

uint16_t BoatServer::http_port() const { return parts_->http ? parts_->http->port() : 0; }

std::shared_ptr<broker::Broker> BoatServer::broker() const { return parts_->broker; }

BoatServerStatus BoatServer::status() const {
  const Parts& p = *parts_;
  BoatServerStatus s;
  s.first_seq = p.first_seq;
  if (p.broker) {
    const broker::BrokerStats b = p.broker->Stats();
    s.frames_total = b.frames_total;
    s.head_seq = b.head_seq;
    s.devices = b.device_count;
  }
  // Streams, not broker handles: a session stream holds a consumer and a
  // wake-up subscriber, and /query holds a subscriber too.
  if (p.http) s.clients = p.http->open_streams();
  if (p.sink) {
    const journal::SinkMetrics m = p.sink->metrics();
    s.files_written = m.files_finished;
    s.journal_dropped = m.frames_dropped;
  }
  if (p.archiver) s.files_archived = p.archiver->archived();
  if (const BrokerLoop* loop = p.live_loop.load()) s.source_dropped = loop->stats().frames_dropped;
  return s;
}

void BoatServer::AppendMetrics(std::string* out) const {
  const Parts& p = *parts_;
  auto counter = [out](const char* name, const char* help, uint64_t v) {
    AppendPrometheusMetric(out, name, "counter", help, v);
  };
  auto gauge = [out](const char* name, const char* help, uint64_t v) {
    AppendPrometheusMetric(out, name, "gauge", help, v);
  };
  if (const BrokerLoop* loop = p.live_loop.load()) {
    const BrokerLoopStats l = loop->stats();
    counter("lplex_source_frames_dropped_total", "Frames lost because a live source's queue was full.",
            l.frames_dropped);
    counter("lplex_tx_frames_sent_total", "Frames put on a bus (discovery requests, /send).", l.tx_sent);
    counter("lplex_tx_frames_failed_total", "Frames a bus writer refused.", l.tx_failed);
  }
  if (p.sink) {
    const journal::SinkMetrics m = p.sink->metrics();
    counter("lplex_journal_frames_written_total", "Frames in journal blocks written to disk.", m.frames_on_disk);
    counter("lplex_journal_frames_dropped_total", "Frames the journal queue could not take (full).",
            m.frames_dropped);
    counter("lplex_journal_frames_paused_total", "Frames discarded while recording was paused.", m.frames_paused);
    counter("lplex_journal_frames_lost_total", "Frames lost to journal write errors.", m.frames_lost);
    counter("lplex_journal_write_errors_total", "Failed journal disk writes.", m.write_errors);
    counter("lplex_journal_files_finished_total", "Journal files finished this run.", m.files_finished);
    counter("lplex_journal_bytes_written_total", "Journal bytes written this run.", m.bytes_written);
    gauge("lplex_journal_queue_frames", "Frames waiting for the journal writer.", m.queue_depth);
  }
  if (p.archiver) {
    counter("lplex_archive_files_total", "Journal files archived this run.", p.archiver->archived());
    counter("lplex_archive_failures_total", "Failed archive attempts this run.", p.archiver->failed());
  }
  if (p.replication) {
    const replication::ReplicationStatus r = p.replication->Status();
    gauge("lplex_replication_connected", "1 while a replication session with the cloud is running.",
          r.connected ? 1 : 0);
    gauge("lplex_replication_live_lag_seqs", "Seqs the cloud has not acknowledged yet (0 when ahead).", r.live_lag);
    gauge("lplex_replication_backfill_remaining_seqs", "Seqs in the holes the cloud reported.",
          r.backfill_remaining_seqs);
    AppendPrometheusMetric(out, "lplex_replication_last_ack_timestamp_seconds", "gauge",
                           "Unix time of the cloud's latest acknowledgement (0 = never).",
                           fmt::format("{:.3f}", static_cast<double>(r.last_ack_us) / 1e6));
    counter("lplex_replication_live_frames_sent_total", "Live frames sent to the cloud.", r.live_frames_sent);
    counter("lplex_replication_backfill_blocks_sent_total", "Journal blocks sent to fill holes.",
            r.backfill_blocks_sent);
    counter("lplex_replication_backfill_bytes_sent_total", "Bytes of journal blocks sent to fill holes.",
            r.backfill_bytes_sent);
    counter("lplex_replication_reconnects_total", "Replication sessions started after the first.", r.reconnects);
  }
  if (p.keeper) {
    counter("lplex_keeper_dropped_notifications_total", "Rotation notices that found the keeper queue full (their directory swept at once).",
            p.keeper->dropped_notifications());
  }
}

void BoatServer::AppendHealth(http::HealthReport* report) const {
  const Parts& p = *parts_;
  if (p.sink) {
    const Status e = p.sink->last_error();
    http::HealthComponent c;
    c.name = "journal";
    if (!e.ok()) {
      c.status = "error";
      c.message = e.ToString();
      c.degraded = true;
    } else if (p.pause_recording.load()) {
      c.status = "paused";
      c.message = "retention overflow-policy pause-recording";
      c.degraded = true;
    } else {
      c.status = "ok";
    }
    report->components.push_back(std::move(c));
  }
  if (p.replication) {
    const replication::ReplicationStatus r = p.replication->Status();
    http::HealthComponent c;
    c.name = "replication";
    c.status = r.connected ? "ok" : "disconnected";
    if (!r.connected && !r.last_error.empty()) c.message = r.last_error;
    c.degraded = !r.connected;
    report->components.push_back(std::move(c));
  }
  const BrokerLoop* loop = p.live_loop.load();
  if (config_.bus_silence_threshold && loop != nullptr) {
    http::HealthComponent c;
    c.name = "bus";
    const int64_t last = loop->last_ingest_mono_us();
    const int64_t limit = Us(config_.bus_silence_threshold);
    const int64_t since = last == 0 ? -1 : clock_->MonotonicMicros() - last;
    if (since < 0 || since > limit) {
      c.status = "silent";
      c.message = since < 0 ? "no frame yet" : fmt::format("no frame for {} s", since / 1'000'000);
      c.degraded = true;
    } else {
      c.status = "ok";
    }
    report->components.push_back(std::move(c));
  }
}

}  // namespace lplex::server
