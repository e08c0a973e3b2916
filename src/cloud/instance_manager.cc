#include "cloud/instance_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "broker/broker.h"
#include "journal/journal_sink.h"
#include "replication/replica_progress.h"

namespace lplex::cloud {

namespace {

Status ShutDownError(std::string_view id) {
  return Status::Unsupported(
      fmt::format("instance \"{}\": the instance manager is shut down; no instance can be started", id));
}

}  // namespace

// ---------------------------------------------------------------------------
// Instance

Instance::Instance(InstanceManager* owner, std::string id, std::string dir, replication::InstanceState state,
                   Status load_error)
    : owner_(owner),
      id_(std::move(id)),
      dir_(std::move(dir)),
      load_error_(std::move(load_error)),
      state_(std::move(state)) {}

Instance::~Instance() = default;

Status Instance::StartLocked() {
  if (broker_ != nullptr) return Status::Ok();
  if (!load_error_.ok()) return load_error_;
  LPLEX_ASSIGN_OR_RETURN(InstanceJournalOptions jo, owner_->ActivateLocked(*this));
  Status s = [&]() -> Status {
    if (log_ == nullptr) log_ = WithInstance(owner_->log_, id_);
    jo.log = log_.get();
    jo.on_block_written = [this](uint64_t base_seq, uint64_t n) { NoteWritten(base_seq, n); };
    LPLEX_ASSIGN_OR_RETURN(journal_, InstanceJournal::Create(std::move(jo)));
    journal_->SetPaused(paused_);

    broker::BrokerOptions b;
    b.ring_capacity = owner_->opt_.ring_capacity;
    b.replica = true;
    // The next seq the boat owes (spec/cloud.md §2.2: max(cursor + 1, 1)).
    const uint64_t cursor = state_.cursor;
    b.initial_head = cursor == std::numeric_limits<uint64_t>::max() ? cursor : cursor + 1;
    b.device_idle_timeout_us = owner_->opt_.device_idle_timeout_us;
    b.journal_dir = dir_ + "/journal";
    b.fs = owner_->fs_;
    b.clock = owner_->clock_;
    b.logger = log_.get();
    // Called inside Broker::Ingest, which only Ingest below calls, under mu_.
    InstanceJournal* journal = journal_.get();
    b.journal_sink = [this, journal](const can::Frame& f) { last_offer_ok_ = journal->Offer(f); };
    LPLEX_ASSIGN_OR_RETURN(broker_, broker::Broker::Create(std::move(b)));
    return Status::Ok();
  }();
  if (!s.ok()) {
    journal_.reset();
    broker_.reset();
    owner_->MarkInactive(this);
    return s.WithContext(fmt::format("instance \"{}\": starting its broker and journal", id_));
  }
  last_active_mono_us_ = owner_->clock_->MonotonicMicros();
  touched_.store(true, std::memory_order_relaxed);
  return Status::Ok();
}

Status Instance::StopLocked() {
  if (broker_ == nullptr) return Status::Ok();
  // Streams reading the broker end; nobody ingests into it any more.
  broker_->Shutdown();
  // The open file is finished and on_rotate has fired when Close returns
  // (the reference's stopBroker returned before that until 0cc2cea).
  Status s = journal_->Close();
  const InstanceJournalMetrics m = journal_->metrics();
  past_journal_.snapshot_frames_skipped += m.snapshot_frames_skipped;
  past_journal_.frames_queued += m.frames_queued;
  past_journal_.frames_dropped += m.frames_dropped;
  past_journal_.frames_refused += m.frames_refused;
  past_journal_.frames_on_disk += m.frames_on_disk;
  past_journal_.files_finished += m.files_finished;
  journal_.reset();
  broker_.reset();
  owner_->MarkInactive(this);
  if (dirty_) {
    Status saved = SaveLocked();
    if (s.ok()) s = saved;
  }
  return s;
}

Status Instance::SaveLocked() {
  if (!load_error_.ok()) return load_error_;
  LPLEX_RETURN_IF_ERROR(replication::SaveInstanceState(dir_, state_, owner_->fs_));
  dirty_ = false;
  return Status::Ok();
}

Status Instance::WriteOutJournal() {
  std::shared_ptr<journal::JournalSink> sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (journal_ != nullptr) sink = journal_->sink();
  }
  // Not under mu_: a disk write stuck in this instance's file must not hold
  // the lock Tick takes for every instance in turn. A Close meanwhile makes
  // this a no-op (it writes everything out itself).
  return sink == nullptr ? Status::Ok() : sink->WriteOut();
}

