#include "cloud_main.h"

#include <signal.h>

#include <fmt/format.h>

#include <chrono>

#include "cloud_server.h"
#include "config/cloud_config.h"
#include "core/log.h"
#include "core/signal_pipe.h"

#ifndef LPLEX_CLOUD_VERSION
#define LPLEX_CLOUD_VERSION "0.0.0"
#endif
#ifndef LPLEX_CLOUD_COMMIT
#define LPLEX_CLOUD_COMMIT "unknown"
#endif
#ifndef LPLEX_CLOUD_BUILD_DATE
#define LPLEX_CLOUD_BUILD_DATE "unknown"
#endif

namespace lplex::cloud_app {

std::string VersionLine() {
  return fmt::format("lplex-cloud {} (commit {}, built {})", LPLEX_CLOUD_VERSION, LPLEX_CLOUD_COMMIT,
                     LPLEX_CLOUD_BUILD_DATE);
}

bool RequestShutdown() { return SignalPipe::Wake(SIGTERM); }

namespace {

// The config file's warnings (unknown keys, with "did you mean"), printed
// before an error they may explain: `grpc { insecure-plaintxt = true }`
// fails with "no TLS", and the warning names the typo.
void PrintWarnings(const std::vector<std::string>& warnings, std::FILE* err) {
  for (const auto& w : warnings) std::fprintf(err, "lplex-cloud: warning: config: %s\n", w.c_str());
}

}  // namespace

int CloudMain(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  // 1. Configuration: flags > file > defaults.
  std::vector<std::string> load_warnings;
  auto loaded = config::LoadCloudServerConfig(args, config::CloudServerLoadOptions(), &load_warnings);
  if (!loaded.ok()) {
    PrintWarnings(load_warnings, err);
    std::fprintf(err, "lplex-cloud: %s\n", loaded.status().message().c_str());
    return 2;
  }
  const config::CloudServerConfig& cfg = loaded->config;
  if (cfg.show_help) {
    std::fputs(config::Usage(config::CloudServerSettings(), "lplex-cloud").c_str(), out);
    return 0;
  }
  if (cfg.show_version) {
    std::fprintf(out, "%s\n", VersionLine().c_str());
    return 0;
  }
  if (cfg.validate_config) {
    const Status s = ValidateCloudServerConfig(cfg);
    if (!s.ok()) {
      PrintWarnings(loaded->report.warnings, err);
      std::fprintf(err, "lplex-cloud: %s\n", s.message().c_str());
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

  // Caught before anything starts: a SIGTERM during startup still shuts
  // down in order.
  SignalPipe signals;
  CloudServerEnv env;
  env.log = log;
  auto server = CloudServer::Create(cfg, env);
  if (!server.ok()) {
    std::fprintf(err, "lplex-cloud: %s\n", server.status().message().c_str());
    return 2;
  }
  const Status started = (*server)->Start();
  if (!started.ok()) {
    std::fprintf(err, "lplex-cloud: %s\n", started.message().c_str());
    return 1;
  }

  // 3. Run until a signal.
  for (;;) {
    const int sig = signals.Wait(std::chrono::milliseconds(1000));
    if (sig == SIGINT || sig == SIGTERM) {
      log->Info("received {}: shutting down (a second signal exits at once)", SignalName(sig));
      break;
    }
  }

  // 4. Shutdown on its own thread, so a second signal is still heard.
  StopHearingASecondSignal(
      signals, log, [&] { (*server)->Stop(); }, [&] { (*server)->CancelArchiving(); });
  log->Info("lplex-cloud: stopped");
  return 0;
}

}  // namespace lplex::cloud_app
