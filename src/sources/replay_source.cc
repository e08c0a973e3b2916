#include "sources/replay_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace lplex::sources {
namespace {

class CaptureCursor final : public FrameCursor {
 public:
  CaptureCursor(std::string path, CaptureOptions options, FileSystem* fs)
      : path_(std::move(path)), options_(options), fs_(fs) {}

  Status Rewind() override {
    auto r = CaptureReader::Open(path_, options_, fs_);
    if (!r.ok()) return r.status();
    reader_ = std::move(r).value();
    assembler_ = std::make_unique<can::FastPacketAssembler>();
    status_ = Status::Ok();
    return Status::Ok();
  }

  bool Next(can::Frame* out) override {
    can::RawFrame raw;
    while (reader_->Next(&raw)) {
      // As `lplex import`: 11-bit frames are not NMEA 2000.
      if (raw.extended && assembler_->Process(raw, out)) return true;
    }
    status_ = reader_->status();
    assembler_->Flush();
    return false;
  }

  const Status& status() const override { return status_; }
  std::string name() const override { return path_; }

 private:
  std::string path_;
  CaptureOptions options_;
  FileSystem* fs_;
  std::unique_ptr<CaptureReader> reader_;
  std::unique_ptr<can::FastPacketAssembler> assembler_;
  Status status_;
};

}  // namespace

Result<std::unique_ptr<FrameCursor>> OpenCaptureCursor(const std::string& path, const CaptureOptions& options,
                                                       FileSystem* fs) {
  auto cursor = std::make_unique<CaptureCursor>(path, options, fs);
  LPLEX_RETURN_IF_ERROR(cursor->Rewind());
  return std::unique_ptr<FrameCursor>(std::move(cursor));
}

ReplaySource::ReplaySource(std::string uri, uint8_t bus, std::unique_ptr<FrameCursor> cursor, ReplayOptions options,
                           std::unique_ptr<Pacer> pacer)
    : ThreadedSource(std::move(uri), bus, std::move(pacer)), cursor_(std::move(cursor)), options_(options) {}

ReplaySource::~ReplaySource() { Stop(); }

Status ReplaySource::Run() {
  const bool paced = options_.speed > 0;
  int64_t offset = 0;                                   // added to recorded times in this loop
  int64_t first_recorded = 0;                           // recorded time of the recording's first frame
  int64_t latest = std::numeric_limits<int64_t>::min(); // latest timestamp delivered
  bool have_first = false;
  // Pacing anchor: frame time `anchor_ts` is due at wall time `anchor_wall`.
  bool anchored = false;
  int64_t anchor_ts = 0, anchor_wall = 0, prev_ts = 0, prev_due = 0;

  if (options_.start_delay_us > 0) {
    // On the source's clock, like the pacing: a fake clock's test does not
    // sleep, and Stop() wakes the pacer so a shutdown during the delay is
    // not held up by it.
    const int64_t start_due = clock()->NowMicros() + options_.start_delay_us;
    while (!stopping() && clock()->NowMicros() < start_due) pacer().WaitUntil(start_due);
    if (stopping()) return Status::Ok();
  }

  can::Frame f;
  for (;;) {
    while (!stopping() && cursor_->Next(&f)) {
      if (!have_first) {
        first_recorded = f.timestamp_us;
        have_first = true;
      }
      const int64_t ts = f.timestamp_us + offset;
      if (paced) {
        if (!anchored) {
          anchor_ts = ts;
          anchor_wall = clock()->NowMicros();
          anchored = true;
        } else if (ts < prev_ts || ts - prev_ts > options_.max_gap_us) {
          // Time stepped back, or a long pause: start a new anchor after the
          // previous frame (at most max_gap later) instead of waiting it out.
          const int64_t gap = ts < prev_ts ? 0 : options_.max_gap_us;
          anchor_ts = ts;
          anchor_wall = prev_due + static_cast<int64_t>(static_cast<double>(gap) / options_.speed);
        }
        const int64_t due = anchor_wall + static_cast<int64_t>(static_cast<double>(ts - anchor_ts) / options_.speed);
        prev_ts = ts;
        prev_due = due;
        while (!stopping() && clock()->NowMicros() < due) pacer().WaitUntil(due);
        if (stopping()) break;
      }
      f.timestamp_us = ts;
      Deliver(f);
      latest = std::max(latest, ts);
    }
    if (stopping()) return Status::Ok();
    if (!cursor_->status().ok()) return cursor_->status().WithContext("replay " + cursor_->name());
    if (!options_.loop || !have_first) return Status::Ok();
    loops_.fetch_add(1, std::memory_order_relaxed);
    offset = latest + options_.loop_gap_us - first_recorded;
    LPLEX_RETURN_IF_ERROR(cursor_->Rewind().WithContext("replay " + cursor_->name()));
  }
}

}  // namespace lplex::sources