void Instance::NoteWritten(uint64_t base_seq, uint64_t frame_count) {
  // Seq 0 blocks cannot come from a replica journal (seq-0 frames are not
  // journaled); an empty block names no seq.
  if (base_seq == 0 || frame_count == 0 || base_seq > std::numeric_limits<uint64_t>::max() - frame_count) return;
  const replication::SeqRange run{base_seq, base_seq + frame_count};
  std::lock_guard<std::mutex> lock(written_mu_);
  if (!written_.empty() && written_.back().end == run.start) {
    written_.back().end = run.end;
    return;
  }
  if (written_.size() >= kMaxWrittenRuns) written_.erase(written_.begin());
  written_.push_back(run);
}

std::vector<replication::SeqRange> Instance::TakeWrittenSeqs() {
  std::vector<replication::SeqRange> runs;
  std::lock_guard<std::mutex> lock(written_mu_);
  runs.swap(written_);
  return runs;
}

Result<bool> Instance::Ingest(const can::Frame& frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broker_ == nullptr) LPLEX_RETURN_IF_ERROR(StartLocked());
  touched_.store(true, std::memory_order_relaxed);
  last_offer_ok_ = true;
  broker_->Ingest(frame);
  return last_offer_ok_;
}

std::shared_ptr<broker::Broker> Instance::broker() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broker_;
}

bool Instance::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broker_ != nullptr;
}

replication::InstanceState Instance::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void Instance::UpdateState(const std::function<void(replication::InstanceState&)>& update) {
  std::lock_guard<std::mutex> lock(mu_);
  update(state_);
  state_.id = id_;  // the directory's name; a state must never claim another id
  dirty_ = true;
}

Status Instance::SaveState() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!load_error_.ok()) return load_error_;
  if (!dirty_) return Status::Ok();
  return SaveLocked();
}

InstanceJournalMetrics Instance::journal_metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  InstanceJournalMetrics m = past_journal_;
  if (journal_ != nullptr) {
    const InstanceJournalMetrics now = journal_->metrics();
    m.snapshot_frames_skipped += now.snapshot_frames_skipped;
    m.frames_queued += now.frames_queued;
    m.frames_dropped += now.frames_dropped;
    m.frames_refused += now.frames_refused;
    m.frames_on_disk += now.frames_on_disk;
    m.files_finished += now.files_finished;
    m.active = now.active;
  }
  return m;
}

// ---------------------------------------------------------------------------
// InstanceManager

Result<std::unique_ptr<InstanceManager>> InstanceManager::Open(InstanceManagerOptions options) {
  if (options.data_dir.empty()) return Status::InvalidArgument("data-dir is empty; give the cloud's data directory");
  if (options.idle_timeout_us <= 0) {
    return Status::InvalidArgument(fmt::format(
        "instance idle timeout {} us out of range (valid: > 0; default 300000000, 5 minutes)", options.idle_timeout_us));
  }
  if (options.journal_threads == 0) {
    return Status::InvalidArgument("journal threads 0 out of range (valid: at least 1; default 2)");
  }
  LPLEX_RETURN_IF_ERROR(CheckJournalSettings(options.journal));
  std::unique_ptr<InstanceManager> m(new InstanceManager(std::move(options)));
  LPLEX_RETURN_IF_ERROR(m->Load());
  // One runner, a pool of threads: a sink whose disk write hangs holds one
  // thread while the others serve every other instance.
  journal::SinkRunnerOptions ro;
  ro.threads = m->opt_.journal_threads;
  m->runner_ = std::make_unique<journal::SinkRunner>(ro);
  if (m->opt_.start_journal_threads) m->runner_->Start();
  return m;
}

InstanceManager::InstanceManager(InstanceManagerOptions options)
    : opt_(std::move(options)),
      fs_(opt_.fs ? opt_.fs : FileSystem::Default()),
      clock_(opt_.clock ? opt_.clock : Clock::Real()),
      log_(opt_.log ? opt_.log : Logger::Default()),
      instances_dir_(opt_.data_dir + "/instances") {}

