#include "journal/journal_sink.h"

#include <fmt/format.h>

#include <chrono>

#include "journal/format.h"
#include "core/thread_name.h"

namespace lplex::journal {

// How a sink wakes the runner that serves it. Shared between the runner
// (owner) and its sinks (weak references), so a sink that outlives its runner
// nudges nothing instead of a freed runner.
struct JournalSink::Wakeup {
  std::mutex mu;
  std::condition_variable cv;
  bool pending = false;
  bool stop = false;

  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu);
      pending = true;
    }
    cv.notify_one();
  }
};

// ---------------------------------------------------------------------------
// JournalSink

Result<std::shared_ptr<JournalSink>> JournalSink::Create(std::unique_ptr<JournalWriter> writer, SinkOptions o) {
  if (writer == nullptr) return Status::InvalidArgument("journal sink: no writer given");
  if (o.tick_interval_us <= 0) {
    return Status::InvalidArgument(
        fmt::format("journal sink: tick interval {} us must be positive (default 1000000)", o.tick_interval_us));
  }
  if (o.max_batch == 0) return Status::InvalidArgument("journal sink: max batch 0 must be at least 1 (default 4096)");
  if (o.close_budget_us < 0) {
    return Status::InvalidArgument(
        fmt::format("journal sink: close budget {} us must not be negative (default 5000000)", o.close_budget_us));
  }
  return std::shared_ptr<JournalSink>(new JournalSink(std::move(writer), o));
}

JournalSink::JournalSink(std::unique_ptr<JournalWriter> writer, SinkOptions options)
    : opt_(options),
      clock_(options.clock ? options.clock : Clock::Real()),
      queue_(options.queue_bytes),
      writer_(std::move(writer)),
      last_tick_mono_us_(clock_->MonotonicMicros()) {}

JournalSink::~JournalSink() { (void)Close(); }

bool JournalSink::Offer(const can::Frame& frame) {
  if (closed_.load(std::memory_order_acquire) || frame.data.size() > kMaxFrameDataLen) {
    frames_refused_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!queue_.Push(frame)) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  frames_queued_.fetch_add(1, std::memory_order_relaxed);
  if (queue_.bytes_used() * 2 > queue_.capacity_bytes() && !nudged_.exchange(true, std::memory_order_acq_rel)) {
    // Rare (once per half-fill): the runner would otherwise only look at
    // the next poll, by which time a burst could have filled the queue.
    std::shared_ptr<Wakeup> w;
    {
      std::lock_guard<std::mutex> lock(wakeup_mu_);
      w = wakeup_.lock();
    }
    if (w) w->Notify();
  }
  return true;
}

void JournalSink::NoteError(const Status& s) {
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    last_error_ = s;
  }
  // A refused frame (InvalidArgument) is the frame's fault, not the disk's.
  if (opt_.log == nullptr || s.code() == Status::Code::kInvalidArgument) return;
  const int64_t now = clock_->MonotonicMicros();
  ++errors_unlogged_;
  if (!error_logged_) {
    opt_.log->Error("journal: write error: {} (frames are being lost; further errors: one line a minute)",
                    s.ToString());
  } else if (now - error_logged_mono_us_ >= 60'000'000) {
    opt_.log->Error("journal: {} write error(s) in the last {} s, latest: {}", errors_unlogged_,
                    (now - error_logged_mono_us_) / 1'000'000, s.ToString());
  } else {
    return;
  }
  error_logged_ = true;
  error_logged_mono_us_ = now;
  errors_unlogged_ = 0;
}

Status JournalSink::last_error() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_;
}

void JournalSink::AppendLocked(const can::Frame& frame) {
  Status s = writer_->Append(frame);
  if (s.ok()) return;
  NoteError(s);
  // InvalidArgument: this frame can never be recorded (counted by the
  // writer as refused). Anything else is the disk: the frame is lost.
  if (s.code() != Status::Code::kInvalidArgument) frames_lost_.fetch_add(1, std::memory_order_relaxed);
}

void JournalSink::CopyWriterStats() {
  const WriterStats& ws = writer_->stats();
  w_written_.store(ws.frames_written, std::memory_order_relaxed);
  w_on_disk_.store(ws.frames_on_disk, std::memory_order_relaxed);
  w_paused_.store(ws.frames_paused, std::memory_order_relaxed);
  w_refused_.store(ws.frames_refused, std::memory_order_relaxed);
  w_errors_.store(ws.write_errors, std::memory_order_relaxed);
  w_files_.store(ws.files_finished, std::memory_order_relaxed);
  w_bytes_.store(ws.bytes_written, std::memory_order_relaxed);
}

bool JournalSink::TryService(bool* more) {
  std::unique_lock<std::mutex> lock(service_mu_, std::try_to_lock);
  *more = false;
  if (!lock.owns_lock()) return false;
  *more = ServiceLocked();
  return true;
}

bool JournalSink::Service() {
  std::lock_guard<std::mutex> lock(service_mu_);
  return ServiceLocked();
}

bool JournalSink::ServiceLocked() {
  if (close_done_) return false;
  nudged_.store(false, std::memory_order_release);
  can::Frame f;
  for (size_t n = 0; n < opt_.max_batch && queue_.Peek(&f); ++n) {
    AppendLocked(f);
    queue_.Pop();
  }
  const int64_t mono = clock_->MonotonicMicros();
  if (mono - last_tick_mono_us_ >= opt_.tick_interval_us) {
    last_tick_mono_us_ = mono;
    Status s = writer_->Tick(clock_->NowMicros());
    if (!s.ok()) NoteError(s);
  }
  CopyWriterStats();
  return queue_.size() > 0;
}

