#include "cloud/instance_journal.h"

#include <fmt/format.h>

#include <utility>

#include "can/device_registry.h"

namespace lplex::cloud {
namespace {

journal::WriterOptions WriterOptionsFor(const JournalSettings& s) {
  journal::WriterOptions w;
  w.prefix = s.prefix;
  w.block_size = s.block_size;
  w.compression = s.compression;
  w.zstd_level = s.zstd_level;
  w.rotate_duration_us = s.rotate_duration_us;
  w.rotate_size = s.rotate_size;
  w.flush_interval_us = s.flush_interval_us;
  return w;
}

journal::SinkOptions SinkOptionsFor(const JournalSettings& s) {
  journal::SinkOptions o;
  o.queue_bytes = s.queue_bytes;
  o.close_budget_us = s.close_budget_us;
  return o;
}

void Add(journal::SinkMetrics* sum, const journal::SinkMetrics& m) {
  sum->frames_queued += m.frames_queued;
  sum->frames_dropped += m.frames_dropped;
  sum->frames_refused += m.frames_refused;
  sum->frames_on_disk += m.frames_on_disk;
  sum->files_finished += m.files_finished;
}

}  // namespace

Status CheckJournalSettings(const JournalSettings& settings) {
  journal::WriterOptions w = WriterOptionsFor(settings);
  w.dir = "/nonexistent";  // nothing is created before a frame arrives
  LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalWriter> writer, journal::JournalWriter::Create(w));
  LPLEX_ASSIGN_OR_RETURN(std::shared_ptr<journal::JournalSink> sink,
                         journal::JournalSink::Create(std::move(writer), SinkOptionsFor(settings)));
  return Status::Ok();
}

Result<std::unique_ptr<InstanceJournal>> InstanceJournal::Create(InstanceJournalOptions options) {
  if (options.instance_id.empty()) return Status::InvalidArgument("instance journal: no instance id given");
  if (options.dir.empty()) {
    return Status::InvalidArgument(
        fmt::format("instance journal for \"{}\": journal directory is empty", options.instance_id));
  }
  return std::unique_ptr<InstanceJournal>(new InstanceJournal(std::move(options)));
}

InstanceJournal::InstanceJournal(InstanceJournalOptions options) : opt_(std::move(options)) {}

InstanceJournal::~InstanceJournal() { (void)Close(); }

bool InstanceJournal::Offer(const can::Frame& frame) {
  if (frame.seq == 0) {
    snapshot_skipped_.fetch_add(1, std::memory_order_relaxed);
    KeepSnapshotFrame(frame);
    return true;
  }
  // Paused by the keeper (pause-recording): the frame is not recorded, so
  // it must not count as accepted either — refused, its seq stays a hole the
  // boat backfills once recording resumes (it still has the frame).
  if (refusing_.load(std::memory_order_relaxed)) return false;
  if (sink_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    Status s = StartLocked();
    if (!s.ok()) {
      // Not expected once CheckJournalSettings passed; the frame is not
      // durable, so the caller leaves its seq a hole for backfill.
      if (no_writer_refused_.fetch_add(1, std::memory_order_relaxed) == 0 && opt_.log != nullptr) {
        opt_.log->Error("journal: cannot start a writer in {}: {}", opt_.dir, s.ToString());
      }
      return false;
    }
  }
  return sink_->Offer(frame);
}

void InstanceJournal::KeepSnapshotFrame(const can::Frame& frame) {
  const uint32_t pgn = frame.header.pgn;
  if (pgn != can::kPgnAddressClaim && pgn != can::kPgnProductInfo) return;
  // A writer that exists already keeps its registry; this snapshot seeds
  // the next one (after Close). The writer has no thread-safe way to take
  // device information without recording a frame.
  if (snapshot_.size() >= kMaxSnapshotFrames) return;
  snapshot_.push_back(SnapshotFrame{frame.timestamp_us, frame.header.source, pgn,
                                    std::vector<uint8_t>(frame.data.begin(), frame.data.end())});
}

Status InstanceJournal::StartLocked() {
  journal::WriterOptions w = WriterOptionsFor(opt_.settings);
  w.dir = opt_.dir;
  w.on_open_change = opt_.on_open_change;
  w.on_block_written = opt_.on_block_written;
  if (opt_.on_rotate) {
    w.on_rotate = [fn = opt_.on_rotate, id = opt_.instance_id](const journal::RotatedFile& f) {
      journal::RotatedFile named = f;
      named.instance_id = id;
      fn(named);
    };
  }
  w.fs = opt_.fs;
  w.clock = opt_.clock;
  LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<journal::JournalWriter> writer, journal::JournalWriter::Create(w));
  // The writer is not shared yet: its registry may be seeded here.
  for (const SnapshotFrame& f : snapshot_) writer->registry().Observe(f.timestamp_us, f.source, f.pgn, f.data);
  std::vector<SnapshotFrame>().swap(snapshot_);
  writer->SetPaused(paused_);
  journal::SinkOptions so = SinkOptionsFor(opt_.settings);
  so.clock = opt_.clock;
  so.log = opt_.log;
  LPLEX_ASSIGN_OR_RETURN(sink_, journal::JournalSink::Create(std::move(writer), so));
  if (opt_.runner != nullptr) opt_.runner->Add(sink_);
  return Status::Ok();
}

void InstanceJournal::SetRotation(int64_t rotate_duration_us, uint64_t rotate_size) {
  std::lock_guard<std::mutex> lock(mu_);
  opt_.settings.rotate_duration_us = rotate_duration_us;
  opt_.settings.rotate_size = rotate_size;
  if (sink_ != nullptr) sink_->writer().SetRotation(rotate_duration_us, rotate_size);
}

void InstanceJournal::SetPaused(bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = paused;
  refusing_.store(paused, std::memory_order_relaxed);
  // SetPaused is the writer's one thread-safe setter.
  if (sink_ != nullptr) sink_->writer().SetPaused(paused);
}

Status InstanceJournal::Close() {
  std::shared_ptr<journal::JournalSink> sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sink = std::move(sink_);
    sink_ = nullptr;
  }
  if (sink == nullptr) return Status::Ok();
  // On this thread: the queue is written, the file finished, on_rotate
  // fires. The runner drops the closed sink (and with it the writer's
  // buffers) on its next pass.
  journal::SinkCloseReport report = sink->Close();
  if (report.frames_abandoned > 0 && opt_.log != nullptr) {
    opt_.log->Warn("journal: {} queued frame(s) abandoned at close (close budget {} us)",
                   report.frames_abandoned, opt_.settings.close_budget_us);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Add(&closed_, sink->metrics());
  }
  return report.status;
}

bool InstanceJournal::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sink_ != nullptr;
}

InstanceJournalMetrics InstanceJournal::metrics() const {
  journal::SinkMetrics sum;
  bool active = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sum = closed_;
    if (sink_ != nullptr) {
      Add(&sum, sink_->metrics());
      active = true;
    }
  }
  InstanceJournalMetrics m;
  m.snapshot_frames_skipped = snapshot_skipped_.load(std::memory_order_relaxed);
  m.frames_queued = sum.frames_queued;
  m.frames_dropped = sum.frames_dropped;
  m.frames_refused = sum.frames_refused + no_writer_refused_.load(std::memory_order_relaxed);
  m.frames_on_disk = sum.frames_on_disk;
  m.files_finished = sum.files_finished;
  m.active = active;
  return m;
}

}  // namespace lplex::cloud
