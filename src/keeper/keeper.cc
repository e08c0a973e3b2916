#include "keeper/keeper.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "core/time.h"
#include "core/thread_name.h"

namespace lplex::keeper {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "[<instance id>] keeper: " over `base`: the logger for a line about one
// directory's files. Built per line (lines are rare next to file I/O), so
// Send()'s callers need no shared state. An invalid id (one the keeper is
// refusing) is left out: it could hold anything, a newline included, and the
// line names the directory or file anyway.
class DirLog {
 public:
  DirLog(Logger* base, const std::string& instance_id)
      : instance_(WithInstance(base, ValidateInstanceId(instance_id).ok() ? instance_id : std::string())),
        keeper_(instance_.get(), "keeper: ") {}
  Logger* operator->() { return &keeper_; }
  Logger* get() { return &keeper_; }

 private:
  std::unique_ptr<Logger> instance_;
  PrefixLogger keeper_;
};

// `log`, or Default() with "keeper: " when it is null (the free functions).
class FreeFunctionLog {
 public:
  explicit FreeFunctionLog(Logger* log)
      : owned_(log != nullptr ? nullptr : WithPrefix(nullptr, "keeper: ")), log_(log != nullptr ? log : owned_.get()) {}
  Logger* operator->() { return log_; }

 private:
  std::unique_ptr<Logger> owned_;
  Logger* log_;
};

}  // namespace

Keeper::Keeper(KeeperOptions options)
    : opt_(std::move(options)),
      clock_(opt_.clock ? opt_.clock : Clock::Real()),
      fs_(opt_.fs ? opt_.fs : FileSystem::Default()),
      base_log_(opt_.log ? opt_.log : Logger::Default()),
      log_(WithPrefix(base_log_, "keeper: ")) {}

Keeper::~Keeper() { Stop(); }

bool Keeper::archiving() const { return opt_.archiver != nullptr && opt_.trigger != ArchiveTrigger::kDisabled; }

std::vector<KeeperDir> Keeper::Dirs() const { return opt_.dir_func ? opt_.dir_func() : opt_.dirs; }

std::vector<KeeperDir> Keeper::CheckedDirs() {
  std::vector<KeeperDir> out;
  const Archiver* archiver = archiving() ? opt_.archiver.get() : nullptr;
  for (KeeperDir& d : Dirs()) {
    Status s = CheckKeeperDir(d, archiver);
    if (s.ok()) {
      out.push_back(std::move(d));
      continue;
    }
    ++stats_.skipped_dirs;
    if (refusals_logged_.insert(d.dir + "\n" + s.message()).second) {
      DirLog(base_log_, d.instance_id)->Error("leaving {} alone (nothing archived or deleted there): {}", d.dir,
                                              s.message());
    }
  }
  return out;
}

std::vector<std::string> Keeper::pending_paths() const {
  std::vector<std::string> out;
  for (const ArchiveItem& i : pending_) out.push_back(i.path);
  return out;
}

std::vector<FileState> ListJournalDir(FileSystem* fs, const std::string& dir,
                                      const std::function<bool(const std::string&)>& is_pending,
                                      const std::function<bool(const std::string&)>& is_open, Logger* log) {
  std::vector<FileState> files;
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) {
    if (!entries.status().IsNotFound()) {
      FreeFunctionLog(log)->Warn("cannot list {}: {}", dir, entries.status().ToString());
    }
    return files;
  }
  std::set<std::string> names;
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) names.insert(e.name);
  }
  for (const std::string& name : names) {
    if (!EndsWith(name, ".lpj")) continue;
    FileState f;
    f.path = JoinPath(dir, name);
    auto size = fs->FileSize(f.path);
    if (!size.ok()) continue;  // vanished meanwhile
    f.size = *size;
    f.created_us = timefmt::TimeFromJournalName(name);
    f.archived = names.count(journal::ArchivedMarkerPath(name)) != 0;
    f.pending = is_pending && is_pending(f.path);
    f.open = is_open && is_open(f.path);
    files.push_back(std::move(f));
  }
  return files;
}

