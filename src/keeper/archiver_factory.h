// MakeArchiver: the archiver a configuration asks for.
//
//   journal.archive.command = "/usr/local/bin/archive.sh" → ScriptArchiver
//   journal.archive.target  = "s3://bucket/prefix/"       → S3Archiver
//   journal.archive.target  = "file:///srv/archive"       → DirectoryArchiver
//
// Exactly one of command and target must be set. Errors quote the offending
// value, list the valid forms, and name the setting as the caller calls it
// (ArchiverConfig::names: configuration keys by default, flags on the
// command line).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"
#include "keeper/archiver.h"
#include "keeper/s3_target.h"
#include "keeper/script_archiver.h"

namespace lplex::keeper {

// How error messages name the settings.
struct ArchiverSettingNames {
  std::string command = "journal.archive.command";
  std::string target = "journal.archive.target";
  std::string script_timeout = "journal.archive.timeout";
};

struct ArchiverConfig {
  std::string command;  // journal.archive.command
  std::string target;   // journal.archive.target
  std::chrono::milliseconds script_timeout = ScriptArchiver::kDefaultTimeout;
  // Where the script and S3 archivers log (not owned, must outlive the
  // archiver); null: Logger::Default(). A caller serving one instance passes
  // WithInstance(..., id) so their lines carry it.
  lplex::Logger* log = nullptr;
  S3Settings s3;                           // explicit S3 fields; empty ones fall back to AWS_* variables
  FileSystem* fs = FileSystem::Default();  // where the S3 and directory targets read and write
  ArchiverSettingNames names;              // e.g. {"--command", "--target", "--timeout"} for the CLI
  // Cancellation (archiver.h): when this flag (not owned, must outlive the
  // archiver; null: never) reads true, Archive() stops early — the script's
  // process group is stopped, the built-in targets stop between files — and
  // every item not done fails with `interrupted` set. Set it from a
  // SIGINT/SIGTERM handler (the CLI) or at shutdown (the servers).
  const std::atomic<bool>* cancel = nullptr;
  // The time line of the deadlines the archiver is given (not owned, must
  // outlive it); null: Clock::Real(). A keeper's archiver takes the keeper's
  // clock (KeeperOptions::clock).
  Clock* clock = nullptr;
};

// Builds the archiver. Fails (InvalidArgument) when neither or both of
// command and target are set, when the target's scheme is unknown, when the
// URL is malformed, when an S3 target has no credentials, or when a script's
// timeout is not positive. Errors about the target start with its name
// ("journal.archive.target: ..."). A script's timeout message names the
// timeout by its setting name when that is a flag ("timed out after
// --timeout PT5M"), by its value only otherwise ("timed out after PT5M").
Result<std::unique_ptr<Archiver>> MakeArchiver(const ArchiverConfig& config, const EnvLookup& env = ProcessEnv);

// "file:///srv/archive" → "/srv/archive" (trailing '/' removed, the root
// "/" kept). The path is taken literally: no %-decoding. "file://host/..."
// and relative paths are refused.
Result<std::string> ParseFileUrl(std::string_view url);

// For a `file://` target: OK when the directory the copies go to
// (ROOT/INSTANCE_ID, or ROOT) is a directory or can be created, i.e. the
// deepest part of it that exists is a directory. A regular file there would
// fail every copy, so it is refused up front: InvalidArgument
// "TARGET_NAME file:///x/RF: /x/RF is not a directory" (target_name as the
// caller calls the setting: "--target", "journal.archive.target"). Other
// targets, and file URLs MakeArchiver refuses: OK (MakeArchiver reports
// those). The one check of this kind: `lplex archive`, `lplex retention`
// and the servers all call it.
Status CheckFileTargetUsable(const std::string& target, const std::string& instance_id,
                             std::string_view target_name);

}  // namespace lplex::keeper
