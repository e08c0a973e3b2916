// SinkRunner with a pool of threads: a sink whose disk write hangs holds one
// thread, and the others go on serving the rest (the cloud's instances).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "can/frame.h"
#include "journal/journal_sink.h"
#include "journal/writer.h"
#include "support/forwarding_file_system.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

constexpr int64_t kT0 = 1'772'452'800'000'000;

// Appends to files under `stuck_dir` block until Release().
class HangingFileSystem : public lplex::testing::ForwardingFileSystem {
 public:
  explicit HangingFileSystem(std::string stuck_dir) : stuck_dir_(std::move(stuck_dir)) {}

  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string& p) override {
    auto f = ForwardingFileSystem::NewExclusiveFile(p);
    if (!f.ok() || p.rfind(stuck_dir_, 0) != 0) return f;
    return std::unique_ptr<WritableFile>(new Hanging(std::move(*f), this));
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool hanging() const { return hanging_.load(); }

 private:
  class Hanging : public WritableFile {
   public:
    Hanging(std::unique_ptr<WritableFile> f, HangingFileSystem* fs) : f_(std::move(f)), fs_(fs) {}
    Status Append(std::span<const uint8_t> data) override {
      fs_->hanging_.store(true);
      std::unique_lock<std::mutex> lock(fs_->mu_);
      fs_->cv_.wait(lock, [&] { return fs_->released_; });
      return f_->Append(data);
    }
    Status Sync() override { return f_->Sync(); }
    Status Close() override { return f_->Close(); }

   private:
    std::unique_ptr<WritableFile> f_;
    HangingFileSystem* fs_;
  };

  const std::string stuck_dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::atomic<bool> hanging_{false};
};

std::shared_ptr<JournalSink> MakeSink(const std::string& dir, FileSystem* fs) {
  WriterOptions w;
  w.dir = dir;
  w.block_size = 4096;
  w.compression = Compression::kNone;
  w.fs = fs;
  auto writer = JournalWriter::Create(w);
  EXPECT_TRUE(writer.ok());
  SinkOptions o;
  o.queue_bytes = 1 << 20;
  auto sink = JournalSink::Create(std::move(*writer), o);
  EXPECT_TRUE(sink.ok());
  return *sink;
}

void Offer(JournalSink& sink, uint64_t first, uint64_t n) {
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (uint64_t s = first; s < first + n; ++s) {
    can::Frame f;
    f.timestamp_us = kT0 + static_cast<int64_t>(s);
    f.header.pgn = 127250;
    f.header.source = 1;
    f.header.destination = 255;
    f.header.priority = 2;
    f.seq = s;
    f.data = data;
    ASSERT_TRUE(sink.Offer(f));
  }
}

bool WaitFor(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(SinkRunnerPool, ASinkStuckInADiskWriteDoesNotStallTheOtherSinks) {
  lplex::testing::TempDir dir;
  HangingFileSystem fs(dir.Sub("stuck"));
  auto stuck = MakeSink(dir.Sub("stuck"), &fs);
  auto healthy = MakeSink(dir.Sub("healthy"), &fs);
  SinkRunnerOptions ro;
  ro.threads = 2;
  ro.poll_interval_us = 1'000;
  SinkRunner runner(ro);
  runner.Add(stuck);
  runner.Add(healthy);
  runner.Start();
  Offer(*stuck, 1, 2000);  // several 4 KiB blocks: the first write hangs
  ASSERT_TRUE(WaitFor([&] { return fs.hanging(); }));
  Offer(*healthy, 1, 2000);
  EXPECT_TRUE(WaitFor([&] { return healthy->metrics().frames_on_disk >= 1500; }))
      << "the healthy sink wrote " << healthy->metrics().frames_on_disk << " frames while the other's write hung";
  EXPECT_EQ(stuck->metrics().frames_on_disk, 0u);
  fs.Release();
  EXPECT_TRUE(WaitFor([&] { return stuck->metrics().frames_on_disk >= 1500; }));
  runner.Stop();
  stuck->Close();
  healthy->Close();
}

TEST(SinkRunnerPool, TryServiceOfASinkAnotherThreadHoldsReturnsAtOnce) {
  lplex::testing::TempDir dir;
  HangingFileSystem fs(dir.Sub("stuck"));
  auto stuck = MakeSink(dir.Sub("stuck"), &fs);
  Offer(*stuck, 1, 2000);
  std::thread holder([&] { stuck->Service(); });  // hangs in the first block write
  ASSERT_TRUE(WaitFor([&] { return fs.hanging(); }));
  bool more = true;
  EXPECT_FALSE(stuck->TryService(&more));
  EXPECT_FALSE(more);
  fs.Release();
  holder.join();
  EXPECT_TRUE(stuck->TryService(&more));
  stuck->Close();
}

}  // namespace
}  // namespace lplex::journal
