// Acceptance: a writer → keeper pipeline stopped with SIGTERM at random
// moments 20 times and restarted loses nothing — every file ever rotated or
// finalized is in the archive with identical bytes, and after the final
// start no .lpj is left unarchived.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "journal/reader.h"
#include "support/pipeline_recorder.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


// Waits up to `limit` for the child; kills it if it does not exit. Returns its status.
int Reap(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(10ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ADD_FAILURE() << "recorder did not stop within " << limit.count() << " ms of SIGTERM";
  return status;
}

TEST(PipelineSigterm, TwentyRandomStopsLoseNoFile) {
  ASSERT_TRUE(fs::exists(lplex::testing::kPipelineRecorder)) << lplex::testing::kPipelineRecorder;
  lplex::testing::TempDir dir;
  const std::string journal = dir.Sub("journal");
  const std::string archive = dir.Sub("archive");
  std::mt19937 rng(20261123);
  std::uniform_int_distribution<int> wait_ms(50, 2500);

  for (int round = 0; round < 20; ++round) {
    pid_t pid = lplex::testing::SpawnRecorder(journal, archive);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng)));
    kill(pid, SIGTERM);
    int status = Reap(pid, 20s);
    ASSERT_TRUE(WIFEXITED(status) || WIFSIGNALED(status));
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0) << "round " << round;
    }
  }
  // The final start sweeps whatever an early stop left behind.
  pid_t pid = lplex::testing::SpawnRecorder(journal, archive);
  std::this_thread::sleep_for(2s);
  kill(pid, SIGTERM);
  int status = Reap(pid, 20s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  size_t files = 0;
  uint64_t frames = 0;
  for (const auto& e : fs::directory_iterator(journal)) {
    if (e.path().extension() != ".lpj") continue;
    ++files;
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(fs::exists(e.path().string() + ".archived")) << name << " left unarchived";
    const std::string copy = archive + "/boat-1/" + name;
    ASSERT_TRUE(fs::exists(copy)) << name << " missing from the archive";
    EXPECT_EQ(lplex::testing::ReadWholeFile(copy), lplex::testing::ReadWholeFile(e.path().string())) << name << " differs in the archive";
    auto r = lplex::journal::JournalReader::OpenPath(e.path().string());
    ASSERT_TRUE(r.ok()) << name;
    while ((*r)->Next()) ++frames;
    EXPECT_TRUE((*r)->status().ok()) << name << ": " << (*r)->status().ToString();
  }
  EXPECT_GT(files, 20u);
  EXPECT_GT(frames, 10000u);
  // Nothing in the archive that is not in the journal (and no temporary leftovers).
  for (const auto& e : fs::directory_iterator(archive + "/boat-1")) {
    EXPECT_TRUE(fs::exists(journal + "/" + e.path().filename().string())) << e.path();
  }
}

}  // namespace