Status JournalSink::WriteOut() {
  std::lock_guard<std::mutex> lock(service_mu_);
  if (close_done_) return Status::Ok();
  Status result;
  can::Frame f;
  // Only what was queued before the call: a producer that keeps offering
  // cannot hold the caller here.
  for (size_t n = queue_.size(); n > 0 && queue_.Peek(&f); --n) {
    const uint64_t lost_before = frames_lost_.load(std::memory_order_relaxed);
    AppendLocked(f);
    queue_.Pop();
    if (result.ok() && frames_lost_.load(std::memory_order_relaxed) != lost_before) result = last_error();
  }
  Status s = writer_->WriteOpenBlock();
  if (!s.ok()) {
    NoteError(s);
    if (result.ok()) result = s;
  }
  CopyWriterStats();
  return result;
}

SinkCloseReport JournalSink::Close() {
  SinkCloseReport report;
  std::lock_guard<std::mutex> lock(service_mu_);
  closed_.store(true, std::memory_order_release);
  if (close_done_) return report;
  close_done_ = true;
  const int64_t start = clock_->MonotonicMicros();
  const int64_t deadline = start + opt_.close_budget_us;
  can::Frame f;
  while (queue_.Peek(&f)) {
    if (clock_->MonotonicMicros() > deadline) break;
    const uint64_t lost_before = frames_lost_.load(std::memory_order_relaxed);
    AppendLocked(f);
    queue_.Pop();
    ++report.frames_drained;
    if (report.status.ok() && frames_lost_.load(std::memory_order_relaxed) != lost_before) {
      report.status = last_error();
    }
  }
  // Whatever is left: the budget ran out (or a producer ignored the order
  // to stop first). It is counted, never silently kept.
  while (queue_.Peek(&f)) {
    queue_.Pop();
    ++report.frames_abandoned;
  }
  frames_abandoned_.fetch_add(report.frames_abandoned, std::memory_order_relaxed);
  Status closed = writer_->Close();
  if (!closed.ok()) NoteError(closed);
  if (report.status.ok()) report.status = closed;
  CopyWriterStats();
  report.elapsed_us = clock_->MonotonicMicros() - start;
  return report;
}

SinkMetrics JournalSink::metrics() const {
  SinkMetrics m;
  m.frames_queued = frames_queued_.load(std::memory_order_relaxed);
  m.frames_dropped = frames_dropped_.load(std::memory_order_relaxed);
  m.frames_refused = frames_refused_.load(std::memory_order_relaxed) + w_refused_.load(std::memory_order_relaxed);
  m.frames_written = w_written_.load(std::memory_order_relaxed);
  m.frames_on_disk = w_on_disk_.load(std::memory_order_relaxed);
  m.frames_paused = w_paused_.load(std::memory_order_relaxed);
  m.frames_lost = frames_lost_.load(std::memory_order_relaxed);
  m.frames_abandoned = frames_abandoned_.load(std::memory_order_relaxed);
  m.write_errors = w_errors_.load(std::memory_order_relaxed);
  m.files_finished = w_files_.load(std::memory_order_relaxed);
  m.bytes_written = w_bytes_.load(std::memory_order_relaxed);
  m.queue_depth = queue_.size();
  m.queue_bytes = queue_.bytes_used();
  m.queue_capacity_bytes = queue_.capacity_bytes();
  return m;
}

void JournalSink::SetWakeup(std::weak_ptr<Wakeup> wakeup) {
  std::lock_guard<std::mutex> lock(wakeup_mu_);
  wakeup_ = std::move(wakeup);
}

// ---------------------------------------------------------------------------
// SinkRunner

SinkRunner::SinkRunner(SinkRunnerOptions options)
    : opt_(options), wakeup_(std::make_shared<JournalSink::Wakeup>()) {}

SinkRunner::~SinkRunner() { Stop(); }

void SinkRunner::Add(std::shared_ptr<JournalSink> sink) {
  sink->SetWakeup(wakeup_);
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    sinks_.push_back(std::move(sink));
  }
  wakeup_->Notify();
}

size_t SinkRunner::sink_count() const {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  return sinks_.size();
}

void SinkRunner::RunOnce() {
  std::vector<std::shared_ptr<JournalSink>> pass;
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    std::erase_if(sinks_, [](const std::shared_ptr<JournalSink>& s) { return s->closed(); });
    pass = sinks_;
  }
  bool more = true;
  while (more) {
    more = false;
    for (const auto& s : pass) {
      bool left = false;
      // A sink another thread is servicing (perhaps stuck in a slow write)
      // is skipped: that thread drains it.
      if (s->TryService(&left) && left) more = true;
    }
  }
}

void SinkRunner::Start() {
  if (!threads_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(wakeup_->mu);
    wakeup_->stop = false;
  }
  for (size_t i = 0; i < std::max<size_t>(opt_.threads, 1); ++i) {
    threads_.emplace_back([this] {
      SetCurrentThreadName("lplex-journal");
      Loop();
    });
  }
}

void SinkRunner::Stop() {
  if (threads_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(wakeup_->mu);
    wakeup_->stop = true;
  }
  wakeup_->cv.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void SinkRunner::Loop() {
  for (;;) {
    RunOnce();
    std::unique_lock<std::mutex> lock(wakeup_->mu);
    wakeup_->cv.wait_for(lock, std::chrono::microseconds(opt_.poll_interval_us),
                         [&] { return wakeup_->pending || wakeup_->stop; });
    if (wakeup_->stop) return;
    wakeup_->pending = false;
  }
}

}  // namespace lplex::journal
