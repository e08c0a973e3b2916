#include "keeper/script_archiver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"

extern char** environ;

namespace lplex::keeper {

namespace {

using Clock = std::chrono::steady_clock;

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
  static constexpr char kHex[] = "0123456789abcdef";
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
            out->push_back(kHex[b >> 4]);
            out->push_back(kHex[b & 0xF]);
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

bool EqualsFold(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string DurationText(std::chrono::milliseconds d) {
  if (d.count() % 60000 == 0) return fmt::format("{} min", d.count() / 60000);
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

// Moves fd above the standard descriptors (so dup2 in the child never sees
// fd == target) keeping it close-on-exec.
bool LiftFd(int* fd) {
  if (*fd > 2) return true;
  int nfd = ::fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) return false;
  ::close(*fd);
  *fd = nfd;
  return true;
}

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// write() that cannot kill the process with SIGPIPE: SIGPIPE is blocked in
// this thread for the call, and one raised by it is taken off the thread's
// pending set before the old mask comes back. A SIGPIPE that was pending
// before is left alone.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t len) {
  sigset_t pipe_set, old_mask, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t n = ::write(fd, data, len);
  int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = err;
  return n;
}

// Splits the script's stdout into lines and keeps the answers.
class AnswerReader {
 public:
  explicit AnswerReader(const ScriptArchiver::Logger& log) : log_(log) {}

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
      log_(fmt::format("archive script: ignoring output line that is not a JSON answer: {:?}{}", shown,
                       line.size() > shown.size() ? "…" : ""));
    }
    partial_.clear();
    return true;
  }
  void TooLong() {
    log_(fmt::format("archive script: output line longer than {} bytes; ignoring it and all later output",
                     kMaxAnswerLine));
    stopped_ = true;
    partial_.clear();
    partial_.shrink_to_fit();
  }

  const ScriptArchiver::Logger& log_;
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
    std::string* field = EqualsFold(key, "path")     ? &a.path
                         : EqualsFold(key, "status") ? &a.status
                         : EqualsFold(key, "error")  ? &a.error
                                                     : nullptr;
    if (field == nullptr || value.is_null()) continue;
    if (!value.is_string()) return std::nullopt;
    *field = value.get<std::string>();
  }
  return a;
}

ScriptArchiver::ScriptArchiver(std::string command, std::chrono::milliseconds timeout, Logger logger)
    : command_(std::move(command)), timeout_(timeout), logger_(std::move(logger)) {
  if (!logger_) {
    logger_ = [](std::string_view text) { fmt::print(stderr, "keeper: {}\n", text); };
  }
}

std::string ScriptArchiver::Describe() const { return "script " + command_; }

void ScriptArchiver::Log(std::string_view text) const { logger_(text); }

