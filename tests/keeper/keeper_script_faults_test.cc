// Every way an archive script can fail, seen through the keeper: no file is
// marked, none is deleted against policy (expired but unarchived files stay
// while under the size cap), the files wait for a retry, and once the
// script works they are archived and only then deleted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/log.h"
#include "core/time.h"
#include "keeper/keeper.h"
#include "keeper/script_archiver.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const int64_t kNow = *timefmt::ParseRfc3339("2026-03-10T12:00:00Z");
constexpr int64_t kDay = 86400LL * 1'000'000;

struct Fault {
  const char* name;
  const char* script;  // body after #!/bin/sh; nullptr = the command does not exist
  bool executable = true;
};

const Fault kFaults[] = {
    {"ExitsNonZeroWithoutAnswers", "cat >/dev/null; exit 3\n"},
    {"HangsPastTimeout", "sleep 30\n"},
    {"PrintsGarbage", "cat >/dev/null; echo 'this is not json'; echo '{oops'\n"},
    {"PrintsNothing", "cat >/dev/null\n"},
    {"AnswersFewerLinesThanFiles", "cat >/dev/null; echo '{\"status\":\"error\",\"error\":\"no\"}'\n"},
    {"AnswersErrorForEach", "for f in \"$@\"; do echo '{\"status\":\"error\",\"error\":\"denied\"}'; done\n"},
    {"IsMissing", nullptr},
    {"IsNotExecutable", "echo never\n", false},
};

class KeeperScriptFault : public ::testing::TestWithParam<Fault> {};

INSTANTIATE_TEST_SUITE_P(Scripts, KeeperScriptFault, ::testing::ValuesIn(kFaults),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(KeeperScriptFault, NothingLostNothingDeletedAgainstPolicy) {
  lplex::testing::TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(j + "/nmea2k-" + timefmt::FileStamp(kNow - (10 + i) * kDay) + ".lpj");
    std::ofstream(files.back()) << "journal " << i;
  }
  const std::string script = dir.Sub("archive.sh");
  if (GetParam().script != nullptr) {
    std::ofstream(script) << "#!/bin/sh\n" << GetParam().script;
    fs::permissions(script, GetParam().executable ? fs::perms::owner_all : fs::perms::owner_read);
  }
  FakeClock clock(kNow);
  ScriptArchiver::Options so;
  so.timeout = 300ms;  // real time for the script: its process does not know the clock is fake
  so.log = Logger::Discard();
  so.clock = &clock;  // the keeper's deadlines are on this clock's time line
  auto archiver = std::make_shared<ScriptArchiver>(script, so);
  KeeperOptions o;
  o.dirs = {{j, "boat-1"}};
  o.trigger = ArchiveTrigger::kBeforeExpire;
  o.archiver = archiver;
  o.retention.max_age_us = 7 * kDay;  // all three expired
  o.clock = &clock;
  RecordingLogger log;
  o.log = &log;
  Keeper k(o);
  k.ScanAll();
  k.ScanAll();
  k.RetryPending();
  for (const auto& f : files) {
    EXPECT_TRUE(fs::exists(f)) << f << " deleted although never archived";
    EXPECT_FALSE(fs::exists(f + ".archived")) << f << " marked although the script failed";
  }
  EXPECT_EQ(k.pending_count(), 3u);
  EXPECT_GT(k.backoff(), 0ms);
  // A warning about the first file names its directory's instance, the file
  // and the script (each once: the keeper does not repeat what the error says).
  bool warned = false;
  for (const auto& line : log.lines()) {
    warned = warned || (line.level == LogLevel::kWarn && line.message.rfind("[boat-1] keeper: archiving", 0) == 0 &&
                        line.message.find(files[0]) != std::string::npos &&
                        line.message.find("script " + script) != std::string::npos);
  }
  EXPECT_TRUE(warned) << log.Text();

  // The operator fixes the script: the retry archives, the next scan deletes.
  std::error_code ec;
  fs::remove(script, ec);
  std::ofstream(script) << "#!/bin/sh\ncat >/dev/null\nfor f in \"$@\"; do echo '{\"status\":\"ok\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  k.RetryPending();
  EXPECT_EQ(k.pending_count(), 0u);
  for (const auto& f : files) EXPECT_TRUE(fs::exists(f + ".archived")) << f;
  k.ScanAll();
  for (const auto& f : files) EXPECT_FALSE(fs::exists(f)) << f;
}

}  // namespace
}  // namespace lplex::keeper
