#include "core/signal_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <cerrno>

namespace lplex {
namespace {

std::atomic<int> g_write_fd{-1};

extern "C" void OnDaemonSignal(int sig) {
  const int saved = errno;
  SignalPipe::Wake(sig);
  errno = saved;
}

}  // namespace

SignalPipe::SignalPipe() {
  if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) fds_[0] = fds_[1] = -1;
  g_write_fd.store(fds_[1]);
  struct sigaction sa {};
  sa.sa_handler = OnDaemonSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &old_int_);
  ::sigaction(SIGTERM, &sa, &old_term_);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old_pipe_);
}

SignalPipe::~SignalPipe() {
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
  ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  g_write_fd.store(-1);
  if (fds_[0] >= 0) ::close(fds_[0]);
  if (fds_[1] >= 0) ::close(fds_[1]);
}

int SignalPipe::Wait(std::chrono::milliseconds timeout) {
  pollfd p{fds_[0], POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return 0;
  unsigned char b = 0;
  return ::read(fds_[0], &b, 1) == 1 ? b : 0;
}

bool SignalPipe::Wake(int code) {
  const int fd = g_write_fd.load();
  if (fd < 0) return false;
  const unsigned char b = static_cast<unsigned char>(code);
  return ::write(fd, &b, 1) == 1;
}

const char* SignalName(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal"; }

void StopHearingASecondSignal(SignalPipe& signals, Logger* log, const std::function<void()>& stop,
                              const std::function<void()>& cancel) {
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    stop();
    done.store(true);
    SignalPipe::Wake(0xFE);  // wakes the wait below
  });
  while (!done.load()) {
    const int sig = signals.Wait(std::chrono::milliseconds(200));
    if (sig == SIGINT || sig == SIGTERM) {
      log->Error("received a second {} during shutdown: stopping the archiver and exiting", SignalName(sig));
      cancel();
      // Bounded: the second signal means "now".
      const auto limit = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
      while (!done.load() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::fflush(nullptr);
      ::_exit(130);
    }
  }
  stopper.join();
}

}  // namespace lplex
