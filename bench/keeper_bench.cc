// keeper_bench: the keeper's two costs that grow with the data.
//
//   keeper_bench [--files N] [--upload-mib M] [--dir DIR]
//
// 1. scan: one retention scan (list, stat, plan) of a directory holding N
//    journal files (default 100,000; a tenth of them archived), with limits
//    that delete nothing, and the pure planning step on its own.
// 2. upload: one M MiB journal (default 256) to a moto S3 server on
//    127.0.0.1, with our S3 archiver and with `aws s3 cp` (Debian's AWS CLI),
//    in the same run; the ratio is aws time / our time.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/log.h"
#include "core/time.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "support/moto_server.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace lplex;

double Ms(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

void ScanBench(const std::string& dir, int files) {
  fs::create_directories(dir);
  const int64_t start = *timefmt::ParseRfc3339("2025-01-01T00:00:00Z");
  auto t0 = SteadyClock::now();
  for (int i = 0; i < files; ++i) {
    const std::string p = dir + "/nmea2k-" + timefmt::FileStamp(start + int64_t{i} * 60'000'000) + ".lpj";
    std::ofstream(p).put('x');
    if (i % 10 == 0) std::ofstream(p + ".archived");
  }
  std::printf("scan:   created %d files (+%d markers) in %.0f ms\n", files, files / 10, Ms(t0));

  keeper::KeeperOptions o;
  o.dirs = {{dir, "boat-1"}};
  o.retention.max_age_us = 3650LL * 86400 * 1'000'000;  // ten years: nothing expires
  o.retention.max_size = uint64_t{1} << 40;
  keeper::Keeper k(o);
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    t0 = SteadyClock::now();
    k.ScanAll();
    best = std::min(best, Ms(t0));
  }
  std::printf("scan:   one retention scan of %d files: %.0f ms (best of 3; target <= 1000 ms)\n", files, best);

  auto listed = keeper::ListJournalDir(FileSystem::Default(), dir, nullptr, nullptr);
  t0 = SteadyClock::now();
  auto plan = keeper::PlanRetention(listed, o.retention, false, Clock::Real()->NowMicros());
  std::printf("scan:   of which planning alone: %.1f ms (%zu deletions)\n", Ms(t0), plan.delete_paths.size());
  fs::remove_all(dir);
}

void UploadBench(const std::string& dir, int mib) {
  std::string why;
  if (!lplex::testing::MotoServer::Available(&why)) {
    std::printf("upload: skipped (%s)\n", why.c_str());
    return;
  }
  lplex::testing::MotoServer moto;
  lplex::testing::MotoServer::Options mo;
  mo.buckets = {"bench"};
  if (!moto.Start(mo, &why)) {
    std::printf("upload: skipped (moto did not start: %s)\n", why.c_str());
    return;
  }
  fs::create_directories(dir);
  const std::string file = dir + "/nmea2k-20260101T000000.000Z.lpj";
  {
    std::mt19937_64 rng(1);
    std::vector<uint64_t> buf(1 << 17);
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < mib; ++i) {
      for (auto& v : buf) v = rng();
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size() * 8));
    }
  }
  keeper::ArchiverConfig c;
  c.target = "s3://bench/ours/";
  c.s3.endpoint = moto.endpoint();
  c.s3.region = moto.region();
  c.s3.access_key_id = moto.access_key_id();
  c.s3.secret_access_key = moto.secret_access_key();
  auto archiver = keeper::MakeArchiver(c);
  if (!archiver.ok()) {
    std::printf("upload: %s\n", archiver.status().ToString().c_str());
    return;
  }
  keeper::ArchiveItem item;
  item.path = file;
  item.size = static_cast<uint64_t>(mib) << 20;
  auto t0 = SteadyClock::now();
  auto out = (*archiver)->Archive({item}, SteadyClock::now() + std::chrono::minutes(10));
  const double ours = Ms(t0);
  if (out.empty() || !out[0].ok) {
    std::printf("upload: ours failed: %s\n", out.empty() ? "no outcome" : out[0].error.c_str());
    return;
  }
  const std::string cmd = fmt::format(
      "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION={} /usr/bin/aws --endpoint-url {} "
      "s3 cp --only-show-errors {} s3://bench/aws/ < /dev/null",
      moto.access_key_id(), moto.secret_access_key(), moto.region(), moto.endpoint(), file);
  t0 = SteadyClock::now();
  const int rc = std::system(cmd.c_str());
  const double aws = Ms(t0);
  if (rc != 0) {
    std::printf("upload: ours %.0f ms (%.0f MiB/s); aws s3 cp failed (exit %d)\n", ours, mib / (ours / 1000), rc);
  } else {
    std::printf("upload: %d MiB to moto: ours %.0f ms (%.0f MiB/s), aws s3 cp %.0f ms (%.0f MiB/s); aws/ours = %.2f "
                "(target >= 1)\n",
                mib, ours, mib / (ours / 1000), aws, mib / (aws / 1000), aws / ours);
  }
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  int files = 100'000;
  int mib = 256;
  std::string dir = "/tmp/lplex-keeper-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--files") files = std::stoi(argv[i + 1]);
    else if (a == "--upload-mib") mib = std::stoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
  }
  lplex::SetDefaultLogLevel(lplex::LogLevel::kWarn);
  fs::remove_all(dir);
  ScanBench(dir + "/scan", files);
  UploadBench(dir + "/upload", mib);
  fs::remove_all(dir);
  return 0;
}
