// StreamLogger: where the commands' log lines go. A command writes its
// results to `out` (tests and scripts read them) and everything else to
// `err`; the keeper's and the archivers' lines are "everything else", so they
// are written to `err` — stderr in the program — never to stdout.
#pragma once

#include <cstdio>
#include <string_view>

#include "core/log.h"

namespace lplex::cli {

class StreamLogger final : public Logger {
 public:
  // Writes lines at `min_level` and above to `stream` (not owned). The
  // default follows SetDefaultLogLevel, so one switch quiets every logger.
  explicit StreamLogger(std::FILE* stream, LogLevel min_level = DefaultLogLevel())
      : stream_(stream), min_level_(min_level) {}

  void Log(LogLevel level, std::string_view message) override {
    if (level == LogLevel::kOff || level < min_level_) return;
    // One call per line: stdio locks the stream for it, so lines from the
    // keeper's thread and the caller's never interleave.
    std::fprintf(stream_, "%.*s\n", static_cast<int>(message.size()), message.data());
  }

 private:
  std::FILE* stream_;
  LogLevel min_level_;
};

}  // namespace lplex::cli
