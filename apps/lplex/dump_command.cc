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
#include <fmt/format.h>

#include <cerrno>
#include <memory>
#include <queue>

#include "can/frame_json.h"
#include "commands.h"
#include "core/hex.h"
#include "core/time.h"
#include "journal/reader.h"
#include "journal_paths.h"

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
  std::unique_ptr<DumpReporter> reporter;  // outlives `reader`, which points to it
  std::unique_ptr<journal::JournalReader> reader;
};

// Advances `s` to its next frame, reporting (and skipping) blocks that
// cannot be loaded.
bool Advance(Source& s, std::FILE* err) {
  while (true) {
    if (s.reader->Next()) return true;
    if (s.reader->status().ok()) return false;
    // The message starts with the file name.
    std::fprintf(err, "lplex dump: %s (skipping the block)\n", s.reader->status().message().c_str());
    s.reporter->NoteLost();
    s.reader->SkipBlock();
  }
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
  std::vector<std::string> files = ExpandJournalPaths(o.paths, "lplex dump", err);
  if (files.empty()) {
    std::fprintf(err, "lplex dump: no journal files given\n");
    return 2;
  }
  std::vector<Source> sources;
  size_t unreadable = 0;
  for (const std::string& p : files) {
    auto reporter = std::make_unique<DumpReporter>(err);
    auto r = journal::JournalReader::OpenPath(p, nullptr, reporter.get());
    if (!r.ok()) {
      // The message starts with the file name (the reader's and the file system's both do).
      std::fprintf(err, "lplex dump: %s\n", r.status().message().c_str());
      ++unreadable;
      continue;
    }
    sources.push_back({p, std::move(reporter), std::move(r).value()});
  }

  // Merge by timestamp; ties keep file order, so one file's frames stay in order.
  using Item = std::pair<int64_t, size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (Advance(sources[i], err)) heap.push({sources[i].reader->frame().timestamp_us, i});
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
  while (!heap.empty() && write_errno == 0) {
    const size_t i = heap.top().second;
    heap.pop();
    const can::Frame& f = sources[i].reader->frame();
    if (o.json) {
      can::AppendFrameJson(f.seq, f.timestamp_us, f.header, f.data, &buf);
    } else {
      AppendText(f, &buf);
    }
    buf.push_back('\n');
    if (buf.size() > (1 << 20) - 4096) write_out();
    if (Advance(sources[i], err)) heap.push({sources[i].reader->frame().timestamp_us, i});
  }
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
