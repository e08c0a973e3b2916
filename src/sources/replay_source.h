// `replay:PATH`: plays a recording as if it were a live bus.
//
// A FrameCursor walks the recording's messages in order (a capture through
// CaptureReader and fast-packet reassembly; a journal directory through
// journal_replay.h). ReplaySource paces them on its Clock:
//  - speed N > 0: frame i is due speed⁻¹ × (its recorded time − the anchor's)
//    after the anchor's wall time. The anchor is the first frame, and is moved
//    to a frame whose recorded time goes back (a clock stepped back in the
//    recording) or jumps ahead by more than max_gap (a long pause, which is
//    cut to max_gap so a recording with an overnight gap keeps playing);
//  - speed 0: no waiting at all.
// With start_delay_us, the first frame waits that long after Start (on the
// Pacer, so Stop ends the wait at once): a demo replay that clients connect
// to before it begins. Frames keep their recorded timestamps. With `loop`,
// the recording starts again when it ends, shifted in time so that each loop
// continues after the previous one: the next loop's first frame is 1 ms after
// the latest timestamp delivered so far.
#pragma once

#include <memory>
#include <string>

#include "can/frame.h"
#include "core/file_system.h"
#include "core/status.h"
#include "sources/capture_reader.h"
#include "sources/frame_source.h"

namespace lplex::sources {

// A recording's messages in recorded order.
class FrameCursor {
 public:
  virtual ~FrameCursor() = default;
  // Stores the next message in *out (data valid until the next call) and
  // returns true; false at the end or on a fatal error (then status()).
  virtual bool Next(can::Frame* out) = 0;
  virtual const Status& status() const = 0;
  // Goes back to the first message (for looping).
  virtual Status Rewind() = 0;
  // What is replayed, for messages.
  virtual std::string name() const = 0;
};

// The messages of the capture at `path` (pcap, candump, Yacht Devices RAW;
// CaptureOptions as for `lplex import`): the reader's extended frames through
// a FastPacketAssembler, exactly as `lplex import` journals them. Captures
// without full timestamps take their date/start from options.base_time_us.
// Malformed lines are skipped (they are counted by the reader).
Result<std::unique_ptr<FrameCursor>> OpenCaptureCursor(const std::string& path, const CaptureOptions& options,
                                                       FileSystem* fs = nullptr);

struct ReplayOptions {
  double speed = 1.0;               // 0 = as fast as possible
  bool loop = false;
  int64_t max_gap_us = 5'000'000;   // longer pauses in the recording are cut to this
  int64_t loop_gap_us = 1'000;      // between the end of one loop and the next
  int64_t start_delay_us = 0;       // before the first frame (not before later loops)
};

class ReplaySource final : public ThreadedSource {
 public:
  ReplaySource(std::string uri, uint8_t bus, std::unique_ptr<FrameCursor> cursor, ReplayOptions options,
               std::unique_ptr<Pacer> pacer);
  ~ReplaySource() override;

  // Completed loops so far (0 during the first play). Any thread.
  uint64_t loops() const { return loops_.load(std::memory_order_relaxed); }

 private:
  Status Run() override;

  std::unique_ptr<FrameCursor> cursor_;
  ReplayOptions options_;
  std::atomic<uint64_t> loops_{0};
};

}  // namespace lplex::sources
