// lplex dump: every readable frame of one or more journals.
//
// Order: within one file, frames come out in file order (the order they
// were recorded, which follows the capture's own clock, so a clock step in
// a capture shows as a jump in time). Several files are merged: at each
// step the earliest of the files' next frames is printed, ties going to the
// file named first (a directory's files by first seq when all carry seqs,
// else oldest name first). When every file is in time order, so is the
// output.
//
// Damage: a block that cannot be loaded, a block whose frame records end
// early and bytes that are not a whole block are reported on stderr with the
// file, the block or offset and the reason; every other frame is still
// printed, and the exit status is 1. Damage that loses no frame (a damaged
// block index whose blocks a forward scan found, a wrong outer base time)
// is a warning and leaves the exit status at 0.
//
// Selection, in this order: --start/--end (a file is positioned with one
// O(log N) seek on its block index, frames outside the range are skipped,
// and the file ends at its first block that begins after --end), the six frame filters
// against the journal's device tables (replay_filter.h), then --where on the
// header and, when it names fields, the decoded message. --decode adds the
// decoded fields to every printed frame.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <queue>
#include <thread>
#include <tuple>

#include "can/frame_json.h"
#include "changes/change_format.h"
#include "changes/change_tracker.h"
#include "commands.h"
#include "core/hex.h"
#include "core/time.h"
#include "journal/reader.h"
#include "journal_paths.h"
#include "pgn/decoder.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"
#include "pgn/where_fields.h"
#include "replay_filter.h"
#include "sources/replay_source.h"
#include "where/where.h"

namespace lplex::cli {
namespace {

// Prints what the reader steps over as it happens and remembers whether
// any frame was lost.
class DumpReporter : public journal::JournalReader::Reporter {
 public:
  explicit DumpReporter(std::FILE* err) : err_(err) {}
  void Corruption(uint64_t dropped_bytes, const Status& problem) override {
    if (dropped_bytes > 0) {
      lost_ = true;
      std::fprintf(err_, "lplex dump: %s\n", problem.message().c_str());
    } else {
      std::fprintf(err_, "lplex dump: warning: %s (no frames lost)\n", problem.message().c_str());
    }
  }
  void NoteLost() { lost_ = true; }
  bool lost() const { return lost_; }

 private:
  std::FILE* err_;
  bool lost_ = false;
};

struct Source {
  std::string path;
  uint64_t size = 0;  // bytes, for progress
  std::unique_ptr<DumpReporter> reporter;  // outlives `reader`, which points to it
  std::unique_ptr<journal::JournalReader> reader;
  ReplayDevices devices;
  std::unique_ptr<pgn::StreamDecoder> decoder;  // one per file: fragments join within a file
  bool finished = false;
  int64_t last_us = INT64_MIN;  // the previous frame's time, to notice a clock step
  bool warned_step = false;
};

// Time bounds of the output, µs; inclusive.
struct TimeRange {
  int64_t start = INT64_MIN;
  int64_t end = INT64_MAX;
};

// Advances `s` to its next frame inside `range`, reporting (and skipping)
// blocks that cannot be loaded. Frames inside a block are not always in time
// order (a fast-packet message takes its last fragment's time), so the file
// ends at the first block that begins after the range, not at the first
// frame after it.
bool Advance(Source& s, const TimeRange& range, std::FILE* err) {
  const bool ranged = range.start != INT64_MIN || range.end != INT64_MAX;
  while (true) {
    if (s.reader->Next()) {
      const int64_t t = s.reader->frame().timestamp_us;
      if (ranged && !s.warned_step && s.last_us != INT64_MIN && t < s.last_us - 60'000'000) {
        // The seek and the early end assume time moves forward in a file.
        s.warned_step = true;
        std::fprintf(err,
                     "lplex dump: warning: %s goes back in time by %.1f h at seq %llu (the recording's clock "
                     "stepped): --start/--end may miss frames recorded on the other side of the step\n",
                     s.path.c_str(), static_cast<double>(s.last_us - t) / 3.6e9,
                     static_cast<unsigned long long>(s.reader->frame().seq));
      }
      s.last_us = t;
      if (t >= range.start && t <= range.end) return true;
      if (t > range.end && s.reader->frame_index() == 0) return false;  // a block that begins after the range
      continue;
    }
    if (s.reader->status().ok()) return false;
    // The message starts with the file name.
    std::fprintf(err, "lplex dump: %s (skipping the block)\n", s.reader->status().message().c_str());
    s.reporter->NoteLost();
    s.reader->SkipBlock();
  }
}

// "12.3 MB", "850 kB": sizes for the progress line.
std::string HumanBytes(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  return fmt::format("{:.0f} kB", bytes / 1e3);
}

// The progress line on a terminal: bytes read of all, frames/s, ETA.
class ProgressLine {
 public:
  ProgressLine(std::FILE* err, bool on, uint64_t total_bytes)
      : err_(err),
        on_(on),
        total_(total_bytes),
        started_(std::chrono::steady_clock::now()),
        last_(started_ - std::chrono::seconds(1)) {}  // the first line after 1,024 frames

