// lplex dump: every frame of one or more journals, in time order.
#include <fmt/format.h>

#include <memory>
#include <queue>

#include "can/frame_json.h"
#include "commands.h"
#include "core/hex.h"
#include "core/time.h"
#include "journal/reader.h"

namespace lplex::cli {
namespace {

struct Source {
  std::string path;
  std::unique_ptr<journal::JournalReader> reader;
  bool broken = false;
};

// Advances `s` to its next frame, reporting (and skipping) corrupt blocks.
bool Advance(Source& s, std::FILE* err) {
  while (true) {
    if (s.reader->Next()) return true;
    if (s.reader->status().ok()) return false;
    std::fprintf(err, "lplex dump: %s: %s (skipping the block)\n", s.path.c_str(),
                 s.reader->status().ToString().c_str());
    s.broken = true;
    s.reader->SkipBlock();
  }
}

void AppendText(const journal::JournalFrame& f, std::string* line) {
  timefmt::AppendRfc3339Nano(f.timestamp_us, line);
  fmt::format_to(std::back_inserter(*line), " seq={} prio={} pgn={} src={} dst={} len={} ", f.seq,
                 f.header.priority, f.header.pgn, f.header.source, f.header.destination, f.data.size());
  hex::AppendEncoded(f.data, line);
}

}  // namespace

int RunDump(const DumpOptions& o, std::FILE* out, std::FILE* err) {
  std::vector<std::string> files = ExpandJournalPaths(o.paths, err);
  if (files.empty()) {
    std::fprintf(err, "lplex dump: no journal files given\n");
    return 2;
  }
  std::vector<Source> sources;
  int rc = 0;
  for (const std::string& p : files) {
    auto r = journal::JournalReader::OpenPath(p);
    if (!r.ok()) {
      std::fprintf(err, "lplex dump: %s: %s\n", p.c_str(), r.status().ToString().c_str());
      rc = 1;
      continue;
    }
    sources.push_back({p, std::move(r).value(), false});
  }

  // Merge by timestamp; ties keep file order, so one file's frames stay in order.
  using Item = std::pair<int64_t, size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (Advance(sources[i], err)) heap.push({sources[i].reader->frame().timestamp_us, i});
  }
  std::string buf;
  buf.reserve(1 << 20);
  while (!heap.empty()) {
    const size_t i = heap.top().second;
    heap.pop();
    const journal::JournalFrame& f = sources[i].reader->frame();
    if (o.json) {
      can::AppendFrameJson(f.seq, f.timestamp_us, f.header, f.data, &buf);
    } else {
      AppendText(f, &buf);
    }
    buf.push_back('\n');
    if (buf.size() > (1 << 20) - 4096) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      buf.clear();
    }
    if (Advance(sources[i], err)) heap.push({sources[i].reader->frame().timestamp_us, i});
  }
  std::fwrite(buf.data(), 1, buf.size(), out);
  for (const Source& s : sources) {
    if (s.broken) rc = 1;
  }
  return rc;
}

}  // namespace lplex::cli
