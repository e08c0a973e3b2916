#include "config/checks.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

#include "core/duration.h"
#include "keeper/archiver_factory.h"
#include "keeper/s3_target.h"

namespace lplex::config {
namespace {

// Go's time.ParseDuration for whole seconds: one or more <digits><unit>
// with units h, m, s ("1h30m", "5m", "30s"). Anything else (fractions, ms,
// signs) is not offered a translation.
std::optional<std::chrono::seconds> ParseGoDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > 1'000'000'000) return std::nullopt;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    const char unit = text[i++];
    if (unit == 'h') {
      total += n * 3600;
    } else if (unit == 'm') {
      if (i < text.size() && text[i] == 's') return std::nullopt;  // "ms"
      total += n * 60;
    } else if (unit == 's') {
      total += n;
    } else {
      return std::nullopt;
    }
  }
  return std::chrono::seconds(total);
}

}  // namespace

Status CheckArchiveTarget(const SettingValue& v) {
  const std::string& url = v.text;
  if (url.empty()) return Status::Ok();
  if (url.rfind("s3://", 0) == 0) return keeper::ParseS3Url(url).status();
  if (url.rfind("file://", 0) == 0) return keeper::ParseFileUrl(url).status();
  return Status::InvalidArgument(fmt::format(
      "\"{}\" is not valid (valid: s3://BUCKET/PREFIX/ or file:///ABSOLUTE/DIR; for a script use "
      "journal.archive.command)",
      url));
}

ValueCheck PositiveDuration(bool empty_means_never) {
  return [empty_means_never](const SettingValue& v) {
    if (v.duration && v.duration->count() <= 0) {
      return Status::InvalidArgument(fmt::format("PT0S is not valid (valid: at least PT1S{})",
                                                 empty_means_never ? "; \"\" = never" : ""));
    }
    return Status::Ok();
  };
}

std::string NamedSetting(const LoadReport& report, const std::string& flag, const std::string& key) {
  if (report.OriginOf(flag) == Origin::kFlag) return "flag -" + flag;
  return fmt::format("config key \"{}\" (flag -{})", key, flag);
}

Status WithIsoDurationSuggestion(const Status& status) {
  constexpr std::string_view kMarker = "invalid ISO 8601 duration \"";
  const std::string& msg = status.message();
  const size_t at = msg.find(kMarker);
  if (status.ok() || at == std::string::npos) return status;
  const size_t begin = at + kMarker.size();
  const size_t end = msg.find('"', begin);
  if (end == std::string::npos) return status;
  const std::string value = msg.substr(begin, end - begin);
  const std::optional<std::chrono::seconds> go = ParseGoDuration(value);
  if (!go || go->count() == 0) return status;
  return Status::InvalidArgument(
      fmt::format("{} (Go syntax \"{}\" is {} in ISO 8601)", msg, value, FormatIso8601Duration(*go)));
}

Result<std::string> ResolveApiKey(const std::string& api_key, const std::string& api_key_file) {
  if (api_key_file.empty()) return api_key;
  std::ifstream in(api_key_file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(
        fmt::format("api-key-file {}: cannot be read (valid: a readable file holding the key)", api_key_file));
  }
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // A key file usually ends with a newline; the key itself has no spaces.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) {
    return Status::InvalidArgument(
        fmt::format("api-key-file {}: the file is empty (valid: a file holding the key)", api_key_file));
  }
  return text;
}

}  // namespace lplex::config