size_t RemoveOrphanMarkers(FileSystem* fs, const std::string& dir, Logger* log) {
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return 0;  // ListJournalDir reports an unlistable directory
  std::set<std::string> names;
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) names.insert(e.name);
  }
  const std::string suffix = std::string(".lpj") + std::string(journal::kArchivedMarkerSuffix);
  size_t removed = 0;
  for (const std::string& name : names) {
    if (name.size() <= suffix.size() || !EndsWith(name, suffix)) continue;
    const std::string journal_name = name.substr(0, name.size() - journal::kArchivedMarkerSuffix.size());
    if (names.count(journal_name) != 0) continue;
    const std::string marker = JoinPath(dir, name);
    // Listed a moment ago: the file may have been created since (a writer
    // never takes a name whose marker exists, so this is a hand-made file).
    if (fs->Exists(JoinPath(dir, journal_name))) continue;
    Status s = fs->RemoveFile(marker);
    if (!s.ok() && !s.IsNotFound()) {
      FreeFunctionLog(log)->Warn("cannot remove {}, the marker of a journal file that is gone: {}", marker,
                                 s.ToString());
      continue;
    }
    ++removed;
    FreeFunctionLog(log)->Info("removed {}: its journal file {} is gone (a leftover marker would make a new file "
                               "of that name count as archived)",
                               marker, journal_name);
  }
  return removed;
}

std::vector<KeeperDir> ListInstanceJournalDirs(FileSystem* fs, const std::string& data_dir, Logger* log) {
  std::vector<KeeperDir> out;
  const std::string root = JoinPath(data_dir, "instances");
  auto entries = fs->ListDir(root);
  if (!entries.ok()) {
    if (!entries.status().IsNotFound()) {
      FreeFunctionLog(log)->Warn("cannot list {}: {}", root, entries.status().ToString());
    }
    return out;
  }
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) continue;
    Status valid = ValidateInstanceId(e.name);
    if (!valid.ok()) {
      FreeFunctionLog(log)->Warn("skipping {}/{}: {}", root, e.name, valid.message());
      continue;
    }
    out.push_back({JoinPath(JoinPath(root, e.name), "journal"), e.name});
  }
  std::sort(out.begin(), out.end(), [](const KeeperDir& a, const KeeperDir& b) { return a.dir < b.dir; });
  return out;
}

Status CheckKeeperDir(const KeeperDir& d, const Archiver* archiver) {
  if (!d.instance_id.empty()) {
    Status s = ValidateInstanceId(d.instance_id);
    if (!s.ok()) return s.WithContext("journal directory " + d.dir);
  }
  if (archiver != nullptr) LPLEX_RETURN_IF_ERROR(archiver->CheckJournalDir(d.dir, d.instance_id));
  return Status::Ok();
}

Status CheckKeeperOptions(const KeeperOptions& o) {
  if (o.trigger != ArchiveTrigger::kDisabled && o.archiver == nullptr) {
    return Status::InvalidArgument(
        fmt::format("archive trigger {} needs an archive command or target: without one, expired files would be "
                    "deleted unarchived",
                    ArchiveTriggerName(o.trigger)));
  }
  const Archiver* archiver = o.trigger != ArchiveTrigger::kDisabled ? o.archiver.get() : nullptr;
  for (const KeeperDir& d : o.dirs) LPLEX_RETURN_IF_ERROR(CheckKeeperDir(d, archiver));
  return Status::Ok();
}

Status WriteArchivedMarker(FileSystem* fs, const std::string& path) {
  auto marker = fs->NewExclusiveFile(Keeper::MarkerPath(path));
  if (marker.ok()) return (*marker)->Close();
  if (marker.status().code() == Status::Code::kAlreadyExists) return Status::Ok();
  return marker.status();
}

