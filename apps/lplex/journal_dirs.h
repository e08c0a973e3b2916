// Checks shared by the commands that work on whole journal directories
// (`lplex archive`, `lplex retention`).
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/duration.h"
#include "core/file_system.h"
#include "core/status.h"
#include "core/strings.h"
#include "keeper/archiver_factory.h"

namespace lplex::cli {

// OK when `dir` is a directory that can be listed. Otherwise NotFound
// "DIR: no such directory", InvalidArgument "DIR: not a directory" (a file
// was given), or the error from listing it (which names DIR and the errno
// text); all read well after "lplex <command>: ". DIR is shown escaped
// (EscapeForDisplay).
inline Status CheckJournalDirExists(FileSystem* fs, const std::string& dir) {
  auto entries = fs->ListDir(dir);
  if (entries.ok()) return Status::Ok();
  const std::string shown = EscapeForDisplay(dir);
  if (entries.status().IsNotFound()) return Status::NotFound(fmt::format("{}: no such directory", shown));
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_directory(st)) {
    return Status::InvalidArgument(fmt::format("{}: not a directory", shown));
  }
  return entries.status();
}

// The valid range of --timeout (one archiver call): long enough for any
// sane batch, short enough that a hung script is noticed the same day.
inline constexpr std::chrono::seconds kMinArchiveTimeout{1};
inline constexpr std::chrono::seconds kMaxArchiveTimeout = std::chrono::hours(24);

// Parses --timeout (archive and retention); every target uses it,
// so it is checked before anything is archived. Errors name the flag, the
// value as typed and the valid range, e.g. "--timeout P0D out of range
// (valid: PT1S..P1D)".
inline Result<std::chrono::milliseconds> ParseArchiveTimeoutFlag(const std::string& value) {
  const std::string range =
      fmt::format("valid: {}..{}", FormatIso8601Duration(kMinArchiveTimeout), FormatIso8601Duration(kMaxArchiveTimeout));
  auto d = ParseIso8601Duration(value);
  if (!d.ok()) {
    if (d.status().code() == Status::Code::kOutOfRange) {
      return Status::InvalidArgument(fmt::format("--timeout {} out of range ({})", EscapeForDisplay(value), range));
    }
    return Status::InvalidArgument(fmt::format("--timeout: {}", d.status().message()));
  }
  if (*d < kMinArchiveTimeout || *d > kMaxArchiveTimeout) {
    return Status::InvalidArgument(fmt::format("--timeout {} out of range ({})", EscapeForDisplay(value), range));
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

}  // namespace lplex::cli
