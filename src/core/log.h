// Logger: the one logging seam. Library code writes messages through a
// Logger* it was given (never to a global, never to stderr directly), so a
// program decides where lines go and tests read them as values.
//
//  - Logger::Default() writes through spdlog to stderr; spdlog itself stays
//    an implementation detail of lplex_core.
//  - WithPrefix / WithInstance decorate a logger so every line carries the
//    component ("keeper: ") or the instance id ("[boat-1] "), which matters
//    once one process (the cloud) serves many instances.
//  - RecordingLogger keeps the lines in memory for tests.
//
// Every Logger here is safe to call from several threads at once; a message
// is one line without a trailing newline.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace lplex {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// "debug", "info", "warn", "error", "off".
std::string_view LogLevelName(LogLevel level);

class Logger {
 public:
  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  virtual ~Logger() = default;

  // Writes one message at `level` (kOff is never written).
  virtual void Log(LogLevel level, std::string_view message) = 0;

  void Debug(std::string_view message) { Log(LogLevel::kDebug, message); }
  void Info(std::string_view message) { Log(LogLevel::kInfo, message); }
  void Warn(std::string_view message) { Log(LogLevel::kWarn, message); }
  void Error(std::string_view message) { Log(LogLevel::kError, message); }

  // fmt-style: log->Warn("cannot delete {}: {}", path, s.ToString()). At
  // least one argument, so a lone string is never parsed as a format (a
  // path with '{' in it stays intact).
  template <typename A, typename... Args>
  void Debug(fmt::format_string<A, Args...> f, A&& a, Args&&... args) {
    Log(LogLevel::kDebug, fmt::format(f, std::forward<A>(a), std::forward<Args>(args)...));
  }
  template <typename A, typename... Args>
  void Info(fmt::format_string<A, Args...> f, A&& a, Args&&... args) {
    Log(LogLevel::kInfo, fmt::format(f, std::forward<A>(a), std::forward<Args>(args)...));
  }
  template <typename A, typename... Args>
  void Warn(fmt::format_string<A, Args...> f, A&& a, Args&&... args) {
    Log(LogLevel::kWarn, fmt::format(f, std::forward<A>(a), std::forward<Args>(args)...));
  }
  template <typename A, typename... Args>
  void Error(fmt::format_string<A, Args...> f, A&& a, Args&&... args) {
    Log(LogLevel::kError, fmt::format(f, std::forward<A>(a), std::forward<Args>(args)...));
  }

  // The process-wide logger: one line per message on stderr, as written
  // (the message carries its own "keeper: " style prefix), warnings and
  // errors too. Lives for the whole process; never null.
  static Logger* Default();

  // A logger that drops everything (for callers that want silence).
  static Logger* Discard();
};

// The least severe level Logger::Default() writes (kInfo at start; kOff
// silences it). Programs call this for --quiet / --verbose, tests to keep
// their output clean.
void SetDefaultLogLevel(LogLevel level);
LogLevel DefaultLogLevel();

// Prefixes every message with `prefix` and passes it to `base` (not owned,
// must outlive this). Decorators stack: WithPrefix(WithInstance(...), ...).
class PrefixLogger final : public Logger {
 public:
  PrefixLogger(Logger* base, std::string prefix) : base_(base), prefix_(std::move(prefix)) {}
  void Log(LogLevel level, std::string_view message) override;
  const std::string& prefix() const { return prefix_; }

 private:
  Logger* base_;
  std::string prefix_;
};

// "keeper: " → every line starts with it. `base` null means Default().
std::unique_ptr<Logger> WithPrefix(Logger* base, std::string prefix);

// Every line starts with "[<instance id>] ", e.g. "[boat-1] keeper: archived
// …". An empty id (a boat without a replication id) adds nothing. `base`
// null means Default().
std::unique_ptr<Logger> WithInstance(Logger* base, std::string_view instance_id);

// A test double: remembers every line instead of writing it.
class RecordingLogger final : public Logger {
 public:
  struct Line {
    LogLevel level;
    std::string message;
  };

  void Log(LogLevel level, std::string_view message) override;

  // A copy of the lines so far, oldest first.
  std::vector<Line> lines() const;
  // The messages only, oldest first.
  std::vector<std::string> messages() const;
  // True when some message contains `needle` (at `level`, when given).
  bool Contains(std::string_view needle) const;
  bool Contains(LogLevel level, std::string_view needle) const;
  // All messages joined by '\n' (for a failing assertion's output).
  std::string Text() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<Line> lines_;
};

}  // namespace lplex