  // Called per frame; draws at most twice a second. `done` gives the bytes
  // read so far (only asked for when drawing).
  template <typename DoneBytes>
  void Tick(uint64_t frames, DoneBytes done) {
    if (!on_ || (frames & 1023) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const uint64_t done_bytes = done();
    const double secs = std::chrono::duration<double>(now - started_).count();
    const double rate = secs > 0 ? static_cast<double>(done_bytes) / secs : 0;
    std::string eta = "?";
    if (rate > 0 && total_ >= done_bytes) {
      const auto left = static_cast<int64_t>(static_cast<double>(total_ - done_bytes) / rate);
      eta = fmt::format("{}:{:02}", left / 60, left % 60);
    }
    std::fprintf(err_, "\r\033[Klplex dump: %s of %s, %.0f frames/s, ETA %s",
                 HumanBytes(static_cast<double>(done_bytes)).c_str(), HumanBytes(static_cast<double>(total_)).c_str(),
                 secs > 0 ? static_cast<double>(frames) / secs : 0.0, eta.c_str());
    std::fflush(err_);
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) std::fprintf(err_, "\r\033[K");
    drawn_ = false;
  }

 private:
  std::FILE* err_;
  bool on_;
  uint64_t total_;
  std::chrono::steady_clock::time_point started_, last_;
  bool drawn_ = false;
};

// Bytes of `s` read so far: the offset of its current block.
uint64_t BytesDone(const Source& s) {
  if (s.finished) return s.size;
  const int64_t b = s.reader->current_block();
  if (b < 0) return 0;
  auto off = s.reader->BlockOffset(static_cast<uint64_t>(b));
  return off.ok() ? *off : 0;
}

// RFC 3339 with exactly six fraction digits, so the columns of the text
// form line up ("12:00:29.675440Z", not "12:00:29.67544Z"). The reader only
// hands out times in years 0001..9999.
void AppendTextTime(int64_t us, std::string* line) {
  const timefmt::CivilTime c = timefmt::ToCivil(us);
  fmt::format_to(std::back_inserter(*line), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", c.year, c.month, c.day,
                 c.hour, c.minute, c.second, c.micros);
}

void AppendText(const can::Frame& f, std::string* line) {
  AppendTextTime(f.timestamp_us, line);
  fmt::format_to(std::back_inserter(*line), " seq={} prio={} pgn={} src={} dst={} len={} ", f.seq,
                 f.header.priority, f.header.pgn, f.header.source, f.header.destination, f.data.size());
  hex::AppendEncoded(f.data, line);
}

}  // namespace

int RunDump(const DumpOptions& o, std::FILE* out, std::FILE* err) {
  // Usage errors first, before any file is opened.
  auto filters = ParseFilterFlags(o.filters);
  if (!filters.ok()) {
    std::fprintf(err, "lplex dump: %s\n", filters.status().message().c_str());
    return 2;
  }
  std::optional<where::Expression> where;
  if (!o.where.empty()) {
    auto parsed = where::Expression::Parse(o.where);
    if (!parsed.ok()) {
      std::fprintf(err, "lplex dump: invalid --where expression: %s\n", parsed.status().message().c_str());
      return 2;
    }
    where = std::move(parsed).value();
  }
  TimeRange range;
  for (auto [flag, text, slot] : {std::tuple{"--start", &o.start, &range.start}, std::tuple{"--end", &o.end, &range.end}}) {
    if (text->empty()) continue;
    auto t = timefmt::ParseRfc3339(*text);
    if (!t) {
      std::fprintf(err, "lplex dump: %s \"%s\": not an RFC 3339 time (e.g. 2026-11-30T12:00:00Z)\n", flag,
                   text->c_str());
      return 2;
    }
    *slot = *t;
  }
  if (range.start > range.end) {
    std::fprintf(err, "lplex dump: --start %s is after --end %s\n", o.start.c_str(), o.end.c_str());
    return 2;
  }
  if (!(o.speed >= 0) || o.speed > 1e6) {
    std::fprintf(err, "lplex dump: --speed %g out of range (valid: 0 for no pauses, or 0 < speed <= 1000000)\n",
                 o.speed);
    return 2;
  }
  const bool decode = o.decode || (where && where->NeedsDecode());

  std::vector<std::string> files = ExpandJournalPaths(o.paths, "lplex dump", err);
  if (files.empty()) {
    std::fprintf(err, "lplex dump: no journal files given\n");
    return 2;
  }
  std::vector<Source> sources;
  size_t unreadable = 0;
  uint64_t total_bytes = 0;
  for (const std::string& p : files) {
    auto reporter = std::make_unique<DumpReporter>(err);
    auto r = journal::JournalReader::OpenPath(p, nullptr, reporter.get());
    if (!r.ok()) {
      // The message starts with the file name (the reader's and the file system's both do).
      std::fprintf(err, "lplex dump: %s\n", r.status().message().c_str());
      ++unreadable;
      continue;
    }
    Source s{p, 0, std::move(reporter), std::move(r).value(), {}, nullptr, false, INT64_MIN, false};
    if (auto size = FileSystem::Default()->FileSize(p); size.ok()) s.size = *size;
    total_bytes += s.size;
    if (decode) s.decoder = std::make_unique<pgn::StreamDecoder>();
    if (filters->has_device_criteria() || !filters->exclude_name.empty()) s.devices.LearnFirstClaims(*s.reader);
    if (range.start != INT64_MIN) {
      // One binary search over the block index; frames before --start are then skipped.
      Status seek = s.reader->SeekToTime(range.start);
      if (!seek.ok()) std::fprintf(err, "lplex dump: %s\n", seek.message().c_str());
    }
    sources.push_back(std::move(s));
  }

  const bool progress = o.progress == DumpOptions::Progress::kAlways ||
                        (o.progress == DumpOptions::Progress::kAuto && isatty(fileno(err)) && !isatty(fileno(out)));
  ProgressLine line(err, progress, total_bytes);

  // Merge by timestamp; ties keep file order, so one file's frames stay in order.
  using Item = std::pair<int64_t, size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (Advance(sources[i], range, err)) heap.push({sources[i].reader->frame().timestamp_us, i});
  }
  std::string buf;
  buf.reserve(1 << 20);
  // A failed write (full disk, closed pipe) ends the output: nothing after
  // it could reach the reader anyway.
  int write_errno = 0;
  auto write_out = [&] {
    if (buf.empty() || write_errno != 0) return;
    errno = 0;
    if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size() || std::ferror(out)) {
      write_errno = errno != 0 ? errno : EIO;
    }
    buf.clear();
  };
  uint64_t frames = 0;
  int64_t last_printed_us = INT64_MIN;
  // Change mode: idle lines and only significant changes; time is the
  // frames' own (spec §5.6: replay ticks with each frame's timestamp).
  std::optional<changes::ChangeTracker> tracker;
  if (o.changes) tracker.emplace();
  const bool colour = isatty(fileno(out));
  while (!heap.empty() && write_errno == 0) {
    const size_t i = heap.top().second;
    heap.pop();
    Source& src = sources[i];
    const can::Frame& f = src.reader->frame();
    ++frames;
    src.devices.Update(*src.reader);
    const journal::DeviceEntry* device = src.devices.Find(f.header.source);
    bool print = MatchesReplay(*filters, f.header.pgn, device);
    // Decoding comes first: every fragment must reach the decoder's
    // joiner, also those change mode does not print.
    const pgn::DecodedMessage* decoded = nullptr;
    if (print && decode) {
      decoded = src.decoder->Decode(f.header.pgn, f.header.source, f.data, src.devices.Manufacturer(f.header.source));
    }
    std::optional<changes::ChangeEvent> change;
    if (print && tracker) {
      for (const changes::ChangeEvent& idle : tracker->Tick(f.timestamp_us)) {
        if (o.json) {
          buf.append(changes::IdleJsonLine(idle));
        } else {
          AppendTextTime(idle.time_us, &buf);
          fmt::format_to(std::back_inserter(buf), " {}src={} pgn={}  {}\n", changes::ChangeTag(idle, colour), idle.src,
                         idle.pgn, pgn::PgnDescription(idle.pgn));
        }
      }
      change = tracker->Process(f.timestamp_us, f.header.source, f.header.pgn, f.data, f.seq);
      print = change.has_value();
    }
    if (print && where) {
      std::optional<pgn::WhereFields> fields;
      if (decoded != nullptr) fields.emplace(*decoded);
      const where::Subject subject{f.header.pgn, f.header.source, f.header.destination, f.header.priority,
                                   fields ? &*fields : nullptr};
      print = where->Matches(subject);
    }
    if (print) {
      if (o.speed > 0) {
        // Replay at `speed` times the recorded pace, between printed frames.
        // A pause longer than the replay source's max gap (5 s: a capture's
        // clock step, a boat switched off overnight) is cut to that, as
        // lplex-server's replay: source does.
        if (last_printed_us != INT64_MIN && f.timestamp_us > last_printed_us) {
          write_out();
          std::fflush(out);
          const int64_t gap = std::min<int64_t>(f.timestamp_us - last_printed_us, sources::ReplayOptions{}.max_gap_us);
          std::this_thread::sleep_for(
              std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(gap) / o.speed)));
        }
        last_printed_us = f.timestamp_us;
      }
      if (o.json) {
        if (change) {
          const std::string ts = timefmt::Rfc3339Nano(f.timestamp_us);
          const std::string data = hex::Encode(f.data);
          changes::AppendChangeFrameJson(*change,
                                         changes::FrameText{f.seq, ts, f.header.priority, f.header.pgn,
                                                            f.header.source, f.header.destination, data},
                                         &buf);
          buf.push_back('}');
        } else {
          can::AppendFrameJson(f.seq, f.timestamp_us, f.header, f.data, &buf);
        }
        if (decode) {
          buf.pop_back();  // the object's closing brace
          if (decoded != nullptr) {
            buf.append(",\"decoded\":");
            pgn::AppendFieldsJson(*decoded, &buf, pgn::JsonStyle{.wrap_lookups = true});
          }
          buf.push_back('}');
        }
      } else {
        if (change) {
          // The tag goes after the time: "<time> [delta 2/8] seq=..."
          const size_t at = buf.size();
          AppendText(f, &buf);
          const size_t space = buf.find(' ', at);
          buf.insert(space + 1, changes::ChangeTag(*change, colour));
        } else {
          AppendText(f, &buf);
        }
        if (decoded != nullptr) {
          buf.append("  ");
          buf.append(decoded->definition()->description);
          buf.push_back(' ');
          pgn::AppendFieldsJson(*decoded, &buf, pgn::JsonStyle{.wrap_lookups = true});
        }
      }
      buf.push_back('\n');
      if (buf.size() > (1 << 20) - 4096 || o.speed > 0) write_out();
    }
    if (Advance(src, range, err)) {
      heap.push({src.reader->frame().timestamp_us, i});
    } else {
      src.finished = true;
    }
    line.Tick(frames, [&] {
      // Finished files whole, open ones up to their current block.
      uint64_t done = 0;
      for (const Source& s : sources) done += BytesDone(s);
      return std::min(done, total_bytes);
    });
  }
  line.Clear();
  write_out();
  if (FinishOutput(out, "lplex dump", err, 0, write_errno) != 0) return 1;
  size_t damaged = 0;
  for (const Source& s : sources) {
    if (s.reporter->lost()) ++damaged;
  }
  if (damaged + unreadable == 0) return 0;
  std::string summary = fmt::format("lplex dump: output incomplete: frames skipped in {} of {} files", damaged,
                                    files.size());
  if (unreadable > 0) summary += fmt::format(", {} could not be opened", unreadable);
  std::fprintf(err, "%s\n", summary.c_str());
  return 1;
}

}  // namespace lplex::cli
