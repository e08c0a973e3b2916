#include "cloud/instance_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "broker/broker.h"
#include "cloud_test_util.h"
#include "core/clock.h"
#include "core/log.h"
#include "support/temp_dir.h"

namespace lplex::cloud {
namespace {

namespace fs = std::filesystem;
using testing::kT0;
using testing::LpjFiles;
using testing::ReadJournal;
using testing::Replica;

constexpr int64_t kSecond = 1'000'000;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A manager on a FakeClock whose journal runners the test drives.
struct Fixture {
  lplex::testing::TempDir tmp;
  FakeClock clock{kT0, 1'000 * kSecond};
  RecordingLogger log;
  std::mutex mu;
  std::vector<journal::RotatedFile> rotated;
  std::unique_ptr<InstanceManager> manager;

  InstanceManagerOptions Options() {
    InstanceManagerOptions o;
    o.data_dir = tmp.path();
    o.idle_timeout_us = 60 * kSecond;
    o.start_journal_threads = false;
    o.on_rotate = [this](const journal::RotatedFile& f) {
      std::lock_guard<std::mutex> lock(mu);
      rotated.push_back(f);
    };
    o.clock = &clock;
    o.log = &log;
    return o;
  }
  void Open() { Open(Options()); }
  void Open(InstanceManagerOptions o) {
    auto r = InstanceManager::Open(std::move(o));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    manager = std::move(*r);
  }
  size_t rotations() {
    std::lock_guard<std::mutex> lock(mu);
    return rotated.size();
  }
  std::string JournalDir(const std::string& id) const { return tmp.Sub("instances/" + id + "/journal"); }
  void MakeInstanceDir(const std::string& name) { fs::create_directories(tmp.Sub("instances/" + name)); }
};

TEST(InstanceManager, CloudJournalRotatesByDurationAndFiresOnRotate) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->SetJournalRotation(42 * kSecond, 1 << 20).ok());
  ASSERT_TRUE(f.manager->Register("rotate-test").ok());
  auto instance = f.manager->Ensure("rotate-test");
  ASSERT_TRUE(instance.ok()) << instance.status().ToString();
  ASSERT_TRUE((*instance)->Ingest(Replica(1)).ok());
  f.manager->RunJournalOnce();
  f.clock.Advance(43 * kSecond);
  f.manager->RunJournalOnce();
  ASSERT_EQ(f.rotations(), 1u) << "the live file rotates 42 s after it started";
  EXPECT_EQ(f.rotated[0].instance_id, "rotate-test");
  auto files = LpjFiles(f.JournalDir("rotate-test"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::path(files[0]).filename().string().rfind("nmea2k-", 0), 0u) << files[0];

  ASSERT_TRUE((*instance)->Ingest(Replica(2, kT0 + 43 * kSecond)).ok());
  f.manager->RunJournalOnce();
  ASSERT_TRUE(f.manager->Shutdown().ok());
  EXPECT_EQ(f.rotations(), 2u) << "Shutdown returns only after the last live file reached on_rotate";
  EXPECT_EQ(LpjFiles(f.JournalDir("rotate-test")).size(), 2u);
}

TEST(InstanceManager, SetRotationAppliesToAnOpenFile) {
  Fixture f;
  f.Open();  // no rotation
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE((*instance)->Ingest(Replica(1)).ok());
  f.manager->RunJournalOnce();
  ASSERT_TRUE(f.manager->SetJournalRotation(5 * kSecond, 512 << 20).ok());
  f.clock.Advance(6 * kSecond);
  f.manager->RunJournalOnce();
  EXPECT_EQ(f.rotations(), 1u) << "the file open when the rotation was set rotates under it";
}

TEST(InstanceManager, SetJournalRotationReachesAnInstanceStartedLater) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  ASSERT_TRUE(f.manager->SetJournalRotation(5 * kSecond, 0).ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE((*instance)->Ingest(Replica(1)).ok());
  f.manager->RunJournalOnce();
  f.clock.Advance(6 * kSecond);
  f.manager->RunJournalOnce();
  EXPECT_EQ(f.rotations(), 1u);
  EXPECT_FALSE(f.manager->SetJournalRotation(-1, 0).ok());
}

TEST(InstanceManager, IdleInstanceHoldsNoOpenFileNorBuffer) {
  Fixture f;
  f.MakeInstanceDir("boat-1");
  const size_t fds_before = testing::CountProcEntries("fd");
  f.Open();
  EXPECT_EQ(testing::CountProcEntries("fd"), fds_before) << "loading instances leaves no file open";
  auto instance = f.manager->Get("boat-1");
  ASSERT_NE(instance, nullptr);
  EXPECT_FALSE(instance->active());
  EXPECT_EQ(instance->broker(), nullptr) << "reading an instance must not start its broker";
  EXPECT_EQ(f.manager->active_count(), 0u);
  EXPECT_FALSE(fs::exists(f.JournalDir("boat-1")));

  // Active but no frame yet: a broker, and a journal that owns no writer.
  ASSERT_TRUE(f.manager->Ensure("boat-1").ok());
  EXPECT_TRUE(instance->active());
  EXPECT_FALSE(instance->journal_metrics().active);
  EXPECT_FALSE(fs::exists(f.JournalDir("boat-1")));

  ASSERT_TRUE(instance->Ingest(Replica(1)).ok());
  EXPECT_TRUE(instance->journal_metrics().active);

  // Idle again: broker, journal, writer and queue are gone, the file finished.
  f.manager->Tick(f.clock.MonotonicMicros());
  f.clock.Advance(61 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_FALSE(instance->active());
  EXPECT_EQ(instance->broker(), nullptr);
  EXPECT_FALSE(instance->journal_metrics().active);
  EXPECT_EQ(f.manager->active_count(), 0u);
  EXPECT_EQ(testing::CountProcEntries("fd"), fds_before) << "an idle instance keeps no file open";
}

TEST(InstanceManager, IdleTimeoutFinalizesTheJournalBeforeDroppingTheInstance) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE((*instance)->Ingest(Replica(s, kT0 + static_cast<int64_t>(s))).ok());
  f.manager->RunJournalOnce();
  std::weak_ptr<broker::Broker> broker = (*instance)->broker();
  f.manager->Tick(f.clock.MonotonicMicros());
  f.clock.Advance(59 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_TRUE((*instance)->active()) << "59 s without frames is not idle yet (timeout 60 s)";
  EXPECT_EQ(f.rotations(), 0u);

  f.clock.Advance(2 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  ASSERT_EQ(f.rotations(), 1u) << "the journal is finalized, and the keeper told, before Tick returns";
  EXPECT_EQ(f.rotated[0].instance_id, "boat-1");
  testing::FileContents c = ReadJournal(f.rotated[0].path);
  EXPECT_EQ(c.seqs, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(c.has_index);
  EXPECT_FALSE((*instance)->active());
  EXPECT_TRUE(broker.expired()) << "nothing holds the stopped broker";
}

// A client streaming an instance's events (the HTTP stream holds its
// broker) must not be cut because the boat went quiet.
TEST(InstanceManager, AnInstanceWhoseBrokerAClientHoldsIsNotStoppedWhileItReads) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE((*instance)->Ingest(Replica(1, kT0)).ok());
  std::shared_ptr<broker::Broker> reader = (*instance)->broker();
  f.manager->Tick(f.clock.MonotonicMicros());
  f.clock.Advance(5 * 60 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_TRUE((*instance)->active()) << "stopped under a client's open stream";
  EXPECT_EQ(f.rotations(), 0u);
  reader.reset();  // the client leaves: the idle time counts from its last Tick
  f.clock.Advance(59 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_TRUE((*instance)->active());
  f.clock.Advance(2 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_FALSE((*instance)->active());
  EXPECT_EQ(f.rotations(), 1u);
}

TEST(InstanceManager, AnInstanceThatKeepsStreamingIsNotStopped) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  for (uint64_t s = 1; s <= 6; ++s) {
    ASSERT_TRUE((*instance)->Ingest(Replica(s, kT0 + static_cast<int64_t>(s) * 30 * kSecond)).ok());
    f.manager->Tick(f.clock.MonotonicMicros());
    f.clock.Advance(30 * kSecond);
  }
  f.manager->Tick(f.clock.MonotonicMicros());
  EXPECT_TRUE((*instance)->active()) << "a frame every 30 s keeps a 60 s idle timeout from firing";
  EXPECT_EQ(f.rotations(), 0u);
}

TEST(InstanceManager, IngestAfterAnIdleStopRestartsTheInstanceWithANewFile) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE((*instance)->Ingest(Replica(1)).ok());
  f.manager->Tick(f.clock.MonotonicMicros());
  f.clock.Advance(61 * kSecond);
  f.manager->Tick(f.clock.MonotonicMicros());
  ASSERT_FALSE((*instance)->active());
  auto accepted = (*instance)->Ingest(Replica(2, kT0 + 61 * kSecond));
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_TRUE(*accepted);
  EXPECT_TRUE((*instance)->active());
  ASSERT_TRUE(f.manager->Shutdown().ok());
  EXPECT_EQ(f.rotations(), 2u);
  EXPECT_EQ(LpjFiles(f.JournalDir("boat-1")).size(), 2u);
}

TEST(InstanceManager, ReplicaBrokerContinuesAfterTheCursor) {
  Fixture f;
  f.MakeInstanceDir("boat-1");
  std::ofstream(f.tmp.Sub("instances/boat-1/state.json")) << R"({"id":"boat-1","cursor":100})";
  f.Open();
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok()) << instance.status().ToString();
  EXPECT_EQ((*instance)->broker()->Stats().head_seq, 101u);
}

TEST(InstanceManager, FrameDroppedByAFullJournalQueueIsNotAccepted) {
  Fixture f;
  InstanceManagerOptions o = f.Options();
  o.journal.queue_bytes = 4096;
  f.Open(std::move(o));
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  size_t refused = 0;
  for (uint64_t s = 1; s <= 1000; ++s) {
    auto r = (*instance)->Ingest(Replica(s, kT0 + static_cast<int64_t>(s)));
    ASSERT_TRUE(r.ok());
    if (!*r) ++refused;
  }
  EXPECT_GT(refused, 0u) << "a frame the journal dropped must not advance the cursor (P4)";
  EXPECT_EQ((*instance)->journal_metrics().frames_dropped, refused);
  auto snapshot = (*instance)->Ingest(Replica(0));
  ASSERT_TRUE(snapshot.ok());
  EXPECT_TRUE(*snapshot) << "a seq-0 snapshot frame is accepted even when the queue is full";
}

TEST(InstanceManager, TenThousandRegisteredInstancesLoadWithoutOpeningAFile) {
  Fixture f;
  constexpr int kInstances = 10'000;
  for (int i = 0; i < kInstances; ++i) {
    const std::string id = "boat-" + std::to_string(i);
    f.MakeInstanceDir(id);
    if (i % 2 == 0) {  // half with a state, half orphans
      std::ofstream(f.tmp.Sub("instances/" + id + "/state.json"))
          << R"({"id":")" << id << R"(","cursor":)" << i << R"(,"holes":[{"Start":)" << i + 10 << R"(,"End":)"
          << i + 20 << R"(}],"boat_head_seq":)" << i + 30 << "}\n";
    }
  }
  const size_t fds_before = testing::CountProcEntries("fd");
  const size_t threads_before = testing::CountProcEntries("task");
  const long rss_before = testing::RssKiB();
  const auto t0 = std::chrono::steady_clock::now();
  InstanceManagerOptions o = f.Options();
  o.start_journal_threads = true;
  f.Open(std::move(o));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const long rss_after = testing::RssKiB();
  std::printf("[ measure  ] 10,000 instances: Open %.1f ms, RSS +%ld KiB (%.0f bytes per instance)\n",
              std::chrono::duration<double, std::milli>(elapsed).count(), rss_after - rss_before,
              (rss_after - rss_before) * 1024.0 / kInstances);

  EXPECT_EQ(f.manager->size(), static_cast<size_t>(kInstances));
  EXPECT_EQ(f.manager->active_count(), 0u);
  EXPECT_EQ(testing::CountProcEntries("fd"), fds_before) << "no instance holds a file open";
  // The two journal runners, plus at most one a sanitizer starts with the
  // first thread (TSan's background thread): nothing per instance.
  EXPECT_LE(testing::CountProcEntries("task"), threads_before + 3) << "the journal runners only, no thread per instance";
  EXPECT_GE(testing::CountProcEntries("task"), threads_before + 2) << "the two journal runners";
  EXPECT_FALSE(fs::exists(f.JournalDir("boat-0"))) << "loading creates nothing";
  auto list = f.manager->List();
  ASSERT_EQ(list.size(), static_cast<size_t>(kInstances));
  auto it = std::find_if(list.begin(), list.end(), [](const InstanceSummary& s) { return s.id == "boat-42"; });
  ASSERT_NE(it, list.end());
  EXPECT_EQ(it->cursor, 42u);
  EXPECT_EQ(it->holes, 1u);
  EXPECT_EQ(it->lag_seqs, 30u);
  EXPECT_FALSE(it->active);
}

TEST(InstanceManager, InvalidInstanceDirIsSkippedWithAWarningNotCreated) {
  Fixture f;
  f.MakeInstanceDir("boat-1");
  f.MakeInstanceDir("bad name");
  f.MakeInstanceDir(".hidden");
  std::ofstream(f.tmp.Sub("instances/stray-file")) << "x";
  f.Open();
  EXPECT_EQ(f.manager->size(), 1u);
  EXPECT_NE(f.manager->Get("boat-1"), nullptr);
  EXPECT_EQ(f.manager->Get("bad name"), nullptr);
  EXPECT_TRUE(f.log.Contains(LogLevel::kWarn, "instances/bad name")) << f.log.Text();
  EXPECT_TRUE(f.log.Contains(LogLevel::kWarn, "A-Z a-z 0-9")) << "the warning states the rule\n" << f.log.Text();
  EXPECT_TRUE(f.log.Contains(LogLevel::kWarn, "instances/.hidden")) << f.log.Text();
  EXPECT_TRUE(f.log.Contains(LogLevel::kWarn, "instances/stray-file: not a directory")) << f.log.Text();
  EXPECT_FALSE(f.manager->Ensure("bad name").ok());
  ASSERT_TRUE(f.manager->Shutdown().ok());
  EXPECT_TRUE(fs::is_empty(f.tmp.Sub("instances/bad name"))) << "nothing is written into a skipped directory";
  EXPECT_TRUE(fs::is_empty(f.tmp.Sub("instances/.hidden")));
}

TEST(InstanceManager, RegisterRefusesAnIdThatWouldLeaveTheInstancesDir) {
  Fixture f;
  f.Open();
  auto r = f.manager->Register("../escape");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"../escape\""), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(fs::exists(f.tmp.Sub("escape")));
  EXPECT_EQ(f.manager->size(), 0u);
}

TEST(InstanceManager, EnsureOfAnUnknownIdIsNotFoundAndCreatesNothing) {
  Fixture f;
  f.Open();
  auto r = f.manager->Ensure("ghost");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("ghost"), std::string::npos);
  EXPECT_FALSE(fs::exists(f.tmp.Sub("instances/ghost")));
}

TEST(InstanceManager, DamagedStateKeepsTheInstanceOutOfServiceAndTheFileUntouched) {
  Fixture f;
  f.MakeInstanceDir("boat-1");
  const std::string state = f.tmp.Sub("instances/boat-1/state.json");
  std::ofstream(state) << R"({"id":"boat-1","cursor":-1})";
  f.Open();
  ASSERT_NE(f.manager->Get("boat-1"), nullptr);
  auto r = f.manager->Ensure("boat-1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find(state), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(f.manager->Register("boat-1").ok());
  auto ingest = f.manager->Get("boat-1")->Ingest(Replica(1));
  EXPECT_FALSE(ingest.ok());
  auto list = f.manager->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0].damaged.find(state), std::string::npos);
  f.manager->Get("boat-1")->UpdateState([](replication::InstanceState& s) { s.cursor = 5; });
  ASSERT_FALSE(f.manager->Shutdown().ok()) << "Shutdown reports that the damaged state could not be saved";
  EXPECT_EQ(ReadText(state), R"({"id":"boat-1","cursor":-1})") << "the damaged file is never written over";
}

TEST(InstanceManager, ShutdownSavesChangedStatesOnlyAndTheyReload) {
  Fixture f;
  f.MakeInstanceDir("quiet");
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  f.manager->Get("boat-1")->UpdateState([](replication::InstanceState& s) {
    s.cursor = 100;
    s.boat_head_seq = 200;
    s.holes = {{150, 160}};
  });
  ASSERT_TRUE(f.manager->Shutdown().ok());
  EXPECT_FALSE(fs::exists(f.tmp.Sub("instances/quiet/state.json"))) << "an unchanged instance is not rewritten";
  EXPECT_FALSE(f.manager->Ensure("boat-1").ok()) << "nothing starts after Shutdown";
  f.manager.reset();

  f.Open();
  auto s = f.manager->Get("boat-1")->state();
  EXPECT_EQ(s.cursor, 100u);
  EXPECT_EQ(s.boat_head_seq, 200u);
  ASSERT_EQ(s.holes.size(), 1u);
  EXPECT_EQ(s.holes[0].start, 150u);
}

TEST(InstanceManager, PausedInstanceRecordsNothingAcrossARestart) {
  Fixture f;
  f.Open();
  ASSERT_TRUE(f.manager->Register("boat-1").ok());
  f.manager->SetInstancePaused("boat-1", true);
  auto instance = f.manager->Ensure("boat-1");
  ASSERT_TRUE(instance.ok());
  for (uint64_t s = 1; s <= 5; ++s) {
    auto accepted = (*instance)->Ingest(Replica(s));
    ASSERT_TRUE(accepted.ok());
    EXPECT_FALSE(*accepted) << "a frame the paused journal discards must stay a hole, not be acknowledged";
  }
  f.manager->RunJournalOnce();
  ASSERT_TRUE(f.manager->Shutdown().ok());
  EXPECT_TRUE(LpjFiles(f.JournalDir("boat-1")).empty());
  EXPECT_EQ((*instance)->journal_metrics().frames_queued, 0u);
}

TEST(InstanceManager, OpenRejectsAZeroIdleTimeoutNamingIt) {
  Fixture f;
  InstanceManagerOptions o = f.Options();
  o.idle_timeout_us = 0;
  auto r = InstanceManager::Open(std::move(o));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("idle timeout 0"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace lplex::cloud
