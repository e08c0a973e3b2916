// CaptureReader: reads recorded CAN traffic from the capture formats found in
// the wild and yields it as timestamped raw CAN frames.
//
// Formats (see docs/sources.md):
//  - libpcap with LINKTYPE_CAN_SOCKETCAN (227), either byte order,
//    microsecond or nanosecond timestamps;
//  - candump text: "<0x18eeff01> [8] 05 a0 ..." (angle bracket, no times),
//    "  can0  09F8027F   [8]  00 FC ..." (default, no times),
//    "(1502984866.421964) can0 09F8027F#00FC..." (-l log) and
//    "(1502984866.421964)  can0  09F8027F   [8]  00 FC ..." (-ta);
//  - Yacht Devices RAW: "00:29:58.617 R 0DFF180D A2 8C ..." (time of day only).
//
// Input is streamed through a 1 MiB buffer, so captures of any size work in
// constant memory. Parsing allocates nothing per frame.
//
// Errors come in two kinds:
//  - a malformed line or record is a *problem*: it is reported (file, line or
//    record number, reason), skipped, and reading goes on;
//  - an I/O error or a broken pcap header is *fatal*: Next() returns false and
//    status() says why. A clean end leaves status() OK.
// Error frames and remote-transmission requests carry no NMEA 2000 data; they
// are skipped silently and only counted.
//
// Timestamps: formats with full timestamps use them. Formats without any
// (candump angle-bracket and default styles) yield
// base_time_us + i * frame_interval_us for the i-th frame. Yacht Devices RAW
// carries only the time of day; the date is taken from base_time_us (UTC) and
// advanced by one day whenever the time of day goes back by more than 12 h.
// The reader cannot tell a deliberate base_time_us of 0 from a missing one:
// callers must demand one from their user when needs_base_time() is still
// true after the first frame (a capture without frames needs none).
//
// Not thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "can/frame.h"
#include "core/file_system.h"
#include "core/status.h"

namespace lplex::sources {

class BufferedInput;

enum class CaptureFormat { kAuto, kPcap, kCandump, kYdRaw };

// "auto", "pcap", "candump" or "ydraw".
std::string_view CaptureFormatName(CaptureFormat format);
// Inverse of CaptureFormatName. The error names the text and lists the valid names.
Result<CaptureFormat> ParseCaptureFormat(std::string_view name);

struct CaptureOptions {
  // kAuto looks at the content: the pcap magic, else the first lines.
  CaptureFormat format = CaptureFormat::kAuto;
  // µs since the Unix epoch. Time of the first frame for formats without
  // timestamps; the (UTC) date for formats with the time of day only.
  int64_t base_time_us = 0;
  // Spacing given to frames of formats without timestamps.
  int64_t frame_interval_us = 1000;
};

// One malformed line or record that was skipped.
struct CaptureProblem {
  std::string file;     // the name given to Open/FromBytes
  uint64_t line = 0;    // 1-based text line, or 1-based pcap record number when `record`
  bool record = false;  // true for binary formats (line counts records)
  std::string reason;

  // "file:12: reason" for text, "file: record 12: reason" for pcap.
  std::string ToString() const;
};

class CaptureReader {
 public:
  // At most this many problems are kept by problems(); all are counted and
  // all reach the problem handler.
  static constexpr size_t kMaxStoredProblems = 1000;

  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  virtual ~CaptureReader();

  // Opens the capture at `path` through `fs` (FileSystem::Default() when
  // null). Fails when the file cannot be opened, when options.format is kAuto
  // and the content matches no format (or the file is empty), and when a pcap
  // header is broken or names a link type other than 227. With an explicit
  // text format an empty file opens fine and yields nothing.
  static Result<std::unique_ptr<CaptureReader>> Open(const std::string& path, const CaptureOptions& options,
                                                     FileSystem* fs = nullptr);
  // Same, over bytes in memory. `name` is only used in messages.
  static Result<std::unique_ptr<CaptureReader>> FromBytes(std::string name, std::vector<uint8_t> bytes,
                                                          const CaptureOptions& options);

  // Stores the next frame in *out and returns true; returns false at the end
  // of the capture or on a fatal error (see status()). Malformed input on the
  // way is reported and skipped.
  virtual bool Next(can::RawFrame* out) = 0;

  // The fatal error that stopped Next(), or OK.
  const Status& status() const { return status_; }

  // The concrete format (never kAuto).
  CaptureFormat format() const { return format_; }
  // A finer name: "pcap", "pcap (nanosecond)", "candump -l", "candump angle-bracket",
  // "candump default", "candump -ta", "candump" (style not yet seen), "Yacht Devices RAW".
  virtual std::string_view dialect() const = 0;
  // False when frames get synthetic times from base_time_us and frame_interval_us.
  virtual bool has_timestamps() const = 0;
  // True when the capture holds times of day only and the date comes from base_time_us.
  virtual bool time_of_day_only() const { return false; }
  // True when the frames' times depend on CaptureOptions::base_time_us, as
  // far as the reader can tell from what it has read. Two cases are only
  // settled by the first frame, so read up to it before demanding a base time
  // from a user: a capture with no frames at all needs none, and a candump
  // file whose style did not show in the detection window (format named, many
  // junk lines first) counts as untimed until its first frame line is parsed.
  bool needs_base_time() const { return !has_timestamps() || time_of_day_only(); }

  // Progress: bytes consumed so far, and the size of the capture.
  uint64_t bytes_read() const;
  uint64_t total_bytes() const;

  // Frames returned by Next() so far.
  uint64_t frames() const { return frames_; }
  // Frames seen but not returned because they carry no data.
  uint64_t skipped_remote_frames() const { return skipped_remote_; }
  uint64_t skipped_error_frames() const { return skipped_error_; }

  // Problems so far: all are counted, the first kMaxStoredProblems are kept.
  uint64_t problem_count() const { return problem_count_; }
  const std::vector<CaptureProblem>& problems() const { return problems_; }
  // Called for every problem from now on, in addition to storing it.
  void set_problem_handler(std::function<void(const CaptureProblem&)> handler) { handler_ = std::move(handler); }

  const std::string& name() const { return name_; }

 protected:
  CaptureReader(std::string name, CaptureFormat format, std::unique_ptr<BufferedInput> input);

  void ReportProblem(uint64_t line, bool record, std::string reason);
  // Records a fatal error; Next() must return false from then on.
  void Fail(Status status) { status_ = std::move(status); }

  BufferedInput& input() { return *input_; }

  uint64_t frames_ = 0;
  uint64_t skipped_remote_ = 0;
  uint64_t skipped_error_ = 0;

 private:
  std::string name_;
  CaptureFormat format_;
  std::unique_ptr<BufferedInput> input_;
  Status status_;
  uint64_t problem_count_ = 0;
  std::vector<CaptureProblem> problems_;
  std::function<void(const CaptureProblem&)> handler_;
};

}  // namespace lplex::sources
