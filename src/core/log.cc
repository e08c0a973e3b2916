#include "core/log.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>

namespace lplex {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: break;
  }
  return spdlog::level::off;
}

// Plain lines on stderr: the CLI's stdout carries results (dump output,
// summaries) and must not be interleaved with log text. The logger is not
// registered with spdlog, so no other code can replace or silence it by name.
class SpdlogLogger final : public Logger {
 public:
  SpdlogLogger() : logger_("lplex", std::make_shared<spdlog::sinks::stderr_sink_mt>()) {
    logger_.set_pattern("%v");
    logger_.set_level(spdlog::level::trace);  // levels are filtered in Log()
  }

  void Log(LogLevel level, std::string_view message) override {
    if (level == LogLevel::kOff || level < min_level_.load(std::memory_order_relaxed)) return;
    logger_.log(ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
    // Warnings may precede a crash or a kill; do not leave them in a buffer.
    if (level >= LogLevel::kWarn) logger_.flush();
  }

  void SetLevel(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return min_level_.load(std::memory_order_relaxed); }

 private:
  spdlog::logger logger_;
  std::atomic<LogLevel> min_level_{LogLevel::kInfo};
};

SpdlogLogger* DefaultImpl() {
  // Never destroyed: other static objects may log while the process exits.
  static SpdlogLogger* const logger = new SpdlogLogger();
  return logger;
}

class DiscardLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view) override {}
};

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: break;
  }
  return "off";
}

Logger* Logger::Default() { return DefaultImpl(); }

Logger* Logger::Discard() {
  static DiscardLogger* const logger = new DiscardLogger();
  return logger;
}

void SetDefaultLogLevel(LogLevel level) { DefaultImpl()->SetLevel(level); }
LogLevel DefaultLogLevel() { return DefaultImpl()->level(); }

void PrefixLogger::Log(LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(prefix_.size() + message.size());
  line += prefix_;
  line += message;
  base_->Log(level, line);
}

std::unique_ptr<Logger> WithPrefix(Logger* base, std::string prefix) {
  return std::make_unique<PrefixLogger>(base != nullptr ? base : Logger::Default(), std::move(prefix));
}

std::unique_ptr<Logger> WithInstance(Logger* base, std::string_view instance_id) {
  std::string prefix;
  if (!instance_id.empty()) {
    prefix.reserve(instance_id.size() + 3);
    prefix += '[';  // (not "[" + id: g++ 12 -Wrestrict false positive)
    prefix += instance_id;
    prefix += "] ";
  }
  return WithPrefix(base, std::move(prefix));
}

void RecordingLogger::Log(LogLevel level, std::string_view message) {
  if (level == LogLevel::kOff) return;
  std::lock_guard lock(mu_);
  lines_.push_back({level, std::string(message)});
}

std::vector<RecordingLogger::Line> RecordingLogger::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::vector<std::string> RecordingLogger::messages() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(lines_.size());
  for (const Line& l : lines_) out.push_back(l.message);
  return out;
}

bool RecordingLogger::Contains(std::string_view needle) const {
  std::lock_guard lock(mu_);
  for (const Line& l : lines_) {
    if (l.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool RecordingLogger::Contains(LogLevel level, std::string_view needle) const {
  std::lock_guard lock(mu_);
  for (const Line& l : lines_) {
    if (l.level == level && l.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string RecordingLogger::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const Line& l : lines_) {
    if (!out.empty()) out += '\n';
    out += l.message;
  }
  return out;
}

void RecordingLogger::Clear() {
  std::lock_guard lock(mu_);
  lines_.clear();
}

}  // namespace lplex
