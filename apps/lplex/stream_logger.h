// StreamLogger: where the commands' log lines go. A command writes its
// results to `out` (tests and scripts read them) and everything else to
// `err`; the keeper's and the archivers' lines are "everything else", so they
// are written to `err` — stderr in the program — never to stdout. A line
// with control characters (a crafted file name) is written escaped.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/log.h"
#include "core/strings.h"

namespace lplex::cli {

class StreamLogger final : public Logger {
 public:
  // Writes lines at `min_level` and above to `stream` (not owned). The
  // default follows SetDefaultLogLevel, so one switch quiets every logger.
  explicit StreamLogger(std::FILE* stream, LogLevel min_level = DefaultLogLevel())
      : stream_(stream), min_level_(min_level) {}

  void Log(LogLevel level, std::string_view message) override {
    if (level == LogLevel::kOff || level < min_level_) return;
    // A message that quotes a crafted file name could hold a newline (a
    // forged log line) or a terminal escape: such a message is written
    // escaped (EscapeForDisplay). Others are left as they are, so a
    // backslash in an ordinary message is not doubled.
    std::string escaped;
    if (std::any_of(message.begin(), message.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      escaped = EscapeForDisplay(message);
      message = escaped;
    }
    // One call per line: stdio locks the stream for it, so lines from the
    // keeper's thread and the caller's never interleave.
    std::fprintf(stream_, "%.*s\n", static_cast<int>(message.size()), message.data());
  }

 private:
  std::FILE* stream_;
  LogLevel min_level_;
};

}  // namespace lplex::cli
