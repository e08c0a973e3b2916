// lplex import: capture files → fast-packet reassembly → journal writer.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "can/fast_packet.h"
#include "commands.h"
#include "core/duration.h"
#include "core/time.h"
#include "flag_values.h"
#include "journal/writer.h"
#include "sources/capture_reader.h"

namespace lplex::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  uint64_t frames_in = 0;
  uint64_t not_nmea = 0;  // 11-bit frames
  uint64_t messages = 0;
  uint64_t problems = 0;
  uint64_t capture_bytes = 0;
};

int Fail(std::FILE* err, const std::string& msg) {
  std::fprintf(err, "lplex import: %s\n", msg.c_str());
  return 2;
}

// Checks that one capture can be imported as given: it opens, its format is
// known, and it has a base time if its frames' times need one. Runs before
// anything is written, so a bad second capture cannot leave the first one's
// journal behind. Reads up to the first frame when the start of the file
// cannot settle whether a base time is needed: a capture with no frames needs
// none, and a candump file's style (timed or not) may only show at its first
// frame.
Status CheckCapture(const std::string& path, const sources::CaptureOptions& co, bool have_base_time) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(fmt::format("{} is a directory, not a capture file", path));
  }
  auto reader = sources::CaptureReader::Open(path, co);
  if (!reader.ok()) return reader.status();
  sources::CaptureReader& r = **reader;
  if (!r.needs_base_time() || have_base_time) return Status::Ok();
  can::RawFrame first;
  const bool any = r.Next(&first);
  if (!r.status().ok()) return r.status();
  if (!any || !r.needs_base_time()) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "{} ({}) has {}; give --base-time (RFC 3339, e.g. 2024-06-01T12:00:00Z) for {}", path, r.dialect(),
      r.has_timestamps() ? "times of day only" : "no timestamps",
      r.has_timestamps() ? "its date" : "its first frame (frames are spaced by --frame-interval-us)"));
}

}  // namespace