std::vector<ArchiveOutcome> ScriptArchiver::Archive(const std::vector<ArchiveItem>& batch, Deadline deadline) {
  std::vector<ArchiveOutcome> outcomes(batch.size());
  if (batch.empty()) return outcomes;

  auto fail_all = [&](const std::string& why) {
    for (size_t i = 0; i < batch.size(); ++i) {
      outcomes[i].ok = false;
      outcomes[i].error = fmt::format("{}: {}", batch[i].path, why);
    }
    Log(why);
    return outcomes;
  };

  const auto start = Clock::now();
  // Compared as durations: a huge timeout must not overflow a time_point.
  const bool by_timeout =
      deadline > start && timeout_ <= std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start);
  const auto end = by_timeout ? start + timeout_ : deadline;
  if (end <= start) {
    return fail_all(fmt::format("archive script {} not started: the keeper's deadline has passed", command_));
  }

  std::string input;
  for (const auto& item : batch) input += EncodeScriptRequest(item);

  // Pipes: the child's stdin and stdout. All ends are close-on-exec; the
  // child gets its two through dup2, which clears the flag.
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1]}) CloseFd(fd);
  };
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || !LiftFd(&in_pipe[0]) ||
      !LiftFd(&out_pipe[1])) {
    int err = errno;
    close_all();
    return fail_all(fmt::format("cannot run archive script {}: pipe: {}", command_, std::strerror(err)));
  }

  std::vector<std::string> argv_store;
  argv_store.reserve(batch.size() + 1);
  argv_store.push_back(command_);
  for (const auto& item : batch) argv_store.push_back(item.path);
  std::vector<char*> argv;
  argv.reserve(argv_store.size() + 1);
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Journal files, sockets and pipes of other threads stay with the keeper.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  pid_t pid = -1;
  int spawn_err = ::posix_spawnp(&pid, command_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  CloseFd(&in_pipe[0]);
  CloseFd(&out_pipe[1]);
  if (spawn_err != 0) {
    close_all();
    return fail_all(fmt::format("cannot run archive script {}: {}", command_, std::strerror(spawn_err)));
  }
  int& stdin_fd = in_pipe[1];
  int& stdout_fd = out_pipe[0];
  ::fcntl(stdin_fd, F_SETFL, ::fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(stdout_fd, F_SETFL, ::fcntl(stdout_fd, F_GETFL) | O_NONBLOCK);
  // Wakes poll() when the script exits even if something it started still
  // holds stdout open. Without pidfd (kernel < 5.3) we look every 50 ms.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));

  AnswerReader reader(logger_);
  size_t written = 0;
  bool exited = false;  // the script has exited and been reaped
  int wait_status = 0;
  bool timed_out = false;

  // The script has exited (a zombie, so its pid and group id are still
  // reserved): kill what it left in its group, then reap it.
  auto reap_after_exit = [&] {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    exited = true;
    CloseFd(&pidfd);
    CloseFd(&stdin_fd);  // nobody left to read it
  };
  auto drain_stdout = [&]() -> bool {  // false at EOF
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(stdout_fd, buf, sizeof buf);
      if (n > 0) {
        reader.Feed(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      return false;  // EOF, or an error we treat as the end
    }
  };

  if (input.empty()) CloseFd(&stdin_fd);
  while (stdout_fd >= 0 || !exited) {
    const auto now = Clock::now();
    if (now >= end) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t nfds = 0;
    int stdin_slot = -1, stdout_slot = -1;
    if (stdin_fd >= 0) {
      stdin_slot = static_cast<int>(nfds);
      fds[nfds++] = {stdin_fd, POLLOUT, 0};
    }
    if (stdout_fd >= 0) {
      stdout_slot = static_cast<int>(nfds);
      fds[nfds++] = {stdout_fd, POLLIN, 0};
    }
    if (pidfd >= 0) fds[nfds++] = {pidfd, POLLIN, 0};
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(end - now).count();
    wait_ms = std::min<decltype(wait_ms)>(wait_ms, pidfd < 0 && !exited ? 50 : 60000);
    int pr = ::poll(fds, nfds, static_cast<int>(std::max<decltype(wait_ms)>(wait_ms, 1)));
    if (pr < 0 && errno != EINTR) {
      Log(fmt::format("archive script {}: poll: {}", command_, std::strerror(errno)));
      timed_out = true;  // cannot wait any more: end it like a timeout
      break;
    }
    if (stdin_slot >= 0 && fds[stdin_slot].revents != 0) {
      ssize_t n = WriteNoSigpipe(stdin_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        // EPIPE: the script does not read its input (any more). Not an error.
        CloseFd(&stdin_fd);
      }
    }
    if (stdout_slot >= 0 && fds[stdout_slot].revents != 0) {
      if (!drain_stdout()) CloseFd(&stdout_fd);
    }
    if (!exited) {
      siginfo_t info{};
      int w = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
      if (w == 0 && info.si_pid == pid) {
        reap_after_exit();
      } else if (w < 0 && errno == ECHILD) {
        // SIGCHLD is ignored in this process: the kernel reaped the script
        // and its status is lost. It is gone; so is its group id, which may
        // not be signalled any more.
        exited = true;
        CloseFd(&pidfd);
        CloseFd(&stdin_fd);
      }
    }
  }

  const bool killed = !exited;
  if (killed) {
    // Timeout (or the end of waiting): the whole group goes, then the reap.
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    exited = true;
  }
  // What the script wrote before it ended still counts. At EOF an
  // unterminated last line is a line; if something that escaped the group
  // still holds stdout open, a partial line is dropped.
  if (stdout_fd < 0 || !drain_stdout()) reader.Finish();
  CloseFd(&stdin_fd);
  CloseFd(&stdout_fd);
  CloseFd(&pidfd);

  std::string ending;
  const std::string limit = by_timeout ? fmt::format("the {} timeout", DurationText(timeout_)) : "the keeper's deadline";
  if (killed) {
    ending = "killed at " + limit;
    Log(fmt::format("archive script {} did not finish: {}", command_, ending));
  } else if (timed_out) {
    // The script exited, but a process outside its group kept stdout open.
    ending = "output still open at " + limit;
    Log(fmt::format("archive script {}: {}", command_, ending));
  } else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0) {
    ending = fmt::format("exit status {}", WEXITSTATUS(wait_status));
    Log(fmt::format("archive script {} exited with error: {}", command_, ending));
  } else if (WIFSIGNALED(wait_status)) {
    ending = fmt::format("killed by signal {}", WTERMSIG(wait_status));
    Log(fmt::format("archive script {} exited with error: {}", command_, ending));
  }

  const auto& answers = reader.answers();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i >= answers.size()) {
      outcomes[i].error = fmt::format("{}: no response from script {}{}", batch[i].path, command_,
                                      ending.empty() ? "" : " (" + ending + ")");
      continue;
    }
    const ScriptAnswer& a = answers[i];
    if (a.status == "ok") {
      outcomes[i].ok = true;
      continue;
    }
    outcomes[i].error = fmt::format("{}: archive script {} answered status {:?}{}{}", batch[i].path, command_,
                                    a.status, a.error.empty() ? "" : ": ", a.error);
    Log(outcomes[i].error);
  }
  if (answers.size() > batch.size()) {
    Log(fmt::format("archive script {}: {} answers for {} files; the extra ones are ignored", command_,
                    answers.size(), batch.size()));
  }
  return outcomes;
}

}  // namespace lplex::keeper