InstanceManager::~InstanceManager() { (void)Shutdown(); }

Status InstanceManager::Load() {
  LPLEX_RETURN_IF_ERROR(fs_->CreateDirs(instances_dir_));
  LPLEX_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs_->ListDir(instances_dir_));
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  size_t damaged = 0;
  for (const DirEntry& e : entries) {
    const std::string path = instances_dir_ + "/" + e.name;
    if (!e.is_dir) {
      log_->Warn("instances: skipping {}: not a directory (an instance is a directory named after its id)", path);
      continue;
    }
    Result<std::string> dir = replication::InstanceDirFor(opt_.data_dir, e.name);
    if (!dir.ok()) {
      log_->Warn("instances: skipping {}: {}", path, dir.status().message());
      continue;
    }
    Result<replication::InstanceState> state = replication::LoadInstanceState(*dir, e.name, fs_);
    Status load_error;
    replication::InstanceState s;
    if (state.ok()) {
      s = std::move(*state);
    } else {
      load_error = state.status();
      s.id = e.name;
      ++damaged;
      log_->Error("instances: {} is out of service: {}", e.name, load_error.ToString());
    }
    auto instance = std::shared_ptr<Instance>(new Instance(this, e.name, std::move(*dir), std::move(s), load_error));
    instances_.emplace(e.name, std::move(instance));
  }
  log_->Info("instances: {} registered in {}{}", instances_.size(), instances_dir_,
             damaged ? fmt::format(" ({} out of service: damaged state.json)", damaged) : std::string());
  return Status::Ok();
}