std::vector<FileState> Keeper::ListDir(const KeeperDir& d) {
  DirLog log(base_log_, d.instance_id);
  return ListJournalDir(fs_, d.dir, [this](const std::string& p) { return IsPending(p); }, opt_.is_open, log.get());
}

void Keeper::AddPending(const ArchiveItem& item) {
  if (pending_set_.insert(item.path).second) pending_.push_back(item);
}

void Keeper::RemovePending(const std::string& path) {
  if (pending_set_.erase(path) == 0) return;
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [&](const ArchiveItem& i) { return i.path == path; }),
                 pending_.end());
}

ArchiveItem Keeper::ItemFor(const std::string& path, const std::string& instance_id, uint64_t size) const {
  ArchiveItem item;
  item.path = path;
  item.instance_id = instance_id;
  item.size = size;
  auto t = timefmt::TimeFromJournalName(BaseName(path));
  item.created_known = t.has_value();
  item.created_us = t.value_or(0);
  return item;
}

bool Keeper::ArchiveBatch(const std::vector<ArchiveItem>& batch, Deadline deadline) {
  if (batch.empty() || !opt_.archiver) return true;
  // Items that could escape the target (a bad instance id from a writer's
  // notification) never reach the archiver, whatever kind it is.
  std::vector<ArchiveItem> good;
  std::vector<std::optional<ArchiveOutcome>> refused(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Status s = CheckArchiveItem(batch[i]);
    if (s.ok()) {
      good.push_back(batch[i]);
    } else {
      refused[i] = ArchiveOutcome{false, s.message()};
    }
  }
  std::vector<ArchiveOutcome> from_archiver;
  if (!good.empty()) from_archiver = RunArchivers(good, deadline);
  std::vector<ArchiveOutcome> outcomes;
  for (size_t i = 0, next = 0; i < batch.size(); ++i) {
    if (refused[i]) {
      outcomes.push_back(*refused[i]);
    } else {
      outcomes.push_back(next < from_archiver.size() ? from_archiver[next]
                                                     : ArchiveOutcome{false, "no outcome from the archiver"});
      ++next;
    }
  }
  bool all_ok = true;
  for (size_t i = 0; i < batch.size(); ++i) {
    const ArchiveItem& item = batch[i];
    const bool ok = i < outcomes.size() && outcomes[i].ok;
    DirLog log(base_log_, item.instance_id);
    if (ok) {
      // The marker is the only record that the file is safe to delete.
      Status m = WriteArchivedMarker(fs_, item.path);
      if (!m.ok()) log->Warn("archived {} but cannot write its marker: {}", item.path, m.ToString());
      ++stats_.archived;
      log->Info("archived {} to {}", item.path, opt_.archiver->Describe());
      RemovePending(item.path);
    } else {
      all_ok = false;
      ++stats_.archive_failures;
      const std::string error = i < outcomes.size() ? outcomes[i].error : "no outcome from the archiver";
      const ArchiveFailure f = SplitArchiveError(error, item.path, opt_.archiver->Describe());
      log->Warn("archiving {} to {} failed: {}", item.path, f.destination, f.reason);
      AddPending(item);
    }
  }
  if (all_ok && pending_.empty()) backoff_ = milliseconds(0);
  return all_ok;
}

size_t Keeper::UploadSlots() {
  if (!opt_.archiver) return 0;
  if (!uploaders_made_) {
    uploaders_made_ = true;
    uploaders_.push_back(opt_.archiver);
    const size_t want = std::max<size_t>(opt_.upload_parallelism, 1);
    while (opt_.make_upload_archiver && uploaders_.size() < want) {
      std::shared_ptr<Archiver> a = opt_.make_upload_archiver();
      if (!a) {
        log_->Warn("could make only {} of {} upload archivers; uploading {} at a time", uploaders_.size(), want,
                   uploaders_.size());
        break;
      }
      uploaders_.push_back(std::move(a));
    }
  }
  return uploaders_.size();
}

