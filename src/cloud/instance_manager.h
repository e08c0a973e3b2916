// InstanceManager: every boat (instance) a cloud knows, and the broker and
// journal of the ones that are streaming (spec/cloud.md §2.1–§2.4, with the
// lifecycle fixes of §6.2 P9). docs/cloud.md describes the lifecycle.
//
// Registered vs active. Every directory {data-dir}/instances/{id} whose name
// is a valid instance id is a registered instance; its state.json is read
// once, at Open. A registered instance costs its persisted state and a
// lock — no thread, no ring, no block buffer, no queue, no open file — so a
// cloud can know 10,000 boats. An instance becomes active when a live stream
// needs it (Ensure, or Ingest): it gets a replica broker (ring allocated by
// its first frame) and an InstanceJournal (writer allocated by its first
// journaled frame), served by a SinkRunner shared with other instances. An
// instance that had no frame, no Ensure and no client holding its broker
// (an SSE or session stream) for idle_timeout is stopped by Tick: its journal is finalized (the open file finished, on_rotate — the
// keeper — told) before its broker and journal are dropped, and its state is
// saved if it changed. Reading an instance (Get, List, Instance::broker)
// never starts anything.
//
// Locks: the manager's lock guards the registry and the list of active
// instances; each Instance has its own lock, which serializes its owner side
// (Ingest, Tick's timers and stop, Shutdown). Instance locks are taken
// before the manager's, never the other way round.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "can/frame.h"
#include "cloud/instance_journal.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"
#include "journal/rotated_file.h"
#include "replication/hole_tracker.h"
#include "replication/instance_state.h"

namespace lplex::broker {
class Broker;
}  // namespace lplex::broker

namespace lplex::cloud {

struct InstanceManagerOptions {
  std::string data_dir;  // instances live in {data_dir}/instances/{id}
  JournalSettings journal;
  // The replica broker of an active instance (spec/cloud.md §2.2).
  size_t ring_capacity = 8192;  // the cloud's -ring-size default
  int64_t device_idle_timeout_us = 5 * 60 * 1'000'000LL;
  // An active instance with no frame and no Ensure for this long is stopped
  // by Tick (P9: the reference never stops a broker). Must be positive.
  int64_t idle_timeout_us = 5 * 60 * 1'000'000LL;
  // Threads of the one SinkRunner every active instance's journal shares
  // (at least 1); a sink stuck in a slow disk write holds only one of them.
  size_t journal_threads = 2;
  // False: no runner thread is started; the owner (a test) calls
  // RunJournalOnce() to write queued frames.
  bool start_journal_threads = true;
  // The keeper's hook: every finished live file, instance_id filled in. Runs
  // on a runner thread or the thread that stops the instance (Tick,
  // Shutdown) with that instance's lock held: it must not call back into the
  // manager (Keeper::Send only queues).
  std::function<void(const journal::RotatedFile&)> on_rotate;
  std::function<void(const std::string& path, bool open)> on_open_change;
  FileSystem* fs = nullptr;  // null = FileSystem::Default()
  Clock* clock = nullptr;    // null = Clock::Real(); Tick() reads its monotonic time
  Logger* log = nullptr;     // null = Logger::Default()
};

// One row of List() (the cloud's /instances).
struct InstanceSummary {
  std::string id;
  bool active = false;  // a broker and journal exist
  uint64_t cursor = 0;
  uint64_t boat_head_seq = 0;
  uint64_t lag_seqs = 0;  // replication::LagSeqs: 0 when the cursor is ahead
  size_t holes = 0;
  std::optional<int64_t> last_seen_us;
  // Why the instance is out of service (its state.json was refused), or "".
  std::string damaged;
};

class InstanceManager;

// One registered instance. Handed out as shared_ptr; a handle must not be
// used after its manager is destroyed.
class Instance : public std::enable_shared_from_this<Instance> {
 public:
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance();

  // Any thread, no lock.
  const std::string& id() const { return id_; }

