#include "keeper/script_archiver.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "core/hex.h"
#include "core/strings.h"
#include "core/subprocess.h"
#include "core/time.h"

namespace lplex::keeper {

namespace {

// Go's bufio.MaxScanTokenSize is 64 KiB including the '\n', so the longest
// line it hands out has 65535 bytes.
constexpr size_t kMaxAnswerLine = 64 * 1024 - 1;

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does
// not start one (the ranges of Go's utf8.DecodeRune: no overlong forms, no
// surrogates, nothing above U+10FFFF). *cp receives the code point.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u; };
  auto cont = [](unsigned b, unsigned lo = 0x80, unsigned hi = 0xBF) { return b >= lo && b <= hi; };
  unsigned b0 = at(0);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  if (b0 < 0xC2) return 0;
  if (b0 < 0xE0) {
    if (!cont(at(1))) return 0;
    *cp = ((b0 & 0x1F) << 6) | (at(1) & 0x3F);
    return 2;
  }
  if (b0 < 0xF0) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    if (!cont(at(1), lo, hi) || !cont(at(2))) return 0;
    *cp = ((b0 & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F);
    return 3;
  }
  if (b0 < 0xF5) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!cont(at(1), lo, hi) || !cont(at(2)) || !cont(at(3))) return 0;
    *cp = ((b0 & 0x07) << 18) | ((at(1) & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F);
    return 4;
  }
  return 0;
}

// Appends `s` as a JSON string the way Go's encoding/json (1.22+, HTML
// escaping on, as json.Marshal uses) writes it.
void AppendGoJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        default:
          if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            *out += "\\u00";
            hex::AppendByte(b, out);
          } else {
            out->push_back(static_cast<char>(b));
          }
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      *out += cp == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
  out->push_back('"');
}

// Splits the script's stdout into lines and keeps the answers.
class AnswerReader {
 public:
  explicit AnswerReader(Logger* log) : log_(log) {}

  void Feed(const char* data, size_t len) {
    if (stopped_) return;
    size_t start = 0;
    for (size_t i = 0; i < len; ++i) {
      if (data[i] != '\n') continue;
      partial_.append(data + start, i - start);
      start = i + 1;
      if (!Line()) return;
    }
    partial_.append(data + start, len - start);
    if (partial_.size() > kMaxAnswerLine) TooLong();
  }
  // End of output: an unterminated last line is still a line.
  void Finish() {
    if (!stopped_ && !partial_.empty()) Line();
    partial_.clear();
  }

  std::vector<ScriptAnswer>& answers() { return answers_; }

 private:
  // Handles the line in partial_; false when reading stops.
  bool Line() {
    if (partial_.size() > kMaxAnswerLine) {
      TooLong();
      return false;
    }
    std::string_view line = partial_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto a = ParseScriptAnswer(line)) {
      answers_.push_back(std::move(*a));
    } else {
      std::string_view shown = line.substr(0, 200);
      log_->Warn("archive script: ignoring output line that is not a JSON answer: {:?}{}", shown,
                 line.size() > shown.size() ? "…" : "");
    }
    partial_.clear();
    return true;
  }
  void TooLong() {
    log_->Warn("archive script: output line longer than {} bytes; ignoring it and all later output",
               kMaxAnswerLine);
    stopped_ = true;
    partial_.clear();
    partial_.shrink_to_fit();
  }

  Logger* log_;
  std::string partial_;
  std::vector<ScriptAnswer> answers_;
  bool stopped_ = false;
};

}  // namespace

std::string EncodeScriptRequest(const ArchiveItem& item) {
  std::string out;
  out.reserve(item.path.size() + item.instance_id.size() + 96);
  out += "{\"path\":";
  AppendGoJsonString(item.path, &out);
  out += ",\"instance_id\":";
  AppendGoJsonString(item.instance_id, &out);
  out += ",\"size\":";
  out += std::to_string(item.size);
  out += ",\"created\":";
  AppendGoJsonString(item.created_known ? timefmt::Rfc3339Seconds(item.created_us) : "0001-01-01T00:00:00Z", &out);
  out += "}\n";
  return out;
}

std::optional<ScriptAnswer> ParseScriptAnswer(std::string_view line) {
  // ordered_json keeps the keys in the order written, so "last one wins"
  // follows the line even across differently cased spellings.
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  ScriptAnswer a;
  if (j.is_null()) return a;  // Go: unmarshalling null into a struct is a no-op
  if (!j.is_object()) return std::nullopt;
  for (const auto& [key, value] : j.items()) {
    std::string* field = EqualsIgnoreCase(key, "path")     ? &a.path
                         : EqualsIgnoreCase(key, "status") ? &a.status
                         : EqualsIgnoreCase(key, "error")  ? &a.error
                                                     : nullptr;
    if (field == nullptr || value.is_null()) continue;
    if (!value.is_string()) return std::nullopt;
    *field = value.get<std::string>();
  }
  return a;
}

ScriptArchiver::ScriptArchiver(std::string command, std::chrono::milliseconds timeout, lplex::Logger* log)
    : ScriptArchiver(std::move(command), Options{timeout, log, "", nullptr, nullptr}) {}