std::vector<ArchiveOutcome> Keeper::RunArchivers(const std::vector<ArchiveItem>& items, Deadline deadline) {
  const size_t slots = std::min(items.size(), UploadSlots());
  if (slots <= 1) return opt_.archiver->Archive(items, deadline);
  // Contiguous parts, so a script target still gets its files in batches.
  std::vector<std::vector<ArchiveItem>> parts(slots);
  std::vector<std::vector<ArchiveOutcome>> results(slots);
  const size_t base = items.size() / slots;
  const size_t extra = items.size() % slots;
  for (size_t w = 0, at = 0; w < slots; ++w) {
    const size_t n = base + (w < extra ? 1 : 0);
    parts[w].assign(items.begin() + static_cast<std::ptrdiff_t>(at), items.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  std::vector<std::thread> threads;
  threads.reserve(slots - 1);
  for (size_t w = 1; w < slots; ++w) {
    threads.emplace_back([&, w] {
      SetCurrentThreadName("lplex-upload");
      results[w] = uploaders_[w]->Archive(parts[w], deadline);
    });
  }
  results[0] = uploaders_[0]->Archive(parts[0], deadline);
  for (std::thread& t : threads) t.join();
  std::vector<ArchiveOutcome> out;
  out.reserve(items.size());
  for (size_t w = 0; w < slots; ++w) {
    for (size_t i = 0; i < parts[w].size(); ++i) {
      out.push_back(i < results[w].size() ? std::move(results[w][i])
                                          : ArchiveOutcome{false, "no outcome from the archiver"});
    }
  }
  return out;
}

ArchiveFailure SplitArchiveError(const std::string& error, const std::string& path, const std::string& target) {
  // "archive PATH to DEST: REASON" (PerFileArchiver): DEST is more precise
  // than the target.
  const std::string per_file = "archive " + path + " to ";
  if (error.rfind(per_file, 0) == 0) {
    size_t colon = error.find(": ", per_file.size());
    if (colon != std::string::npos) {
      return {error.substr(per_file.size(), colon - per_file.size()), error.substr(colon + 2)};
    }
  }
  // "PATH: REASON" (a script's answer).
  if (error.size() > path.size() + 2 && error.rfind(path + ": ", 0) == 0) return {target, error.substr(path.size() + 2)};
  return {target, error};
}

void Keeper::DeleteFile(const KeeperDir& d, const std::string& path) {
  DirLog log(base_log_, d.instance_id);
  const bool archived = fs_->Exists(MarkerPath(path));
  Status s = fs_->RemoveFile(path);
  if (!s.ok() && !s.IsNotFound()) {
    ++stats_.delete_failures;
    log->Warn("cannot delete {}: {}", path, s.ToString());
    if (opt_.on_delete) opt_.on_delete(path, archived, s);
    return;
  }
  (void)fs_->RemoveFile(MarkerPath(path));
  RemovePending(path);
  ++stats_.deleted;
  if (!archived) ++stats_.deleted_unarchived;
  log->Info("deleted {}{}", path, archived ? "" : " (unarchived)");
  if (opt_.on_delete) opt_.on_delete(path, archived, Status::Ok());
}

void Keeper::SetPaused(const KeeperDir& d, bool paused) {
  bool& state = paused_[d.dir];  // first state is "not paused"
  if (state == paused) return;
  state = paused;
  DirLog(base_log_, d.instance_id)
      ->Warn("{} recording in {} ({})", paused ? "pausing" : "resuming", d.dir,
             paused ? "over its size cap with files that could not be archived" : "back under its size cap");
  if (opt_.on_pause_change) opt_.on_pause_change(d, paused);
}

void Keeper::ScanAll() {
  ++stats_.scans;
  const int64_t now = clock_->NowMicros();
  for (const KeeperDir& d : CheckedDirs()) {
    {
      DirLog log(base_log_, d.instance_id);
      RemoveOrphanMarkers(fs_, d.dir, log.get());
    }
    std::vector<FileState> files = ListDir(d);
    RetentionPlan plan = PlanRetention(files, opt_.retention, archiving(), now);
    for (const std::string& p : plan.delete_paths) DeleteFile(d, p);
    std::vector<ArchiveItem> batch;
    for (const std::string& p : plan.archive_paths) {
      auto f = std::find_if(files.begin(), files.end(), [&](const FileState& s) { return s.path == p; });
      batch.push_back(ItemFor(p, d.instance_id, f->size));
    }
    ArchiveBatch(batch, ArchiveDeadline());
    SetPaused(d, plan.need_pause);
  }
}

void Keeper::ApplyRetentionOnce() {
  const uint64_t attempts = stats_.archived + stats_.archive_failures;
  ScanAll();
  if (stats_.archived + stats_.archive_failures != attempts) ScanAll();
}

void Keeper::SweepUnarchived() { Sweep(nullptr, ArchiveDeadline()); }

void Keeper::Sweep(const std::set<std::string>* only, Deadline deadline) {
  if (!archiving()) return;
  std::vector<ArchiveItem> batch;
  for (const KeeperDir& d : CheckedDirs()) {
    if (only != nullptr && only->count(d.dir) == 0) continue;
    for (const FileState& f : ListDir(d)) {
      if (!f.archived && !f.pending && !f.open) batch.push_back(ItemFor(f.path, d.instance_id, f.size));
    }
  }
  if (!batch.empty()) log_->Info("sweeping {} unarchived journal files", batch.size());
  ArchiveBatch(batch, std::min(deadline, ArchiveDeadline()));
}

void Keeper::HandleRotation(const journal::RotatedFile& file) { HandleRotation(file, ArchiveDeadline()); }

void Keeper::HandleRotation(const journal::RotatedFile& file, Deadline deadline) { HandleRotations({file}, deadline); }

void Keeper::HandleRotations(const std::vector<journal::RotatedFile>& files, Deadline deadline) {
  if (opt_.trigger != ArchiveTrigger::kOnRotate || !opt_.archiver) return;
  std::vector<ArchiveItem> batch;
  std::set<std::string> seen;
  for (const journal::RotatedFile& file : files) {
    if (!seen.insert(file.path).second) continue;
    auto size = fs_->FileSize(file.path);
    if (!size.ok()) {
      DirLog(base_log_, file.instance_id)->Warn("rotated file {} is gone: {}", file.path, size.status().ToString());
      continue;
    }
    // Already done (a sweep got there first) or waiting for its retry.
    if (fs_->Exists(MarkerPath(file.path)) || IsPending(file.path)) continue;
    batch.push_back(ItemFor(file.path, file.instance_id, *size));
  }
  ArchiveBatch(batch, std::min(deadline, ArchiveDeadline()));
}

void Keeper::RetryPending() {
  std::vector<std::string> gone;
  for (const ArchiveItem& i : pending_) {
    if (!fs_->Exists(i.path)) gone.push_back(i.path);
  }
  for (const std::string& p : gone) RemovePending(p);
  if (pending_.empty()) {
    backoff_ = milliseconds(0);
    return;
  }
  const std::vector<ArchiveItem> batch = pending_;
  if (ArchiveBatch(batch, ArchiveDeadline())) {
    backoff_ = milliseconds(0);
  } else {
    backoff_ = std::min(backoff_ == milliseconds(0) ? opt_.first_backoff : backoff_ * 2, opt_.max_backoff);
  }
}

bool Keeper::Send(journal::RotatedFile file) {
  const size_t slash = file.path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string(".") : file.path.substr(0, slash);
  bool first_for_dir = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_paths_.count(file.path) != 0) return true;  // a duplicate: archived once
    if (queue_.size() < opt_.queue_capacity) {
      queued_paths_.insert(file.path);
      queue_.push_back(std::move(file));
      cond_.NotifyAll();
      return true;
    }
    first_for_dir = rescan_dirs_.insert(dir).second;
    cond_.NotifyAll();
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  if (first_for_dir) {
    DirLog(base_log_, file.instance_id)
        ->Warn("rotation queue full ({} files), sweeping {} next instead of queuing {}", opt_.queue_capacity, dir,
               file.path);
  }
  return false;
}

void Keeper::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    SetCurrentThreadName("lplex-keeper");
    Run();
  });
}