std::shared_ptr<Instance> InstanceManager::Get(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Instance>> InstanceManager::Register(std::string_view id) {
  if (std::shared_ptr<Instance> known = Get(id)) {
    if (!known->load_error().ok()) return known->load_error();
    return known;
  }
  LPLEX_ASSIGN_OR_RETURN(std::string dir, replication::InstanceDirFor(opt_.data_dir, id));
  LPLEX_RETURN_IF_ERROR(fs_->CreateDirs(dir));
  std::unique_lock lock(mu_);
  auto it = instances_.find(id);
  if (it == instances_.end()) {
    replication::InstanceState s;
    s.id = std::string(id);
    auto instance = std::shared_ptr<Instance>(new Instance(this, std::string(id), std::move(dir), std::move(s), {}));
    it = instances_.emplace(std::string(id), std::move(instance)).first;
    log_->Info("instances: {} registered", id);
  }
  return it->second;
}

Result<std::shared_ptr<Instance>> InstanceManager::Ensure(std::string_view id) {
  std::shared_ptr<Instance> instance = Get(id);
  if (instance == nullptr) {
    return Status::NotFound(fmt::format("instance \"{}\" is not registered (no {}/{})", id, instances_dir_, id));
  }
  std::lock_guard<std::mutex> lock(instance->mu_);
  LPLEX_RETURN_IF_ERROR(instance->StartLocked());
  instance->touched_.store(true, std::memory_order_relaxed);
  return instance;
}

Result<InstanceJournalOptions> InstanceManager::ActivateLocked(Instance& instance) {
  std::unique_lock lock(mu_);
  if (shut_down_) return ShutDownError(instance.id_);
  InstanceJournalOptions o;
  o.instance_id = instance.id_;
  o.dir = instance.dir_ + "/journal";
  o.settings = opt_.journal;
  o.runner = runner_.get();
  o.on_rotate = opt_.on_rotate;
  o.on_open_change = opt_.on_open_change;
  o.fs = fs_;
  o.clock = clock_;
  active_.push_back(instance.shared_from_this());
  return o;
}

void InstanceManager::MarkInactive(Instance* instance) {
  std::unique_lock lock(mu_);
  std::erase_if(active_, [&](const std::shared_ptr<Instance>& a) { return a.get() == instance; });
}

std::vector<InstanceSummary> InstanceManager::List() const {
  std::vector<std::shared_ptr<Instance>> all;
  {
    std::shared_lock lock(mu_);
    all.reserve(instances_.size());
    for (const auto& [id, instance] : instances_) all.push_back(instance);
  }
  std::vector<InstanceSummary> out;
  out.reserve(all.size());
  for (const auto& instance : all) {
    InstanceSummary s;
    s.id = instance->id_;
    std::lock_guard<std::mutex> lock(instance->mu_);
    s.active = instance->broker_ != nullptr;
    s.cursor = instance->state_.cursor;
    s.boat_head_seq = instance->state_.boat_head_seq;
    s.lag_seqs = replication::LagSeqs(s.boat_head_seq, s.cursor);
    s.holes = instance->state_.holes.size();
    s.last_seen_us = instance->state_.last_seen_us;
    if (!instance->load_error_.ok()) s.damaged = instance->load_error_.ToString();
    out.push_back(std::move(s));
  }
  return out;
}

size_t InstanceManager::size() const {
  std::shared_lock lock(mu_);
  return instances_.size();
}

size_t InstanceManager::active_count() const {
  std::shared_lock lock(mu_);
  return active_.size();
}

Status InstanceManager::SetJournalRotation(int64_t rotate_duration_us, uint64_t rotate_size) {
  if (rotate_duration_us < 0) {
    return Status::InvalidArgument(fmt::format(
        "journal rotate duration {} us out of range (valid: 0 for no time rotation, or positive)", rotate_duration_us));
  }
  std::vector<std::shared_ptr<Instance>> active;
  {
    std::unique_lock lock(mu_);
    opt_.journal.rotate_duration_us = rotate_duration_us;
    opt_.journal.rotate_size = rotate_size;
    active = active_;
  }
  // Instances started from here on read the new settings above.
  for (const auto& instance : active) {
    std::lock_guard<std::mutex> lock(instance->mu_);
    if (instance->journal_ != nullptr) instance->journal_->SetRotation(rotate_duration_us, rotate_size);
  }
  return Status::Ok();
}

void InstanceManager::SetInstancePaused(std::string_view id, bool paused) {
  std::shared_ptr<Instance> instance = Get(id);
  if (instance == nullptr) return;
  std::lock_guard<std::mutex> lock(instance->mu_);
  instance->paused_ = paused;
  if (instance->journal_ != nullptr) instance->journal_->SetPaused(paused);
}

void InstanceManager::Tick() { Tick(clock_->MonotonicMicros()); }

void InstanceManager::Tick(int64_t now_mono_us) {
  std::vector<std::shared_ptr<Instance>> active;
  {
    std::shared_lock lock(mu_);
    active = active_;
  }
  for (const auto& instance : active) {
    std::lock_guard<std::mutex> lock(instance->mu_);
    if (instance->broker_ == nullptr) continue;
    // A client still reading the broker (an SSE or session stream holds a
    // reference) is activity too: stopping would cut its stream.
    const bool read = instance->broker_.use_count() > 1;
    if (instance->touched_.exchange(false, std::memory_order_relaxed) || read) {
      instance->last_active_mono_us_ = now_mono_us;
    }
    if (now_mono_us - instance->last_active_mono_us_ >= opt_.idle_timeout_us) {
      Status s = instance->StopLocked();
      if (s.ok()) {
        instance->log_->Info("instances: stopped after {} s without frames; journal finalized",
                             opt_.idle_timeout_us / 1'000'000);
      } else {
        instance->log_->Error("instances: stopping after {} s without frames: {}", opt_.idle_timeout_us / 1'000'000,
                              s.ToString());
      }
      continue;
    }
    instance->broker_->Tick(now_mono_us);
  }
}

void InstanceManager::RunJournalOnce() {
  runner_->RunOnce();
}

Status InstanceManager::Shutdown() {
  std::vector<std::shared_ptr<Instance>> all;
  {
    std::unique_lock lock(mu_);
    if (shut_down_) return Status::Ok();
    shut_down_ = true;
    for (const auto& [id, instance] : instances_) all.push_back(instance);
  }
  Status first;
  for (const auto& instance : all) {
    std::lock_guard<std::mutex> lock(instance->mu_);
    Status s = instance->broker_ != nullptr ? instance->StopLocked()
               : instance->dirty_           ? instance->SaveLocked()
                                            : Status::Ok();
    if (!s.ok()) {
      log_->Error("instances: shutting down {}: {}", instance->id_, s.ToString());
      if (first.ok()) first = s;
    }
  }
  // Every journal is closed (on its stopping thread); the runners only
  // held closed sinks now.
  runner_->Stop();
  return first;
}

}  // namespace lplex::cloud