int RunImport(const ImportOptions& o, std::FILE* out, std::FILE* err) {
  if (o.captures.empty()) return Fail(err, "no capture files given");
  if (o.out_dir.empty()) return Fail(err, "--out DIR is required: the directory to write journal files to");

  auto format = sources::ParseCaptureFormat(o.format);
  if (!format.ok()) return Fail(err, format.status().message());
  auto compression = journal::ParseCompression(o.compression);
  if (!compression.ok()) return Fail(err, compression.status().message());
  std::optional<int64_t> base_time;
  if (!o.base_time.empty()) {
    base_time = timefmt::ParseRfc3339(o.base_time);
    if (!base_time) {
      return Fail(err, fmt::format("--base-time \"{}\" is not an RFC 3339 time (e.g. 2024-06-01T12:00:00Z)",
                                   o.base_time));
    }
  }
  for (const Status& s : {CheckFlagValue(kBlockSizeFlag, o.block_size), CheckFlagValue(kZstdLevelFlag, o.zstd_level),
                          CheckFlagValue(kRotateSizeFlag, o.rotate_size),
                          CheckFlagValue(kFrameIntervalFlag, o.frame_interval_us)}) {
    if (!s.ok()) return Fail(err, s.message());
  }
  sources::CaptureOptions co;
  co.format = *format;
  co.base_time_us = base_time.value_or(0);
  co.frame_interval_us = o.frame_interval_us;

  journal::WriterOptions wo;
  wo.dir = o.out_dir;
  wo.prefix = o.prefix;
  wo.block_size = o.block_size;
  wo.compression = *compression;
  wo.zstd_level = o.zstd_level;
  wo.rotate_size = o.rotate_size;
  if (!o.rotate_duration.empty()) {
    auto d = ParseIso8601Duration(o.rotate_duration);
    if (!d.ok()) return Fail(err, "--rotate-duration: " + d.status().message());
    wo.rotate_duration_us = std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
  }
  // Every capture is checked before the first byte is written; all bad ones are named.
  int bad_captures = 0;
  for (const std::string& path : o.captures) {
    Status s = CheckCapture(path, co, base_time.has_value());
    if (!s.ok()) {
      ++bad_captures;
      std::fprintf(err, "lplex import: %s\n", s.ToString().c_str());
    }
  }
  if (bad_captures > 0) {
    return Fail(err, fmt::format("nothing written: {} of {} captures cannot be imported as given", bad_captures,
                                 o.captures.size()));
  }

  // Imports write dense blocks: there is no quiet bus to protect against.
  wo.flush_interval_us = 0;
  std::vector<std::string> written;
  wo.on_rotate = [&](const journal::RotatedFile& f) {
    written.push_back(f.path);
    std::fprintf(out, "wrote %s\n", f.path.c_str());
  };
  auto writer = journal::JournalWriter::Create(wo);
  if (!writer.ok()) return Fail(err, writer.status().message());

  can::FastPacketAssembler assembler;
  Totals t;
  uint64_t seq = o.first_seq;
  uint64_t write_errors = 0;
  auto last_progress = Clock::now();
  const auto started = Clock::now();

  for (const std::string& path : o.captures) {
    auto reader = sources::CaptureReader::Open(path, co);
    if (!reader.ok()) return Fail(err, reader.status().ToString());
    sources::CaptureReader& r = **reader;
    r.set_problem_handler([&](const sources::CaptureProblem& p) {
      if (r.problem_count() <= 20) std::fprintf(err, "lplex import: skipped %s\n", p.ToString().c_str());
      if (r.problem_count() == 21) std::fprintf(err, "lplex import: (further problems in %s counted only)\n", path.c_str());
    });

    can::RawFrame raw;
    can::Message msg;
    while (r.Next(&raw)) {
      ++t.frames_in;
      if (!raw.extended) {
        ++t.not_nmea;
        continue;
      }
      // Transfers abandoned mid-way are dropped once they time out.
      if ((t.frames_in & 0xFFF) == 0) assembler.PurgeStale(raw.timestamp_us);
      if (!assembler.Process(raw, &msg)) continue;
      ++t.messages;
      Status s = (*writer)->Append({msg.timestamp_us, can::BuildCanId(msg.header), seq++, msg.data});
      if (!s.ok()) {
        ++write_errors;
        if (write_errors <= 5) std::fprintf(err, "lplex import: %s\n", s.ToString().c_str());
        if (s.IsIOError()) return Fail(err, "stopping: the journal cannot be written");
      }
      if ((t.frames_in & 0x3FFF) == 0 && Clock::now() - last_progress > std::chrono::seconds(1)) {
        last_progress = Clock::now();
        std::fprintf(err, "lplex import: %s %.0f%% (%llu frames, %llu messages)\n", path.c_str(),
                     r.total_bytes() ? 100.0 * static_cast<double>(r.bytes_read()) / static_cast<double>(r.total_bytes()) : 0.0,
                     static_cast<unsigned long long>(t.frames_in), static_cast<unsigned long long>(t.messages));
      }
    }
    t.problems += r.problem_count();
    t.capture_bytes += r.total_bytes();
    if (!r.status().ok()) return Fail(err, r.status().ToString());
  }
  // A transfer still open here lost its last frames with the end of the input.
  assembler.Flush();
  Status closed = (*writer)->Close();
  if (!closed.ok()) return Fail(err, closed.ToString());

  const journal::WriterStats& ws = (*writer)->stats();
  const auto& fp = assembler.stats();
  // Frames that went into no message: rejected on arrival, or part of a dropped transfer.
  const uint64_t unused_frames = fp.frames - fp.standard_frames - fp.single_frame - (fp.fragments - fp.discarded_fragments);
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  const double raw_bytes = static_cast<double>(ws.blocks_written) * o.block_size;
  std::fprintf(out,
               "frames in:        %llu (%llu 11-bit frames skipped, %llu malformed lines/records skipped)\n"
               "messages out:     %llu (%llu fast-packet transfers reassembled; %llu dropped incomplete, "
               "%llu frames unused)\n"
               "devices:          %zu sources\n"
               "files:            %llu\n"
               "bytes:            %llu written (%llu blocks of %u bytes; ratio %.2fx)\n"
               "time:             %.2f s\n",
               static_cast<unsigned long long>(t.frames_in), static_cast<unsigned long long>(t.not_nmea),
               static_cast<unsigned long long>(t.problems), static_cast<unsigned long long>(ws.frames_written),
               static_cast<unsigned long long>(fp.completed), static_cast<unsigned long long>(fp.discarded()),
               static_cast<unsigned long long>(unused_frames),
               (*writer)->registry().size(), static_cast<unsigned long long>(ws.files_finished),
               static_cast<unsigned long long>(ws.bytes_written), static_cast<unsigned long long>(ws.blocks_written),
               o.block_size, ws.bytes_written ? raw_bytes / static_cast<double>(ws.bytes_written) : 0.0, secs);
  return write_errors == 0 ? 0 : 1;
}

}  // namespace lplex::cli