  // Owner side: one live stream at a time feeds an instance (callers
  // serialize; the instance lock also serializes it with Tick and Shutdown).
  // Passes a replica frame (its own seq) to the broker — registry, ring,
  // subscribers — and to the journal, starting both first if the instance
  // is idle (stopped by Tick, or never started). Returns whether the journal
  // took the frame: true for a seq-0 snapshot frame (nothing to keep) and
  // for a frame it queued; false for one it dropped (full queue, recording
  // paused by the keeper). A queued frame is not yet durable: it counts
  // only once TakeWrittenSeqs lists it. Errors: the
  // instance is damaged (its load error), the manager is shut down
  // (Unsupported), the broker could not be created.
  Result<bool> Ingest(const can::Frame& frame);

  // Any thread. The broker, or null while idle. Never starts one (P9:
  // reading an instance must not make it active).
  std::shared_ptr<broker::Broker> broker() const;
  // Any thread.
  bool active() const;
  // Any thread. A copy of the persisted state.
  replication::InstanceState state() const;
  // Any thread. Writes what the journal has queued and its open block to
  // the file now (InstanceJournal::WriteOut). Afterwards every frame Ingest
  // queued before the call is listed by TakeWrittenSeqs — or was lost and
  // never will be. The replication server calls it before it tells a boat
  // what the cloud holds (handshake, end of a live stream). OK while idle.
  Status WriteOutJournal();
  // Any thread. The seq runs the live journal wrote into its files since
  // the last call, in the order written, adjacent runs merged. A seq that
  // Ingest queued but that never appears here did not reach a file
  // (dropped, paused, refused, lost to a disk error, abandoned at close):
  // the replication server leaves it a hole. At most kMaxWrittenRuns are
  // kept between calls (the oldest go first; their seqs then become holes
  // and are fetched again by backfill: held twice, never lost).
  std::vector<replication::SeqRange> TakeWrittenSeqs();
  static constexpr size_t kMaxWrittenRuns = 4096;

  // Any thread. Changes the persisted state under the instance lock; it is
  // saved by SaveState, when Tick stops the instance, and at Shutdown.
  // `update` must not call back into this instance or the manager.
  void UpdateState(const std::function<void(replication::InstanceState&)>& update);
  // Any thread. Writes state.json now (replication::SaveInstanceState) if
  // it changed since it was loaded or last saved. Refused for a damaged
  // instance (its file is never written over).
  Status SaveState();
  // Any thread. The instance's journal counters (zeros while never active).
  InstanceJournalMetrics journal_metrics() const;
  // Any thread. OK, or why this instance is out of service.
  const Status& load_error() const { return load_error_; }

 private:
  friend class InstanceManager;
  Instance(InstanceManager* owner, std::string id, std::string dir, replication::InstanceState state,
           Status load_error);

  // mu_ held. Creates the journal and broker unless they exist.
  Status StartLocked();
  // mu_ held. Finalizes the journal (on_rotate fires), shuts the broker
  // down, drops both, saves the state if it changed.
  Status StopLocked();
  Status SaveLocked();

  // Journal thread (on_block_written): appends [base_seq, base_seq + n).
  void NoteWritten(uint64_t base_seq, uint64_t frame_count);

  InstanceManager* const owner_;
  const std::string id_;
  const std::string dir_;
  const Status load_error_;

  // Declared before journal_: a journal closing in the destructor still
  // reports its last block here.
  std::mutex written_mu_;
  std::vector<replication::SeqRange> written_;  // since the last TakeWrittenSeqs

  mutable std::mutex mu_;
  replication::InstanceState state_;
  bool dirty_ = false;
  bool paused_ = false;  // the keeper's pause-recording, kept across restarts
  std::unique_ptr<Logger> log_;  // "[id] " + the manager's; made by the first start, kept (a
                                 // broker a subscriber still holds may log through it)
  std::shared_ptr<broker::Broker> broker_;
  std::unique_ptr<InstanceJournal> journal_;
  InstanceJournalMetrics past_journal_;  // counters of journals already dropped
  bool last_offer_ok_ = true;            // set by the broker's journal hook during Ingest
  int64_t last_active_mono_us_ = 0;      // Tick's clock

