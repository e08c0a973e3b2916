// ScriptArchiver: archives by running an operator's program with the script
// protocol of spec/journal.md §6.4 (journal.archive.command).
//
// One Archive() call is one run of the command, for the whole batch:
//  - the command is executed directly (no shell; a name without '/' is looked
//    up on PATH like Go's exec.Command), with the file paths as argv[1..] in
//    batch order, the keeper's environment and working directory, stderr
//    inherited, and every other descriptor closed;
//  - stdin gets one JSON object per file and line, keys in this order:
//      {"path":"…","instance_id":"…","size":123,"created":"2026-03-02T14:00:00Z"}
//    (EncodeScriptRequest below), then it is closed. It is written while
//    stdout is read, so a script may read and write in any order; a script
//    that never reads stdin, or exits early, just loses its input (EPIPE);
//  - stdout is read line by line; each line that is a JSON object
//    {"path","status","error"} is an answer (ParseScriptAnswer below), any
//    other line is logged and skipped without using up a slot. The k-th answer
//    belongs to the k-th file whatever its path says; only status "ok" counts.
//    A file without an answer failed with "no response from script";
//  - the exit status is only logged: "ok" answers count even after a non-zero
//    exit, a crash or a kill.
//
// Decisions beyond the spec:
//  - Process group. The script runs in a process group of its own. When the
//    script itself exits, whatever it left running in that group is SIGKILLed
//    (and stdout is then read to its end): nothing the script started outlives
//    the run. On timeout the whole group is SIGKILLed and the script reaped.
//  - Timeout. The run ends at min(now + timeout, deadline). Answers read until
//    then, plus what the killed group had already written into the pipe, count.
//  - Line limit (Go's bufio.Scanner default). A line of more than 65535 bytes
//    (the '\n' excluded, a '\r' included) ends the reading of answers: it and
//    every later line are ignored, as in the reference, and the files after
//    the last answer fail. Unlike the reference we keep draining stdout so the
//    script is never blocked writing, and the run ends when it exits.
//  - CRLF. One trailing '\r' is removed from each line (Scanner's ScanLines).
//  - SIGPIPE. A write to a script that closed its stdin would raise SIGPIPE.
//    Each write runs with SIGPIPE blocked in the calling thread and a SIGPIPE
//    it raised is consumed before the mask is restored; the process-wide
//    disposition is never changed. The script starts with every signal at its
//    default disposition and an empty mask.
//  - Start failure. A command that cannot be executed (missing, not
//    executable, bad interpreter) fails every file with
//    "cannot run archive script <command>: <errno text>"; glibc's posix_spawn
//    reports the exec errno to the parent reliably.
//  - Empty batch: nothing runs, no outcome.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // Receives one line of log text (no trailing newline). The default writes
  // "keeper: <text>" to stderr.
  using Logger = std::function<void(std::string_view)>;

  explicit ScriptArchiver(std::string command, std::chrono::milliseconds timeout = kDefaultTimeout,
                          Logger logger = nullptr);

  // Runs the command once for the batch (see the top of this file). Returns
  // one outcome per item, in batch order, by min(now + timeout, deadline).
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) override;

  // "script <command>".
  std::string Describe() const override;

  const std::string& command() const { return command_; }

 private:
  void Log(std::string_view text) const;

  std::string command_;
  std::chrono::milliseconds timeout_;
  Logger logger_;
};

}  // namespace lplex::keeper
