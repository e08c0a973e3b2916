// Value checks and message helpers shared by the settings tables of the
// programs (boat_config.cc, cloud_config.cc), so that a setting both
// programs have is checked, and its errors worded, the same way in both.
#pragma once

#include <string>

#include "config/settings.h"
#include "core/status.h"

namespace lplex::config {

// journal.archive.target: "" or a URL the built-in archivers accept
// (s3://BUCKET/PREFIX/ or file:///ABSOLUTE/DIR). The keeper's parsers give
// the reasons, so config and keeper never disagree.
Status CheckArchiveTarget(const SettingValue& value);

// A duration that must be longer than zero: PT0S would mean "every instant"
// (rotate after every block, flush after every frame), which no one wants.
// With `empty_means_never` the message adds that "" is the way to say never
// (for optional durations).
ValueCheck PositiveDuration(bool empty_means_never);

// How a setting is named in a message about it, as the user set it:
// `flag -api-key` when it came from the command line, else
// `config key "api-key" (flag -api-key)`.
std::string NamedSetting(const LoadReport& report, const std::string& flag, const std::string& key);

// `status` unchanged, unless it is an "invalid ISO 8601 duration" error for
// a value in Go's duration syntax (lplex HEAD wrote `device.idle-timeout =
// 5m`, `30s`, `1h30m`): then the ISO form of that value is appended,
// `... (Go syntax "5m" is PT5M in ISO 8601)`, so the fix is in the message.
Status WithIsoDurationSuggestion(const Status& status);

// The HTTP API key of -api-key / -api-key-file (both programs): the key, or
// the key file's text without its trailing newline and spaces. An unreadable
// or empty file is an InvalidArgument naming it.
Result<std::string> ResolveApiKey(const std::string& api_key, const std::string& api_key_file);

}  // namespace lplex::config
