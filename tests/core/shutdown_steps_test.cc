#include "core/shutdown_steps.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace lplex {
namespace {

class Lines : public Logger {
 public:
  std::vector<std::string> lines;
  void Log(LogLevel, std::string_view line) override { lines.emplace_back(line); }
};

TEST(ShutdownSteps, EachStepIsLoggedWithItsDurationAndDetailInOrder) {
  Lines log;
  {
    ShutdownSteps steps(&log);
    steps.Step("stopped HTTP", [] { return std::string(); });
    steps.Step("drained the broker", [] { return std::string("12 queued frame(s) ingested"); });
    steps.Done();
  }
  ASSERT_EQ(log.lines.size(), 4u);
  EXPECT_EQ(log.lines[0], "shutdown: started");
  EXPECT_EQ(log.lines[1].rfind("shutdown: stopped HTTP in 0.0", 0), 0u) << log.lines[1];
  EXPECT_EQ(log.lines[1].find(": ", 10), std::string::npos) << "no detail, no colon: " << log.lines[1];
  EXPECT_NE(log.lines[2].find(" s: 12 queued frame(s) ingested"), std::string::npos) << log.lines[2];
  EXPECT_EQ(log.lines[3].rfind("shutdown: done in ", 0), 0u) << log.lines[3];
}

TEST(FormatSeconds, MillisecondsWithThreeDecimals) {
  EXPECT_EQ(FormatSeconds(std::chrono::milliseconds(1234)), "1.234 s");
  EXPECT_EQ(FormatSeconds(std::chrono::microseconds(400)), "0.000 s");
}

}  // namespace
}  // namespace lplex
