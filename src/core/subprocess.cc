#include "core/subprocess.h"

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

#include <fmt/format.h>

extern char** environ;

namespace lplex {
namespace {

using Clock = std::chrono::steady_clock;
using Stream = SubprocessOptions::Stream;

// After a kill, how long the pipes are still read for the end of output: the
// killed group's members close their ends as they die, a moment after the
// signal.
constexpr std::chrono::milliseconds kAfterKillGrace(100);

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// Moves fd above the standard descriptors, keeping it close-on-exec, so the
// child's dup2 never sees fd == target (which would keep FD_CLOEXEC set).
bool LiftFd(int* fd) {
  if (*fd > 2) return true;
  int nfd = ::fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) return false;
  ::close(*fd);
  *fd = nfd;
  return true;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

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

// "NAME=value" → "NAME=" (the key an override replaces).
std::string_view EnvKey(std::string_view entry) {
  size_t eq = entry.find('=');
  return eq == std::string_view::npos ? entry : entry.substr(0, eq + 1);
}

std::vector<std::string> BuildEnv(const SubprocessOptions& o) {
  std::vector<std::string> env;
  if (o.env) {
    env = *o.env;
  } else {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  }
  for (const std::string& add : o.env_overrides) {
    std::string_view key = EnvKey(add);
    std::erase_if(env, [&](const std::string& e) { return EnvKey(e) == key; });
    env.push_back(add);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// One output pipe (stdout or stderr) of the running program.
struct OutputPipe {
  int fd = -1;
  const std::function<void(std::string_view)>* callback = nullptr;
  std::string* captured = nullptr;
  bool* truncated = nullptr;
  size_t max_captured = 0;

  void Deliver(const char* data, size_t n) {
    if (callback != nullptr && *callback) {
      (*callback)(std::string_view(data, n));
      return;
    }
    size_t room = max_captured > captured->size() ? max_captured - captured->size() : 0;
    captured->append(data, std::min(room, n));
    if (n > room) *truncated = true;
  }

  // Reads what is there; closes the pipe at its end. False at the end.
  bool Drain() {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        Deliver(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      CloseFd(&fd);  // EOF, or an error we treat as the end
      return false;
    }
  }
};

// The child's ends and the parent's ends of the three pipes, all
// close-on-exec; closes whatever is left on destruction.
struct Pipes {
  int child[3] = {-1, -1, -1};
  int parent[3] = {-1, -1, -1};
  ~Pipes() {
    for (int i = 0; i < 3; ++i) {
      CloseFd(&child[i]);
      CloseFd(&parent[i]);
    }
  }
  // Creates the pipe for standard descriptor `i` (0 = stdin).
  bool Make(int i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
    child[i] = i == 0 ? p[0] : p[1];
    parent[i] = i == 0 ? p[1] : p[0];
    return LiftFd(&child[i]);
  }
};

// The state of one run after a successful spawn.
class Runner {
 public:
  Runner(const SubprocessOptions& o, pid_t pid, Pipes* pipes, SubprocessResult* result)
      : o_(o), pid_(pid), result_(result) {
    stdin_fd_ = std::exchange(pipes->parent[0], -1);
    out_[0].fd = std::exchange(pipes->parent[1], -1);
    out_[1].fd = std::exchange(pipes->parent[2], -1);
    out_[0].callback = &o.on_stdout;
    out_[0].captured = &result->stdout_text;
    out_[0].truncated = &result->stdout_truncated;
    out_[1].callback = &o.on_stderr;
    out_[1].captured = &result->stderr_text;
    out_[1].truncated = &result->stderr_truncated;
    for (OutputPipe& p : out_) {
      p.max_captured = o.max_captured_bytes;
      if (p.fd >= 0) SetNonBlocking(p.fd);
    }
    if (stdin_fd_ >= 0) {
      SetNonBlocking(stdin_fd_);
      if (o.stdin_data.empty()) CloseFd(&stdin_fd_);
    }
    // Wakes poll() when the program exits even if something it started
    // still holds an output pipe. Without pidfd (kernel < 5.3): every 50 ms.
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  }

  ~Runner() {
    CloseFd(&stdin_fd_);
    for (OutputPipe& p : out_) CloseFd(&p.fd);
    CloseFd(&pidfd_);
  }

  void Wait(SteadyDeadline deadline) {
    bool wait_failed = false;
    bool cancelled = false;
    while (OutputOpen() || !exited_) {
      const auto now = Clock::now();
      if (!cancelled && o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed)) {
        // Ask the group to stop; what it still writes while it dies counts.
        // A program that already exited (only an escaped descendant holds
        // the pipes) is not waited for.
        cancelled = true;
        if (!exited_) ::kill(-pid_, SIGTERM);
        deadline = std::min(deadline, exited_ ? now : now + Subprocess::kCancelGrace);
      }
      if (now >= deadline) break;
      pollfd fds[4];
      int slot[3] = {-1, -1, -1};  // stdin, stdout, stderr
      nfds_t nfds = 0;
      if (stdin_fd_ >= 0) {
        slot[0] = static_cast<int>(nfds);
        fds[nfds++] = {stdin_fd_, POLLOUT, 0};
      }
      for (int i = 0; i < 2; ++i) {
        if (out_[i].fd < 0) continue;
        slot[i + 1] = static_cast<int>(nfds);
        fds[nfds++] = {out_[i].fd, POLLIN, 0};
      }
      if (pidfd_ >= 0) fds[nfds++] = {pidfd_, POLLIN, 0};
      auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      wait_ms = std::min<decltype(wait_ms)>(wait_ms, pidfd_ < 0 && !exited_ ? 50 : 60000);
      if (o_.cancel != nullptr && !cancelled) {
        wait_ms = std::min<decltype(wait_ms)>(wait_ms, Subprocess::kCancelPollInterval.count());
      }
      int pr = ::poll(fds, nfds, static_cast<int>(std::max<decltype(wait_ms)>(wait_ms, 1)));
      if (pr < 0 && errno != EINTR) {
        result_->wait_error = fmt::format("poll: {}", std::strerror(errno));
        wait_failed = true;
        break;  // cannot wait any more: end it like a timeout
      }
      if (pr > 0) {
        if (slot[0] >= 0 && fds[slot[0]].revents != 0) WriteInput();
        for (int i = 0; i < 2; ++i) {
          if (slot[i + 1] >= 0 && fds[slot[i + 1]].revents != 0) out_[i].Drain();
        }
      }
      if (!exited_) CheckExited();
    }

    if (!exited_) {
      // The deadline (or a failed poll): the whole group goes, then the reap.
      ::kill(-pid_, SIGKILL);
      Reap();
      result_->ending = SubprocessResult::Ending::kTimedOut;
      result_->signal = SIGKILL;
    }
    if (cancelled) result_->ending = SubprocessResult::Ending::kCancelled;
    CloseFd(&stdin_fd_);
    // What the program wrote before it ended still counts.
    if (result_->ending == SubprocessResult::Ending::kTimedOut || wait_failed || cancelled) DrainAfterKill();
    for (OutputPipe& p : out_) {
      if (p.fd >= 0) p.Drain();
    }
    result_->output_cut = OutputOpen();
  }

 private:
  bool OutputOpen() const { return out_[0].fd >= 0 || out_[1].fd >= 0; }

  void WriteInput() {
    const std::string& in = o_.stdin_data;
    ssize_t n = WriteNoSigpipe(stdin_fd_, in.data() + written_, in.size() - written_);
    if (n > 0) written_ += static_cast<size_t>(n);
    if ((n < 0 && errno != EAGAIN && errno != EINTR) || written_ == in.size()) {
      // EPIPE: the program does not read its input (any more). Not an error.
      CloseFd(&stdin_fd_);
    }
  }

  // Has the program exited? Then kill what it left in its group and reap it.
  void CheckExited() {
    siginfo_t info{};
    int w = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (w == 0 && info.si_pid == pid_) {
      // A zombie still holds its pid and group id, so the group is ours to
      // signal until the reap.
      ::kill(-pid_, SIGKILL);
      Reap();
    } else if (w < 0 && errno == ECHILD) {
      // SIGCHLD is ignored in this process: the kernel reaped the program
      // and its status is lost. Its group id may belong to someone else
      // now and is not signalled.
      exited_ = true;
      result_->ending = SubprocessResult::Ending::kUnknown;
      CloseFd(&pidfd_);
      CloseFd(&stdin_fd_);
    }
  }

  void Reap() {
    int status = 0;
    pid_t w;
    while ((w = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    exited_ = true;
    CloseFd(&pidfd_);
    CloseFd(&stdin_fd_);  // nobody left to read it
    if (w != pid_) {
      result_->ending = SubprocessResult::Ending::kUnknown;
    } else if (WIFEXITED(status)) {
      result_->ending = SubprocessResult::Ending::kExited;
      result_->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result_->ending = SubprocessResult::Ending::kSignaled;
      result_->signal = WTERMSIG(status);
    }
  }

  // After a kill: read until the pipes end, for at most kAfterKillGrace.
  void DrainAfterKill() {
    const auto until = Clock::now() + kAfterKillGrace;
    while (OutputOpen()) {
      for (OutputPipe& p : out_) {
        if (p.fd >= 0) p.Drain();
      }
      const auto now = Clock::now();
      if (!OutputOpen() || now >= until) return;
      pollfd fds[2];
      nfds_t nfds = 0;
      for (OutputPipe& p : out_) {
        if (p.fd >= 0) fds[nfds++] = {p.fd, POLLIN, 0};
      }
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
      if (::poll(fds, nfds, static_cast<int>(std::max<decltype(ms)>(ms, 1))) < 0 && errno != EINTR) return;
    }
  }

  const SubprocessOptions& o_;
  const pid_t pid_;
  SubprocessResult* result_;
  int stdin_fd_ = -1;
  OutputPipe out_[2];
  int pidfd_ = -1;
  size_t written_ = 0;
  bool exited_ = false;
};

}  // namespace

std::string SubprocessResult::Describe() const {
  std::string text;
  switch (ending) {
    case Ending::kExited: text = fmt::format("exit status {}", exit_code); break;
    case Ending::kSignaled: {
      const char* abbrev = sigabbrev_np(signal);
      text = abbrev != nullptr ? fmt::format("killed by signal {} (SIG{})", signal, abbrev)
                               : fmt::format("killed by signal {}", signal);
      break;
    }
    case Ending::kTimedOut:
      text = wait_error.empty() ? "still running at the deadline" : "killed after waiting failed (" + wait_error + ")";
      break;
    case Ending::kUnknown: text = "exit status unknown (SIGCHLD is ignored)"; break;
    case Ending::kCancelled: text = "stopped: cancelled"; break;
  }
  if (output_cut) text += ", output cut at the deadline";
  return text;
}

Result<SubprocessResult> Subprocess::RunFor(const SubprocessOptions& options, std::chrono::milliseconds timeout) {
  const auto now = Clock::now();
  // Compared as durations: a huge timeout must not overflow a time_point.
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyDeadline::max() - now);
  return Run(options, timeout >= room ? SteadyDeadline::max() : now + timeout);
}

Result<SubprocessResult> Subprocess::Run(const SubprocessOptions& o, SteadyDeadline deadline) {
  if (o.argv.empty() || o.argv[0].empty()) {
    return Status::InvalidArgument("subprocess: no program given (argv is empty)");
  }
  const std::string name = o.display_name.empty() ? o.argv[0] : o.display_name;
  if (o.cancel != nullptr && o.cancel->load(std::memory_order_relaxed)) {
    SubprocessResult not_started;
    not_started.ending = SubprocessResult::Ending::kCancelled;
    return not_started;
  }

  Pipes pipes;
  const Stream modes[3] = {o.stdin_mode, o.stdout_mode, o.stderr_mode};
  for (int i = 0; i < 3; ++i) {
    if (modes[i] == Stream::kPipe && !pipes.Make(i)) {
      return Status::FromErrno(fmt::format("cannot run {}: pipe", name), errno);
    }
  }

  std::vector<std::string> argv_store = o.argv;
  std::vector<char*> argv = CStrings(argv_store);
  std::vector<std::string> env_store = BuildEnv(o);
  std::vector<char*> envp = CStrings(env_store);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < 3; ++i) {
    if (modes[i] == Stream::kPipe) {
      posix_spawn_file_actions_adddup2(&actions, pipes.child[i], i);
    } else if (modes[i] == Stream::kNull) {
      posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    }
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Journal files, sockets and pipes of other threads stay with us.
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
  int spawn_err = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int& fd : pipes.child) CloseFd(&fd);
  if (spawn_err != 0) return Status::FromErrno(fmt::format("cannot run {}", name), spawn_err);

  SubprocessResult result;
  Runner(o, pid, &pipes, &result).Wait(deadline);
  return result;
}

}  // namespace lplex
