#include "server_main.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "boat_server.h"
#include "config/boat_config.h"
#include "core/log.h"
#include "core/signal_pipe.h"
#include "mdns/mdns.h"
#include "systemd_notify.h"

#ifndef LPLEX_SERVER_VERSION
#define LPLEX_SERVER_VERSION "0.0.0"
#endif
#ifndef LPLEX_SERVER_COMMIT
#define LPLEX_SERVER_COMMIT "unknown"
#endif
#ifndef LPLEX_SERVER_BUILD_DATE
#define LPLEX_SERVER_BUILD_DATE "unknown"
#endif

namespace lplex::server {
namespace {

// -status-line is the program's own flag (the settings table is shared with
// the docs and the config file, where it has no meaning).
bool TakeStatusLineFlag(std::vector<std::string>* args) {
  bool found = false;
  args->erase(std::remove_if(args->begin(), args->end(),
                             [&](const std::string& a) {
                               const bool match = a == "-status-line" || a == "--status-line";
                               found = found || match;
                               return match;
                             }),
              args->end());
  return found;
}

class StatusLine {
 public:
  StatusLine(std::FILE* out, const BoatServer* server)
      : out_(out), server_(server), tty_(::isatty(::fileno(out)) != 0), last_(std::chrono::steady_clock::now()) {
    last_frames_ = server_->status().frames_total;
  }
  void Print() {
    const auto now = std::chrono::steady_clock::now();
    const BoatServerStatus s = server_->status();
    const double secs = std::chrono::duration<double>(now - last_).count();
    const double fps = secs > 0 ? static_cast<double>(s.frames_total - last_frames_) / secs : 0;
    last_ = now;
    last_frames_ = s.frames_total;
    const std::string line =
        fmt::format("{:.0f} frames/s | {} devices | {} clients | seq {} | files: {} written, {} archived{}", fps,
                    s.devices, s.clients, s.head_seq > 0 ? s.head_seq - 1 : 0, s.files_written, s.files_archived,
                    s.journal_dropped + s.source_dropped > 0
                        ? fmt::format(" | {} dropped", s.journal_dropped + s.source_dropped)
                        : "");
    if (tty_) {
      std::fprintf(out_, "\r\033[K%s", line.c_str());
      dirty_ = true;
    } else {
      std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
  }
  // Ends the in-place line so that later output starts on its own line.
  void Finish() {
    if (dirty_) std::fputs("\n", out_);
    dirty_ = false;
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  const BoatServer* server_;
  bool tty_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_;
  uint64_t last_frames_ = 0;
};

// Announces _lplex._tcp (instance name = hostname, spec §2.0) on the port
// the HTTP API really listens on. Without an avahi daemon the server still
// serves: one warning, and clients need --server.
std::unique_ptr<mdns::Announcer> AnnounceOverMdns(uint16_t port, Logger* log) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    log->Warn("mDNS: not announcing: cannot read the hostname: {}", std::strerror(errno));
    return nullptr;
  }
  auto announcer = mdns::Announcer::Start(host, port);
  if (!announcer.ok()) {
    log->Warn("{}; serving without mDNS (clients need --server, or turn this off with -mdns=false)",
              announcer.status().message());
    return nullptr;
  }
  log->Info("mDNS: announcing {} \"{}\" on port {}", mdns::kServiceType, host, port);
  return std::move(*announcer);
}

}  // namespace

std::string VersionLine() {
  return fmt::format("lplex-server {} (commit {}, built {})", LPLEX_SERVER_VERSION, LPLEX_SERVER_COMMIT,
                     LPLEX_SERVER_BUILD_DATE);
}

int ServerMain(const std::vector<std::string>& in_args, std::FILE* out, std::FILE* err) {
  std::vector<std::string> args = in_args;
  const bool status_line = TakeStatusLineFlag(&args);

  // 1. Configuration: flags > file > defaults.
  auto loaded = config::LoadBoatServerConfig(args);
  if (!loaded.ok()) {
    std::fprintf(err, "lplex-server: %s\n", loaded.status().message().c_str());
    return 2;
  }
  const config::BoatServerConfig& cfg = loaded->config;
  if (cfg.show_help) {
    std::fputs(config::Usage(config::BoatServerSettings().specs(), "lplex-server").c_str(), out);
    std::fputs("  -status-line\n        Print a one-line status every second (frames/s, devices, clients, files).\n",
               out);
    return 0;
  }
  if (cfg.show_version) {
    std::fprintf(out, "%s\n", VersionLine().c_str());
    return 0;
  }
  if (cfg.validate_config) {
    Status s = ValidateBoatServerConfig(cfg);
    if (s.ok()) s = CheckBoatServerEnvironment(cfg);
    if (!s.ok()) {
      // The warnings first: an unknown key is often a typo of the setting
      // whose absence the error is about ("journal.dri").
      for (const auto& w : loaded->report.warnings) std::fprintf(err, "lplex-server: warning: config: %s\n", w.c_str());
      std::fprintf(err, "lplex-server: %s\n", s.message().c_str());
      return 2;
    }
    std::fputs(config::DescribeEffectiveConfig(loaded->report).c_str(), out);
    return 0;
  }

  // 2. Logger (stderr); the config's warnings go there first.
  Logger* log = Logger::Default();
  log->Info("{} starting", VersionLine());
  if (!loaded->report.config_path.empty()) log->Info("config: {}", loaded->report.config_path);
  for (const auto& w : loaded->report.warnings) log->Warn("config: {}", w);

  // Signals are caught before anything starts, so a SIGTERM during startup
  // still shuts down in order.
  SignalPipe signals;
  SystemdNotifier notifier;
  std::atomic<bool> fatal{false};
  BoatServerEnv env;
  env.log = log;
  env.notifier = &notifier;
  env.on_fatal = [&fatal](const Status&) {
    fatal.store(true);
    SignalPipe::Wake(0xFF);  // wakes the main loop
  };
  auto server = BoatServer::Create(cfg, env);
  if (!server.ok()) {
    std::fprintf(err, "lplex-server: %s\n", server.status().message().c_str());
    return 2;
  }
  const Status started = (*server)->Start();
  if (!started.ok()) {
    std::fprintf(err, "lplex-server: %s\n", started.message().c_str());
    return 1;
  }
  std::unique_ptr<mdns::Announcer> announcer;
  if (cfg.mdns) {
    announcer = AnnounceOverMdns((*server)->http_port(), log);
  } else {
    log->Info("mDNS: not announcing (-mdns=false)");
  }

  // 3. Run until a signal (or a source fails for good).
  std::optional<StatusLine> line;
  if (status_line) line.emplace(out, server->get());
  auto next_status = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_status - std::chrono::steady_clock::now());
    const int sig = signals.Wait(std::max(wait, std::chrono::milliseconds(0)));
    if (sig == SIGINT || sig == SIGTERM) {
      if (line) line->Finish();
      log->Info("received {}: shutting down (a second signal exits at once)", SignalName(sig));
      break;
    }
    if (fatal.load()) {
      if (line) line->Finish();
      log->Error("a source failed: shutting down");
      break;
    }
    if (std::chrono::steady_clock::now() >= next_status) {
      if (line) line->Print();
      next_status += std::chrono::seconds(1);
    }
  }

  // Withdrawn first, so that clients stop finding a server that is going.
  announcer.reset();

  // 4. Shutdown on its own thread, so a second signal is still heard (the
  // archive script runs in its own process group: cancelling stops it).
  StopHearingASecondSignal(
      signals, log, [&] { (*server)->Stop(); }, [&] { (*server)->CancelArchiving(); });
  const BoatServerStatus s = (*server)->status();
  log->Info("lplex-server: stopped; seq {}..{}, {} journal file(s) written, {} archived this run", s.first_seq,
            s.head_seq > 0 ? s.head_seq - 1 : 0, s.files_written, s.files_archived);
  return fatal.load() ? 1 : 0;
}

}  // namespace lplex::server
