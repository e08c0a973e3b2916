// ScriptArchiver: archives by running an operator's program with the script
// protocol of spec/journal.md §6.4 (journal.archive.command).
//
// One Archive() call is one run of the command, for the whole batch. How the
// program is run (no shell, PATH lookup, its own process group, every other
// descriptor closed, stdin written while stdout is read, SIGPIPE kept away
// from the keeper, the group killed when the script exits or at the time
// limit) is lplex::Subprocess's contract (core/subprocess.h). This file is
// the protocol on top:
//  - argv[1..] are the file paths in batch order; the keeper's environment,
//    working directory and stderr are the script's;
//  - stdin gets one JSON object per file and line, keys in this order:
//      {"path":"…","instance_id":"…","size":123,"created":"2026-03-02T14:00:00Z"}
//    (EncodeScriptRequest below), then it is closed;
//  - stdout is read line by line; each line that is a JSON object
//    {"path","status","error"} is an answer (ParseScriptAnswer below), any
//    other line is logged and skipped without using up a slot. The k-th answer
//    belongs to the k-th file whatever its path says; only status "ok" counts.
//    A file without an answer failed with "no response from script";
//  - the exit status is only logged: "ok" answers count even after a non-zero
//    exit, a crash or a kill.
//
// Decisions beyond the spec:
//  - Time limit. The run ends at min(now + timeout, deadline). Answers read
//    until then, plus what the killed group had already written into the
//    pipe, count. A file left without an answer fails with "... (timed out
//    after PT5M)": the timeout in ISO 8601 as it is configured, preceded by
//    its flag when one is given (Options::timeout_flag: "timed out after
//    --timeout PT5M"); when the caller's deadline came sooner, the time the
//    script was given ("timed out after PT2M30S").
//  - Cancellation (Options::cancel; archiver.h): the script's process group
//    is stopped (lplex::Subprocess: SIGTERM, then SIGKILL after a grace);
//    answers read until it ended count, and every file without one fails
//    with `interrupted` set and "... (interrupted; its process group was
//    stopped)". A flag already set starts nothing.
//  - Line limit (Go's bufio.Scanner default). A line of more than 65535 bytes
//    (the '\n' excluded, a '\r' included) ends the reading of answers: it and
//    every later line are ignored, as in the reference, and the files after
//    the last answer fail. Unlike the reference we keep draining stdout so the
//    script is never blocked writing, and the run ends when it exits.
//  - CRLF. One trailing '\r' is removed from each line (Scanner's ScanLines).
//    An unterminated last line is a line when stdout reached its end; it is
//    dropped when something that escaped the group still held stdout open.
//  - Start failure. A command that cannot be executed (missing, not
//    executable, bad interpreter) fails every file with
//    "cannot run archive script <command>: <errno text>".
//  - Empty batch: nothing runs, no outcome.
//  - Logging goes to the lplex::Logger given (Logger::Default() if none):
//    unparseable output lines, a non-zero exit, a kill, error answers.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"
#include "keeper/archiver.h"

namespace lplex::keeper {

// One stdin line for `item`, '\n' included:
// {"path":…,"instance_id":…,"size":…,"created":…}. `created` is
// timefmt::Rfc3339Seconds(created_us) or "0001-01-01T00:00:00Z" when the name
// carried no time. Strings use Go's encoding/json escaping: '<', '>', '&',
// U+2028 and U+2029 as \u003c, \u003e, \u0026, \u2028, \u2029, and bytes that
// are not valid UTF-8 as U+FFFD.
std::string EncodeScriptRequest(const ArchiveItem& item);

// One answer line as Go's json.Unmarshal into {Path, Status, Error string}
// sees it: nullopt when the line is not valid JSON, is not an object (or
// null), or one of the three keys holds something other than a string or null.
// Keys match case-insensitively (Go does); unknown keys are ignored; for a key
// given twice the last one wins.
struct ScriptAnswer {
  std::string path;
  std::string status;
  std::string error;
};
std::optional<ScriptAnswer> ParseScriptAnswer(std::string_view line);

class ScriptArchiver : public Archiver {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout = std::chrono::minutes(5);

  struct Options {
    std::chrono::milliseconds timeout = kDefaultTimeout;  // must be positive
    // Receives the log lines (not owned, must outlive the archiver); null
    // means lplex::Logger::Default(). Messages start with "archive script ".
    lplex::Logger* log = nullptr;
    // How messages name the timeout for the person who set it: "--timeout"
    // on the command line; "" names only the value.
    std::string timeout_flag;
    // Stops a run when it reads true (see the top of this file); not owned,
    // must outlive the archiver; null: never.
    const std::atomic<bool>* cancel = nullptr;
    // The time line of the deadlines Archive() is given and of `timeout`
    // (not owned, must outlive the archiver); null: Clock::Real(). The
    // script's process gets the time left on it as a real deadline.
    Clock* clock = nullptr;
  };

  explicit ScriptArchiver(std::string command, std::chrono::milliseconds timeout = kDefaultTimeout,
                          lplex::Logger* log = nullptr);
  ScriptArchiver(std::string command, Options options);

  // Runs the command once for the batch (see the top of this file). Returns
  // one outcome per item, in batch order, by min(now + timeout, deadline).
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) override;

  // "script <command>".
  std::string Describe() const override;

  const std::string& command() const { return command_; }

 private:
  std::string command_;
  Options opt_;
  lplex::Logger* log_;  // opt_.log or the default
  Clock* clock_;        // opt_.clock or the real one
};

}  // namespace lplex::keeper