  // Set by Ingest and Ensure (no clock read per frame); Tick turns it into
  // last_active_mono_us_.
  std::atomic<bool> touched_{false};
};

class InstanceManager {
 public:
  // Lists {data_dir}/instances (created if missing) and registers every
  // sub-directory whose name is a valid instance id, reading its
  // state.json. Entries that are not directories, or whose names are not
  // valid ids ("bad name", ".x"), are skipped with a warning naming them and
  // never written to. A state.json that is refused (damaged) registers the
  // instance out of service: its load error is logged, returned by Ensure
  // and Ingest, and the file is never written over. Starts the journal
  // runner threads (unless start_journal_threads is false). Errors: bad
  // options (the message names them), an unreadable instances directory.
  static Result<std::unique_ptr<InstanceManager>> Open(InstanceManagerOptions options);

  InstanceManager(const InstanceManager&) = delete;
  InstanceManager& operator=(const InstanceManager&) = delete;
  // Shutdown()s.
  ~InstanceManager();

  // Any thread. The instance, or null when `id` is not registered.
  std::shared_ptr<Instance> Get(std::string_view id) const;
  // Any thread. Registers `id` if it is new — validated first
  // (InstanceDirFor: InvalidArgument quoting the id), then its directory is
  // created — and returns it. An existing damaged instance: its load error.
  // Starts nothing.
  Result<std::shared_ptr<Instance>> Register(std::string_view id);
  // Any thread. Makes a registered instance active (broker and journal;
  // nothing is allocated for frames yet) and marks it in use, so the next
  // idle_timeout counts from now. NotFound for an unknown id, the load
  // error for a damaged one, Unsupported after Shutdown.
  Result<std::shared_ptr<Instance>> Ensure(std::string_view id);

  // Any thread. Every registered instance, by id.
  std::vector<InstanceSummary> List() const;
  size_t size() const;
  size_t active_count() const;

  // Any thread. Rotation for every instance's live journal: each open file
  // and the next (the reference's SetJournalRotation, retroactive).
  // Rejected (and nothing changed) when negative.
  Status SetJournalRotation(int64_t rotate_duration_us, uint64_t rotate_size);
  // Any thread (the keeper's on_pause_change). Pauses or resumes recording
  // of `id`'s live journal, now and when it next starts. Unknown ids are
  // ignored.
  void SetInstancePaused(std::string_view id, bool paused);

  // Any thread, typically a once-a-second timer. At monotonic time
  // `now_mono_us`: runs each active broker's timers, and stops each active
  // instance that saw no frame and no Ensure for idle_timeout — its journal
  // finalized and on_rotate delivered before Tick returns. Idle instances
  // cost nothing here.
  void Tick(int64_t now_mono_us);
  // Tick at the clock's monotonic time.
  void Tick();

  // Tests (start_journal_threads false): one pass of every journal runner.
  void RunJournalOnce();

  // Any thread; idempotent. Stops every active instance (journals
  // finalized, on_rotate delivered), saves every changed state, stops the
  // runner threads. Ensure and Ingest fail afterwards. Returns the first
  // error (every instance is still attempted).
  Status Shutdown();

 private:
  friend class Instance;
  explicit InstanceManager(InstanceManagerOptions options);
  Status Load();
  // Registers `instance` as active and returns its journal options (the
  // current settings, a runner). Unsupported after Shutdown. Called
  // with the instance lock held.
  Result<InstanceJournalOptions> ActivateLocked(Instance& instance);
  void MarkInactive(Instance* instance);

  InstanceManagerOptions opt_;
  FileSystem* fs_;
  Clock* clock_;
  Logger* log_;
  std::string instances_dir_;

  mutable std::shared_mutex mu_;  // guards everything below
  std::map<std::string, std::shared_ptr<Instance>, std::less<>> instances_;
  std::vector<std::shared_ptr<Instance>> active_;
  bool shut_down_ = false;
  std::unique_ptr<journal::SinkRunner> runner_;  // journal_threads threads shared by every instance
};

}  // namespace lplex::cloud
