// Subprocess: runs a program to completion under a deadline, with its
// standard streams connected to pipes, and reports how it ended as a value.
// Used for archive scripts (keeper) and hooks (boat server); it knows no
// protocol: what goes to stdin and what stdout means belong to the caller.
//
// Contract:
//  - The program is executed directly (no shell) with `argv`; a name without
//    '/' is looked up on this process's PATH (posix_spawnp, like Go's
//    exec.Command). The environment is this process's, or `env` when given,
//    with `env_overrides` applied on top. Every descriptor above 2 is closed
//    in the child; it starts with every signal at its default disposition and
//    an empty signal mask, in a process group of its own.
//  - stdin: kPipe writes `stdin_data` and then closes it; it is written while
//    the output is read, so a program may read and write in any order, and
//    one that never reads its input, or exits early, just loses it (EPIPE is
//    not an error; SIGPIPE is blocked for the write and consumed, the
//    process-wide disposition is never touched).
//  - stdout / stderr: kPipe hands each chunk read to the on_stdout /
//    on_stderr callback as it arrives (called on the calling thread), or, with
//    no callback, keeps the first `max_captured_bytes` of it in the result and
//    drains the rest, so the program never blocks on a full pipe.
//  - The program exits: whatever it left running in its process group is
//    SIGKILLed at once (nothing it started outlives the run), the program is
//    reaped, and the pipes are read to their end.
//  - The deadline passes first: the whole process group is SIGKILLed, the
//    program reaped, and the output already in the pipes still delivered.
//  - `cancel` reads true first (checked at least every kCancelPollInterval,
//    e.g. a flag set by a SIGINT handler or by a server's shutdown): the
//    whole process group gets SIGTERM, the program has kCancelGrace to exit
//    (its output meanwhile is still delivered), then the group is SIGKILLed
//    as at the deadline; the ending is kCancelled. A flag already true at the
//    call starts nothing: the result is kCancelled at once.
//  - A program that exited while a descendant that left its process group
//    (setsid) still holds an output pipe open ends the run at the deadline
//    with `output_cut` set: the exit status is known, later output is lost.
//  - A program that cannot be started (missing, not executable, a bad
//    interpreter) is an error Status, not a result: "cannot run <name>:
//    <errno text>", where <name> is `display_name` or argv[0]. glibc's
//    posix_spawn reports the exec errno to the parent reliably.
// Run() is for one thread; the callbacks must not call back into it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex {

struct SubprocessOptions {
  enum class Stream {
    kInherit,  // the caller's own descriptor
    kNull,     // /dev/null
    kPipe,     // connected to this process (see the top of this file)
  };

  std::vector<std::string> argv;  // argv[0] is the program; must not be empty
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; nullopt: this process's
  std::vector<std::string> env_overrides;       // "NAME=value", replace or add to the above
  std::string display_name;                     // names the program in errors; "" = argv[0]

  Stream stdin_mode = Stream::kNull;
  std::string stdin_data;  // with kPipe
  Stream stdout_mode = Stream::kPipe;
  Stream stderr_mode = Stream::kInherit;
  std::function<void(std::string_view)> on_stdout;  // with kPipe; null: capture
  std::function<void(std::string_view)> on_stderr;  // with kPipe; null: capture
  size_t max_captured_bytes = size_t{1} << 20;      // per captured stream
  // Not owned, may be null; must outlive Run(). When it reads true the run
  // is stopped (see the top of this file). Only ever read, so it may be set
  // from a signal handler (std::atomic<bool> is lock-free) or another thread.
  const std::atomic<bool>* cancel = nullptr;
};

// How a run ended.
struct SubprocessResult {
  enum class Ending {
    kExited,    // exit_code is set
    kSignaled,  // killed by `signal` (not by us)
    kTimedOut,  // still running at the deadline (or when waiting failed); its group was SIGKILLed
    kUnknown,   // this process ignores SIGCHLD, so the kernel reaped it and the status is lost
    kCancelled, // `cancel` was set: its group got SIGTERM, then SIGKILL (or it was never started)
  };

  Ending ending = Ending::kUnknown;
  int exit_code = -1;  // kExited
  int signal = 0;      // kSignaled
  // The program had exited, but something outside its group kept stdout or
  // stderr open until the deadline; output after that was not read.
  bool output_cut = false;
  // Why waiting failed ("poll: <errno text>"); the program was then killed
  // as at the deadline. Empty normally.
  std::string wait_error;
  std::string stdout_text;  // captured (kPipe without on_stdout), up to max_captured_bytes
  std::string stderr_text;
  bool stdout_truncated = false;  // more than max_captured_bytes was written
  bool stderr_truncated = false;

  // Exited with status 0 (and nothing was cut off).
  bool ok() const { return ending == Ending::kExited && exit_code == 0 && !output_cut; }
  // "exit status 3", "killed by signal 9 (SIGKILL)", "still running at the deadline",
  // "exit status unknown (SIGCHLD is ignored)", "stopped: cancelled"; ", output cut at the
  // deadline" is appended when output_cut.
  std::string Describe() const;
};

using SteadyDeadline = std::chrono::steady_clock::time_point;

class Subprocess {
 public:
  // How often `cancel` is looked at while the program runs.
  static constexpr std::chrono::milliseconds kCancelPollInterval{20};
  // How long a cancelled program has between SIGTERM and SIGKILL.
  static constexpr std::chrono::milliseconds kCancelGrace{1000};

  // Runs the program until it has exited and its output is read, or until
  // `deadline` (see the top of this file). Errors are about starting only:
  // InvalidArgument for an empty argv, IOError when it cannot be started.
  // Once started, every ending is a result, and the program is reaped. A
  // deadline already passed still starts the program and kills it at once
  // (callers that mind check before: see ScriptArchiver).
  static Result<SubprocessResult> Run(const SubprocessOptions& options, SteadyDeadline deadline);

  // Run() with deadline = now + timeout.
  static Result<SubprocessResult> RunFor(const SubprocessOptions& options, std::chrono::milliseconds timeout);
};

}  // namespace lplex
