// lplex import: capture files → fast-packet reassembly → journal writer.
//
// Two passes over the captures: the first reads every capture through
// (cheap next to compression) to check it can be imported as given and to
// learn its time span; only then is anything written. The second pass writes.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>

#include "can/fast_packet.h"
#include "commands.h"
#include "core/time.h"
#include "flag_values.h"
#include "journal/writer.h"
#include "sources/capture_reader.h"

namespace lplex::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kFailed = 1;
constexpr int kUsageError = 2;

struct Totals {
  uint64_t frames_in = 0;
  uint64_t not_nmea = 0;  // 11-bit frames
  uint64_t messages = 0;
  uint64_t problems = 0;
  uint64_t capture_bytes = 0;  // bytes of the captures actually read
};

// Usage errors: the command line cannot be run as given; nothing was written.
int Usage(std::FILE* err, const std::string& msg) {
  std::fprintf(err, "lplex import: %s\n", msg.c_str());
  return kUsageError;
}

// Data and I/O errors.
int Failed(std::FILE* err, const std::string& msg) {
  std::fprintf(err, "lplex import: %s\n", msg.c_str());
  return kFailed;
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// --- SIGINT / SIGTERM: the handler only records the signal; the read loops
// poll it, stop reading, and the writer finishes the open file as usual.

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void RecordSignal(int sig) { g_signal.store(sig, std::memory_order_relaxed); }

// Installs the handler for its lifetime and restores the previous ones.
// SA_RESETHAND: a second Ctrl-C (or SIGTERM) kills the process at once, for a
// user who does not want to wait for the open file to be finished.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_signal.store(0, std::memory_order_relaxed);
    struct sigaction sa {};
    sa.sa_handler = RecordSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART;  // file I/O must not see EINTR
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // The signal received so far, or 0.
  int signal() const { return g_signal.load(std::memory_order_relaxed); }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

const char* SignalName(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

// --- Checking the captures before writing.

// What the first pass learned about one capture.
struct CaptureScan {
  std::string path;
  uint64_t frames = 0;
  uint64_t problems = 0;
  std::string first_problem;
  int64_t min_ts = INT64_MAX;  // over all frames: a capture's clock may step back
  int64_t max_ts = INT64_MIN;
  std::string format;          // "candump", as the user may type it
  std::string dialect;         // "candump -l"
};

// Why a capture cannot be imported; `usage` when a flag would fix it.
struct CaptureRefusal {
  Status status;
  bool usage = false;
};

// A hint for a capture whose records did not match the format it was read
// as: what format detection makes of it.
std::string FormatHint(const std::string& path, const CaptureScan& scan) {
  auto detected = sources::CaptureReader::Open(path, {});
  if (!detected.ok()) return "and format detection does not recognise it either";
  const std::string name(sources::CaptureFormatName((*detected)->format()));
  if (name == scan.format) return fmt::format("format detection also takes it for {}", (*detected)->dialect());
  return fmt::format("the file looks like {}: try --format {} (or leave --format out)", (*detected)->dialect(), name);
}

// Reads one capture through. Refuses (before anything is written) a capture
// that does not open, is a directory, needs a --base-time that was not given,
// or in which no record matched the format although it is not empty.
CaptureRefusal ScanCapture(const std::string& path, const sources::CaptureOptions& co, bool have_base_time,
                           const InterruptGuard& interrupt, CaptureScan* scan) {
  scan->path = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return {Status::InvalidArgument(fmt::format("{} is a directory, not a capture file", path))};
  }
  auto reader = sources::CaptureReader::Open(path, co);
  if (!reader.ok()) return {reader.status()};
  sources::CaptureReader& r = **reader;
  r.set_problem_handler([&](const sources::CaptureProblem& p) {
    if (r.problem_count() == 1) {
      scan->first_problem = fmt::format("{} {}: {}", p.record ? "record" : "line", p.line, p.reason);
    }
  });
  scan->format = std::string(sources::CaptureFormatName(r.format()));
  can::RawFrame f;
  while (interrupt.signal() == 0 && r.Next(&f)) {
    if (scan->frames++ == 0 && r.needs_base_time() && !have_base_time) {
      // Decided at the first frame: a capture with no frames needs none.
      return {Status::InvalidArgument(fmt::format(
                  "{} ({}) has {}; give --base-time (RFC 3339, e.g. 2024-06-01T12:00:00Z) for {}", path,
                  r.dialect(), r.has_timestamps() ? "times of day only" : "no timestamps",
                  r.has_timestamps() ? "its date" : "its first frame (frames are spaced by --frame-interval-us)")),
              true};
    }
    scan->min_ts = std::min(scan->min_ts, f.timestamp_us);
    scan->max_ts = std::max(scan->max_ts, f.timestamp_us);
  }
  scan->problems = r.problem_count();
  scan->dialect = std::string(r.dialect());
  // A fatal error part-way (a broken pcap record) is not a refusal: the
  // frames before it are imported, and the second pass reports it.
  if (scan->frames == 0 && scan->problems > 0 && interrupt.signal() == 0) {
    return {Status::InvalidArgument(fmt::format("{}: no record matched {} ({} skipped; the first, {}); {}", path,
                                                scan->format,
                                                Plural(scan->problems, "malformed line/record", "malformed lines/records"),
                                                scan->first_problem, FormatHint(path, *scan)))};
  }
  return {};
}

// Journals in `dir` whose name time lies inside a capture's time span: a
// second import of the same capture would store its frames twice. Compares
// file names only (a journal is named after its first frame), so it catches
// re-runs, not every partial overlap.
std::vector<std::pair<std::string, const CaptureScan*>> OverlappingJournals(const std::string& dir,
                                                                           const std::vector<CaptureScan>& scans) {
  std::vector<std::pair<std::string, const CaptureScan*>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".lpj") continue;
    std::optional<int64_t> t = timefmt::TimeFromJournalName(name);
    if (!t) continue;
    for (const CaptureScan& s : scans) {
      if (s.frames == 0) continue;
      // Names carry milliseconds, cut: compare the span cut the same way.
      const int64_t first_ms = s.min_ts - ((s.min_ts % 1000) + 1000) % 1000;
      if (*t >= first_ms && *t <= s.max_ts) {
        found.emplace_back(entry.path().string(), &s);
        break;
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Journal file names are "{prefix}-{time}.lpj": a prefix is one plain name.
Status CheckPrefix(const std::string& prefix) {
  constexpr std::string_view kValid = "letters, digits, '.', '_' and '-', not starting with '.'; e.g. nmea2k";
  if (prefix.empty()) return Status::InvalidArgument(fmt::format("--prefix is empty (valid: {})", kValid));
  for (size_t i = 0; i < prefix.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(prefix[i]);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || (c == '.' && i > 0);
    if (ok) continue;
    const std::string shown = c >= 0x21 && c < 0x7F ? fmt::format("'{}'", static_cast<char>(c))
                                                     : fmt::format("byte 0x{:02X}", c);
    std::string quoted;
    for (unsigned char q : prefix) quoted += q >= 0x20 && q < 0x7F ? std::string(1, static_cast<char>(q))
                                                                   : fmt::format("\\x{:02X}", q);
    return Status::InvalidArgument(
        fmt::format("--prefix \"{}\": {} at position {} is not allowed (valid: {})", quoted, shown, i + 1, kValid));
  }
  return Status::Ok();
}

}  // namespace

int RunImport(const ImportOptions& o, std::FILE* out, std::FILE* err) {
  if (o.captures.empty()) return Usage(err, "no capture files given");
  if (o.out_dir.empty()) return Usage(err, "--out DIR is required: the directory to write journal files to");

  auto format = sources::ParseCaptureFormat(o.format);
  if (!format.ok()) return Usage(err, format.status().message());
  auto compression = journal::ParseCompression(o.compression);
  if (!compression.ok()) return Usage(err, compression.status().message());
  std::optional<int64_t> base_time;
  if (!o.base_time.empty()) {
    base_time = timefmt::ParseRfc3339(o.base_time);
    if (!base_time) {
      return Usage(err, fmt::format("--base-time \"{}\" is not an RFC 3339 time (e.g. 2024-06-01T12:00:00Z)",
                                    o.base_time));
    }
  }
  for (const Status& s : {CheckFlagValue(kBlockSizeFlag, o.block_size), CheckFlagValue(kZstdLevelFlag, o.zstd_level),
                          CheckFlagValue(kRotateSizeFlag, o.rotate_size),
                          CheckFlagValue(kFrameIntervalFlag, o.frame_interval_us), CheckPrefix(o.prefix)}) {
    if (!s.ok()) return Usage(err, s.message());
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
    auto d = ParseDurationFlagValue(kRotateDurationFlag, o.rotate_duration);
    if (!d.ok()) return Usage(err, d.status().message());
    wo.rotate_duration_us = *d;
  }

  InterruptGuard interrupt;

  // Every capture is read through before the first byte is written; all bad ones are named.
  std::vector<CaptureScan> scans(o.captures.size());
  int refused = 0;
  bool all_usage = true;
  for (size_t i = 0; i < o.captures.size() && interrupt.signal() == 0; ++i) {
    CaptureRefusal c = ScanCapture(o.captures[i], co, base_time.has_value(), interrupt, &scans[i]);
    if (!c.status.ok()) {
      ++refused;
      all_usage = all_usage && c.usage;
      std::fprintf(err, "lplex import: %s\n", c.status.message().c_str());
    }
  }
  if (interrupt.signal() != 0) {
    std::fprintf(err, "lplex import: interrupted by %s while checking the captures; nothing written\n",
                 SignalName(interrupt.signal()));
    return 128 + interrupt.signal();
  }
  if (refused > 0) {
    const std::string msg = fmt::format("nothing written: {} of {} cannot be imported as given", refused,
                                        Plural(o.captures.size(), "capture", "captures"));
    return all_usage ? Usage(err, msg) : Failed(err, msg);
  }
  // Most records malformed: probably the wrong --format. What did parse is
  // imported, but the import fails.
  int mostly_malformed = 0;
  for (const CaptureScan& s : scans) {
    if (s.problems > 0 && s.problems >= s.frames) {
      ++mostly_malformed;
      std::fprintf(err, "lplex import: %s: %s but only %s read as %s; %s\n", s.path.c_str(),
                   Plural(s.problems, "malformed line/record", "malformed lines/records").c_str(),
                   Plural(s.frames, "frame", "frames").c_str(), s.format.c_str(), FormatHint(s.path, s).c_str());
    }
  }

  if (!o.append) {
    auto overlapping = OverlappingJournals(o.out_dir, scans);
    if (!overlapping.empty()) {
      const CaptureScan& s = *overlapping.front().second;
      return Usage(err, fmt::format(
                            "--out {} already holds {} named inside the time span of {} ({} .. {}), the first {}; "
                            "importing again would store those frames twice (give --append to import anyway)",
                            o.out_dir, Plural(overlapping.size(), "journal", "journals"), s.path,
                            timefmt::Rfc3339Nano(s.min_ts), timefmt::Rfc3339Nano(s.max_ts),
                            overlapping.front().first));
    }
  }

  // The output directory, before the second pass reads a byte.
  {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec || !std::filesystem::is_directory(o.out_dir)) {
      return Failed(err, fmt::format("nothing written: cannot create --out {}: {}", o.out_dir,
                                     ec ? ec.message() : "it exists and is not a directory"));
    }
    if (::access(o.out_dir.c_str(), W_OK | X_OK) != 0) {
      return Failed(err, fmt::format("nothing written: cannot write to --out {}: {}", o.out_dir,
                                     std::strerror(errno)));
    }
  }

  // Imports write dense blocks: there is no quiet bus to protect against.
  wo.flush_interval_us = 0;
  wo.on_rotate = [&](const journal::RotatedFile& f) {
    std::fprintf(out, "wrote %s\n", f.path.c_str());
    std::fflush(out);  // a watcher (or a pipe) sees each finished file at once
  };
  auto writer = journal::JournalWriter::Create(wo);
  if (!writer.ok()) return Usage(err, writer.status().message());

  can::FastPacketAssembler assembler;
  Totals t;
  uint64_t seq = o.first_seq;
  uint64_t write_errors = 0;
  std::vector<std::string> errors;  // repeated in the summary
  bool stop = false;                // the journal cannot be written
  auto last_progress = Clock::now();
  const auto started = Clock::now();

  for (const std::string& path : o.captures) {
    if (stop || interrupt.signal() != 0) break;
    auto reader = sources::CaptureReader::Open(path, co);
    if (!reader.ok()) {  // it opened in the first pass: changed or removed since
      errors.push_back(reader.status().ToString());
      std::fprintf(err, "lplex import: %s\n", errors.back().c_str());
      continue;
    }
    sources::CaptureReader& r = **reader;
    r.set_problem_handler([&](const sources::CaptureProblem& p) {
      if (r.problem_count() <= 20) std::fprintf(err, "lplex import: skipped %s\n", p.ToString().c_str());
      if (r.problem_count() == 21) std::fprintf(err, "lplex import: (further problems in %s counted only)\n", path.c_str());
    });

    can::RawFrame raw;
    can::Frame msg;
    while (!stop && interrupt.signal() == 0 && r.Next(&raw)) {
      ++t.frames_in;
      if (!raw.extended) {
        ++t.not_nmea;
        continue;
      }
      // Transfers abandoned mid-way are dropped once they time out.
      if ((t.frames_in & 0xFFF) == 0) assembler.PurgeStale(raw.timestamp_us);
      if (!assembler.Process(raw, &msg)) continue;
      ++t.messages;
      msg.seq = seq++;
      Status s = (*writer)->Append(msg);
      if (!s.ok()) {
        ++write_errors;
        if (write_errors <= 5) std::fprintf(err, "lplex import: %s\n", s.ToString().c_str());
        if (s.IsIOError()) {
          errors.push_back("stopped: the journal cannot be written: " + s.ToString());
          std::fprintf(err, "lplex import: %s\n", errors.back().c_str());
          stop = true;
        }
      }
      if ((t.frames_in & 0x3FFF) == 0 && Clock::now() - last_progress > std::chrono::seconds(1)) {
        last_progress = Clock::now();
        std::fprintf(err, "lplex import: %s %.0f%% (%llu frames, %llu messages)\n", path.c_str(),
                     r.total_bytes() ? 100.0 * static_cast<double>(r.bytes_read()) / static_cast<double>(r.total_bytes()) : 0.0,
                     static_cast<unsigned long long>(t.frames_in), static_cast<unsigned long long>(t.messages));
      }
    }
    t.problems += r.problem_count();
    t.capture_bytes += r.bytes_read();
    if (!r.status().ok()) {
      // The frames before the break are journaled; the next capture goes on.
      errors.push_back(fmt::format("{} (frames before it were imported)", r.status().ToString()));
      std::fprintf(err, "lplex import: %s\n", errors.back().c_str());
    }
  }
  const int sig = interrupt.signal();
  if (sig != 0) {
    std::fprintf(err, "lplex import: interrupted by %s: stopped reading, finishing the open file\n", SignalName(sig));
  } else {
    // A transfer still open here lost its last frames with the end of the input.
    assembler.Flush();
  }
  Status closed = (*writer)->Close();
  if (!closed.ok()) {
    errors.push_back("the last file could not be finished: " + closed.ToString());
    std::fprintf(err, "lplex import: %s\n", errors.back().c_str());
  }

  const journal::WriterStats& ws = (*writer)->stats();
  const auto& fp = assembler.stats();
  // Frames that went into no message: rejected on arrival, or part of a dropped transfer.
  const uint64_t unused_frames = fp.frames - fp.standard_frames - fp.single_frame - (fp.fragments - fp.discarded_fragments);
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  size_t named = 0;
  (*writer)->registry().ForEachNamed([&](const can::Device&) { ++named; });
  // Capture bytes read over journal bytes written: a ratio of bytes that
  // exist, whatever the fill of the last block.
  const std::string ratio =
      ws.bytes_written ? fmt::format("{:.2f}x smaller than the capture",
                                     static_cast<double>(t.capture_bytes) / static_cast<double>(ws.bytes_written))
                       : std::string("nothing written");
  std::string result = "complete";
  if (sig != 0) {
    result = fmt::format("interrupted by {} (files written so far are complete)", SignalName(sig));
  } else if (!errors.empty() || write_errors > 0 || mostly_malformed > 0) {
    result = fmt::format("failed: {}", errors.empty() ? mostly_malformed > 0 ? "most records of a capture were malformed"
                                                                              : "some messages could not be written"
                                                      : errors.front());
  }
  std::fprintf(out,
               "frames in:        %llu (%s skipped, %s skipped)\n"
               "messages out:     %llu (%s reassembled; %llu dropped incomplete, %s unused)\n"
               "devices:          %s, %zu with a NAME (address claim)\n"
               "files:            %llu\n"
               "bytes:            %llu written from %llu capture bytes (%s; %s of up to %u bytes)\n"
               "time:             %.2f s\n"
               "result:           %s\n",
               static_cast<unsigned long long>(t.frames_in), Plural(t.not_nmea, "11-bit frame", "11-bit frames").c_str(),
               Plural(t.problems, "malformed line/record", "malformed lines/records").c_str(),
               static_cast<unsigned long long>(ws.frames_written),
               Plural(fp.completed, "fast-packet transfer", "fast-packet transfers").c_str(),
               static_cast<unsigned long long>(fp.discarded()), Plural(unused_frames, "frame", "frames").c_str(),
               Plural((*writer)->registry().size(), "source address", "source addresses").c_str(), named,
               static_cast<unsigned long long>(ws.files_finished), static_cast<unsigned long long>(ws.bytes_written),
               static_cast<unsigned long long>(t.capture_bytes), ratio.c_str(),
               Plural(ws.blocks_written, "block", "blocks").c_str(), o.block_size, secs, result.c_str());
  std::fflush(out);
  if (sig != 0) return 128 + sig;
  return errors.empty() && write_errors == 0 && mostly_malformed == 0 ? 0 : kFailed;
}

}  // namespace lplex::cli