void Keeper::Run() {
  const size_t per_turn = std::max<size_t>(UploadSlots(), 1);
  ScanAll();
  if (opt_.trigger == ArchiveTrigger::kOnRotate) SweepUnarchived();
  MonoTime next_scan = clock_->Monotonic() + opt_.scan_interval;
  // MonoTime::max() means "no retry scheduled".
  MonoTime retry_at = MonoTime::max();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!pending_.empty() && retry_at == MonoTime::max()) {
      if (backoff_ == milliseconds(0)) backoff_ = opt_.first_backoff;
      retry_at = clock_->Monotonic() + backoff_;
    }
    const MonoTime wake = std::min(next_scan, retry_at);
    cond_.WaitUntil(lock, wake, [&] { return stopping_ || !queue_.empty() || !rescan_dirs_.empty(); });
    if (stopping_) break;
    // One upload slot's worth at a time, so a stop request leaves the rest
    // to Stop()'s bounded drain, and a steady stream of notifications cannot
    // starve scans and retries.
    std::vector<journal::RotatedFile> rotated;
    while (!queue_.empty() && rotated.size() < per_turn) {
      queued_paths_.erase(queue_.front().path);
      rotated.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    std::set<std::string> rescan;
    rescan.swap(rescan_dirs_);
    lock.unlock();
    if (!rotated.empty()) HandleRotations(rotated, ArchiveDeadline());
    if (!rescan.empty() && opt_.trigger == ArchiveTrigger::kOnRotate) Sweep(&rescan, ArchiveDeadline());
    const MonoTime now = clock_->Monotonic();
    if (now >= retry_at) {
      retry_at = MonoTime::max();
      RetryPending();
    }
    if (now >= next_scan) {
      ScanAll();
      if (opt_.trigger == ArchiveTrigger::kOnRotate) SweepUnarchived();  // catches dropped notifications
      next_scan = clock_->Monotonic() + opt_.scan_interval;
    }
    lock.lock();
  }
}

void Keeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cond_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
  // Drain what the writers reported last, within a bound.
  const MonoTime started = clock_->Monotonic();
  const Deadline deadline = started + opt_.drain_timeout;
  std::deque<journal::RotatedFile> left;
  std::set<std::string> rescan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
    queued_paths_.clear();
    rescan.swap(rescan_dirs_);
  }
  const size_t per_turn = std::max<size_t>(UploadSlots(), 1);
  size_t done = 0;
  while (done < left.size() && clock_->Monotonic() < deadline) {
    const size_t n = std::min(per_turn, left.size() - done);
    HandleRotations(std::vector<journal::RotatedFile>(left.begin() + static_cast<std::ptrdiff_t>(done),
                                                      left.begin() + static_cast<std::ptrdiff_t>(done + n)),
                    deadline);
    done += n;
  }
  bool swept = rescan.empty() || opt_.trigger != ArchiveTrigger::kOnRotate;
  if (!rescan.empty() && clock_->Monotonic() < deadline && opt_.trigger == ArchiveTrigger::kOnRotate) {
    Sweep(&rescan, deadline);
    swept = true;
  }
  const auto took = std::chrono::duration_cast<milliseconds>(clock_->Monotonic() - started);
  if (done < left.size()) {
    log_->Warn("stopped after {} ms with {} of {} queued files not archived; they are swept at the next start",
               took.count(), left.size() - done, left.size());
  } else if (!left.empty()) {
    log_->Info("drained {} queued files in {} ms", left.size(), took.count());
  }
  if (!swept) {
    log_->Warn("stopped before sweeping {} directories whose notifications found the queue full; they are swept at "
               "the next start",
               rescan.size());
  }
}

}  // namespace lplex::keeper
