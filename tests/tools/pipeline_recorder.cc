// pipeline_recorder: a stand-in for the boat's recording path, for the
// writer → keeper → archive crash tests. It records synthetic frames at the
// real clock into a journal that rotates every second, with a keeper that
// archives each finished file to a directory target, and shuts down the way
// the boat does on SIGTERM: stop input, finish the writer (on_rotate fires),
// then stop the keeper, which drains its queue.
//
//   pipeline_recorder JOURNAL_DIR ARCHIVE INSTANCE_ID
// ARCHIVE is a directory (archived to file://ARCHIVE), a target URL
// (s3://..., file://...), or "cmd:/path/to/script".
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "can/frame.h"
#include "core/clock.h"
#include "core/log.h"
#include "journal/writer.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "keeper/open_files.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  using namespace lplex;
  using namespace std::chrono_literals;
  if (argc != 4) {
    std::fprintf(stderr, "usage: pipeline_recorder JOURNAL_DIR ARCHIVE INSTANCE_ID\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  SetDefaultLogLevel(LogLevel::kWarn);

  const std::string journal_dir = argv[1];
  const std::string instance = argv[3];
  keeper::OpenFiles open;
  keeper::ArchiverConfig ac;
  const std::string spec = argv[2];
  if (spec.rfind("cmd:", 0) == 0) {
    ac.command = spec.substr(4);
  } else if (spec.find("://") != std::string::npos) {
    ac.target = spec;
  } else {
    ac.target = "file://" + spec;
  }
  auto archiver = keeper::MakeArchiver(ac);
  if (!archiver.ok()) {
    std::fprintf(stderr, "pipeline_recorder: %s\n", archiver.status().ToString().c_str());
    return 2;
  }
  keeper::KeeperOptions ko;
  ko.dirs = {{journal_dir, instance}};
  ko.trigger = keeper::ArchiveTrigger::kOnRotate;
  ko.archiver = std::move(archiver).value();
  ko.is_open = open.Checker();
  ko.scan_interval = 500ms;
  ko.first_backoff = 200ms;
  ko.drain_timeout = 10s;
  keeper::Keeper keeper(ko);
  keeper.Start();

  journal::WriterOptions wo;
  wo.dir = journal_dir;
  wo.block_size = 4096;
  wo.compression = journal::Compression::kZstd;
  wo.rotate_duration_us = 1'000'000;
  wo.flush_interval_us = 250'000;
  wo.on_open_change = open.Tracker();
  wo.on_rotate = [&](const journal::RotatedFile& f) { keeper.Send({f.path, instance}); };
  auto writer = journal::JournalWriter::Create(wo);
  if (!writer.ok()) return 2;

  Clock* clock = Clock::Real();
  uint64_t seq = 1;
  uint8_t data[8] = {};
  while (!g_stop.load()) {
    const int64_t now = clock->NowMicros();
    for (int i = 0; i < 20; ++i) {  // ~1000 frames/s
      data[0] = static_cast<uint8_t>(seq);
      data[1] = static_cast<uint8_t>(seq >> 8);
      const can::Frame f{.timestamp_us = now + i, .header = {2, 129025, 10, 255}, .data = data, .seq = seq++};
      Status s = (*writer)->Append(f);
      if (!s.ok()) std::fprintf(stderr, "pipeline_recorder: %s\n", s.ToString().c_str());
    }
    (void)(*writer)->Tick(clock->NowMicros());
    std::this_thread::sleep_for(20ms);
  }
  // Boat shutdown order: input stopped, writer finished (on_rotate → keeper), keeper last.
  Status closed = (*writer)->Close();
  keeper.Stop();
  return closed.ok() ? 0 : 1;
}