ScriptArchiver::ScriptArchiver(std::string command, Options options)
    : command_(std::move(command)),
      opt_(std::move(options)),
      log_(opt_.log != nullptr ? opt_.log : lplex::Logger::Default()),
      clock_(opt_.clock != nullptr ? opt_.clock : Clock::Real()) {}

std::string ScriptArchiver::Describe() const { return "script " + command_; }

std::vector<ArchiveOutcome> ScriptArchiver::Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) {
  std::vector<ArchiveOutcome> outcomes(batch.size());
  if (batch.empty()) return outcomes;

  const std::chrono::milliseconds timeout = opt_.timeout;
  auto fail_all = [&](const std::string& why, bool interrupted = false) {
    for (size_t i = 0; i < batch.size(); ++i) {
      outcomes[i].ok = false;
      outcomes[i].error = fmt::format("{}: {}", batch[i].path, why);
      outcomes[i].interrupted = interrupted;
    }
    if (interrupted) {
      log_->Warn(why);
    } else {
      log_->Error(why);
    }
    return outcomes;
  };
  auto cancelled = [&] { return opt_.cancel != nullptr && opt_.cancel->load(std::memory_order_relaxed); };

  if (cancelled()) return fail_all(fmt::format("archive script {} not started: interrupted", command_), true);
  const MonoTime start = clock_->Monotonic();
  // Compared as durations: a huge timeout must not overflow a time_point.
  const bool by_timeout =
      deadline > start && timeout <= std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start);
  const Deadline end = by_timeout ? start + timeout : deadline;
  if (end <= start) {
    return fail_all(fmt::format("archive script {} not started: the deadline has passed", command_));
  }
  // What the script was given, as a person would say it: the configured
  // timeout (by its flag, on the command line) when the run ended by it, or
  // by a caller's deadline set from the same value a moment earlier; else the
  // time that was left to it.
  const auto given = std::chrono::ceil<std::chrono::milliseconds>(end - start);
  const std::string timeout_text =
      by_timeout || timeout - given < std::chrono::milliseconds(50)
          ? (opt_.timeout_flag.empty() ? "" : opt_.timeout_flag + " ") + FormatIso8601Duration(timeout)
          : FormatIso8601Duration(given);

  AnswerReader reader(log_);
  SubprocessOptions run;
  run.argv.reserve(batch.size() + 1);
  run.argv.push_back(command_);
  for (const auto& item : batch) run.argv.push_back(item.path);
  run.display_name = "archive script " + command_;
  run.stdin_mode = SubprocessOptions::Stream::kPipe;
  for (const auto& item : batch) run.stdin_data += EncodeScriptRequest(item);
  run.stdout_mode = SubprocessOptions::Stream::kPipe;
  run.on_stdout = [&reader](std::string_view chunk) { reader.Feed(chunk.data(), chunk.size()); };
  run.stderr_mode = SubprocessOptions::Stream::kInherit;
  run.cancel = opt_.cancel;

  // Subprocess polls in real time: it gets the time left on our clock.
  Result<SubprocessResult> ran = Subprocess::Run(run, ToSteadyDeadline(*clock_, end));
  if (!ran.ok()) return fail_all(ran.status().message());  // "cannot run archive script …: <errno text>"
  const SubprocessResult& r = *ran;

  // At the end of stdout an unterminated last line is still a line; if
  // something that escaped the group holds stdout open, it is dropped.
  std::string ending;
  if (!r.output_cut) reader.Finish();
  using Ending = SubprocessResult::Ending;
  const bool interrupted = r.ending == Ending::kCancelled;
  if (interrupted) {
    ending = "interrupted; its process group was stopped";
    log_->Warn("archive script {} {}", command_, ending);
  } else if (r.ending == Ending::kTimedOut) {
    ending = !r.wait_error.empty() ? r.Describe() : "timed out after " + timeout_text;
    log_->Error("archive script {} did not finish: {}; its process group was killed", command_, ending);
  } else if (r.output_cut) {
    // The script exited, but a process outside its group kept stdout open.
    ending = "exited, but its output was still open when it timed out after " + timeout_text;
    log_->Warn("archive script {} {}", command_, ending);
  } else if (r.ending == Ending::kSignaled || (r.ending == Ending::kExited && r.exit_code != 0)) {
    ending = r.Describe();
    log_->Warn("archive script {} exited with error: {}", command_, ending);
  }

  const auto& answers = reader.answers();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i >= answers.size()) {
      outcomes[i].error = fmt::format("{}: no response from script {}{}", batch[i].path, command_,
                                      ending.empty() ? "" : " (" + ending + ")");
      outcomes[i].interrupted = interrupted;
      continue;
    }
    const ScriptAnswer& a = answers[i];
    if (a.status == "ok") {
      outcomes[i].ok = true;
      continue;
    }
    outcomes[i].error = fmt::format("{}: archive script {} answered status {:?}{}{}", batch[i].path, command_,
                                    a.status, a.error.empty() ? "" : ": ", a.error);
    log_->Warn(outcomes[i].error);
  }
  if (answers.size() > batch.size()) {
    log_->Warn("archive script {}: {} answers for {} files; the extra ones are ignored", command_, answers.size(),
               batch.size());
  }
  return outcomes;
}

}  // namespace lplex::keeper
