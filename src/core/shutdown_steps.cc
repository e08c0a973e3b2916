#include "core/shutdown_steps.h"

#include <fmt/format.h>

namespace lplex {

std::string FormatSeconds(std::chrono::steady_clock::duration d) {
  return fmt::format("{:.3f} s", std::chrono::duration<double>(d).count());
}

ShutdownSteps::ShutdownSteps(Logger* log) : log_(log), start_(std::chrono::steady_clock::now()) {
  log_->Info("shutdown: started");
}

void ShutdownSteps::Step(const char* what, const std::function<std::string()>& body) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string detail = body();
  log_->Info("shutdown: {} in {}{}", what, FormatSeconds(std::chrono::steady_clock::now() - t0),
             detail.empty() ? "" : ": " + detail);
}

void ShutdownSteps::Done() { log_->Info("shutdown: done in {}", FormatSeconds(std::chrono::steady_clock::now() - start_)); }

}  // namespace lplex
