// journal_bench: throughput, seek latency and compression ratio of the
// journal engine on real traffic (the can0 captures, looped).
//
//   journal_bench [--frames N] [--hours H] [--dir DIR] [--shared PATH]
//
// 1. Loads can0-1.pcap and can0-2.pcap through reassembly into memory.
// 2. write: appends N frames (the captures looped, timestamps and seqs moved
//    on each loop) to one zstd-3, 256 KiB-block journal; one core.
// 3. read: iterates every frame of that journal.
// 4. ratio: writes the same frames uncompressed and compresses that file with
//    the zstd command-line tool at level 3; prints both ratios.
// 5. seek: writes a journal covering H hours at the captures' frame rate and
//    times random SeekToTime / SeekToSeq calls followed by the first Next().
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "can/fast_packet.h"
#include "journal/reader.h"
#include "journal/writer.h"
#include "sources/capture_reader.h"
#include "capture_corpus.h"

namespace {

namespace fs = std::filesystem;
using lplex::bench::Corpus;
using lplex::bench::Feed;
using lplex::bench::Load;
using SteadyClock = std::chrono::steady_clock;
using namespace lplex;

std::unique_ptr<journal::JournalWriter> MakeWriter(const std::string& dir, journal::Compression c,
                                                   std::vector<std::string>* files) {
  journal::WriterOptions o;
  o.dir = dir;
  o.compression = c;
  o.flush_interval_us = 0;
  o.on_rotate = [files](const journal::RotatedFile& f) { files->push_back(f.path); };
  auto w = journal::JournalWriter::Create(o);
  if (!w.ok()) std::exit(2);
  return std::move(w).value();
}

double Seconds(SteadyClock::time_point a) { return std::chrono::duration<double>(SteadyClock::now() - a).count(); }

}  // namespace

int main(int argc, char** argv) {
  uint64_t frames = 10'000'000;
  double hours = 24;
  std::string dir = "/tmp/lplex-bench";
  std::string shared = "../shared";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--frames") frames = std::stoull(argv[i + 1]);
    else if (a == "--hours") hours = std::stod(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--shared") shared = argv[i + 1];
  }
  fs::remove_all(dir);
  fs::create_directories(dir);

  Corpus c = Load(shared);
  const double fps = static_cast<double>(c.msgs.size()) / (static_cast<double>(c.span_us) / 1e6);
  std::printf("corpus: %zu messages over %.1f s (%.0f frames/s), looped to %llu frames\n", c.msgs.size(),
              static_cast<double>(c.span_us) / 1e6, fps, static_cast<unsigned long long>(frames));

  // write
  std::vector<std::string> files;
  auto w = MakeWriter(dir + "/zstd", journal::Compression::kZstd, &files);
  auto t0 = SteadyClock::now();
  Feed(c, *w, frames);
  if (!w->Close().ok()) return 1;
  const double write_s = Seconds(t0);
  const uint64_t blocks = w->stats().blocks_written;
  std::printf("write:  %.2f M frames/s (%llu frames, %llu blocks, %.1f s, zstd-3, 256 KiB blocks)\n",
              static_cast<double>(frames) / write_s / 1e6, static_cast<unsigned long long>(frames),
              static_cast<unsigned long long>(blocks), write_s);

  // read
  auto r = journal::JournalReader::OpenPath(files.at(0));
  if (!r.ok()) return 1;
  t0 = SteadyClock::now();
  uint64_t n = 0;
  uint64_t checksum = 0;
  while ((*r)->Next()) {
    ++n;
    checksum += (*r)->frame().data.size();
  }
  const double read_s = Seconds(t0);
  std::printf("read:   %.2f M frames/s (%llu frames, %.1f s)%s\n", static_cast<double>(n) / read_s / 1e6,
              static_cast<unsigned long long>(n), read_s, n == frames ? "" : "  FRAME COUNT MISMATCH");

  // ratio beside the zstd CLI on the same encoded (uncompressed) bytes:
  //  (a) one pass of the corpus, our file vs `zstd -3` over the whole stream;
  //  (b) the looped frames, our file vs `zstd -3` run on each 256 KiB block
  //      on its own (what our format does; looping makes a whole-stream
  //      comparison meaningless, since the stream repeats itself).
  auto ratio_of = [&](uint64_t n, const std::string& tag, bool per_block) {
    std::vector<std::string> zf;
    std::vector<std::string> nf;
    auto wz = MakeWriter(dir + "/" + tag + "-zstd", journal::Compression::kZstd, &zf);
    Feed(c, *wz, n);
    auto wn = MakeWriter(dir + "/" + tag + "-none", journal::Compression::kNone, &nf);
    Feed(c, *wn, n);
    if (!wz->Close().ok() || !wn->Close().ok()) std::exit(1);
    const uint64_t ours = wz->stats().bytes_written;
    const uint64_t raw = wn->stats().bytes_written;
    const std::string parts = dir + "/" + tag + "-parts";
    fs::create_directories(parts);
    std::string cmd;
    if (per_block) {
      // Skip the 16-byte file header, cut into blocks, compress each.
      cmd = fmt::format("tail -c +17 {} | split -b 262144 -a 5 - {}/b && zstd -3 -q --rm {}/b*", nf.at(0), parts,
                        parts);
    } else {
      cmd = fmt::format("zstd -3 -q -o {}/all.zst {}", parts, nf.at(0));
    }
    if (std::system(cmd.c_str()) != 0) {
      std::printf("ratio %s: ours %.2fx; zstd CLI not available\n", tag.c_str(), static_cast<double>(raw) / ours);
      return;
    }
    uint64_t cli = 0;
    for (const auto& e : fs::directory_iterator(parts)) cli += fs::file_size(e.path());
    const double r_ours = static_cast<double>(raw) / static_cast<double>(ours);
    const double r_cli = static_cast<double>(raw) / static_cast<double>(cli);
    std::printf("ratio %s: ours %.2fx (%llu -> %llu bytes), zstd -3 CLI %s %.2fx (%llu bytes); ours/CLI = %.3f\n",
                tag.c_str(), r_ours, static_cast<unsigned long long>(raw), static_cast<unsigned long long>(ours),
                per_block ? "per 256 KiB block" : "whole stream", r_cli, static_cast<unsigned long long>(cli),
                r_ours / r_cli);
    fs::remove_all(dir + "/" + tag + "-zstd");
    fs::remove_all(dir + "/" + tag + "-none");
    fs::remove_all(parts);
  };
  ratio_of(c.msgs.size(), "one-pass", false);
  ratio_of(frames, "looped", true);

  // seek in a file covering `hours` of traffic
  const uint64_t day_frames = static_cast<uint64_t>(fps * 3600 * hours);
  files.clear();
  auto wd = MakeWriter(dir + "/day", journal::Compression::kZstd, &files);
  t0 = SteadyClock::now();
  Feed(c, *wd, day_frames);
  if (!wd->Close().ok()) return 1;
  std::printf("seek file: %.1f h, %llu frames, %llu blocks, %.1f MB (written in %.1f s)\n", hours,
              static_cast<unsigned long long>(day_frames), static_cast<unsigned long long>(wd->stats().blocks_written),
              static_cast<double>(wd->stats().bytes_written) / 1e6, Seconds(t0));
  t0 = SteadyClock::now();
  auto rd = journal::JournalReader::OpenPath(files.at(0));
  if (!rd.ok()) return 1;
  std::printf("open:   %.3f ms (index of %llu blocks)\n", Seconds(t0) * 1e3,
              static_cast<unsigned long long>((*rd)->block_count()));
  const int64_t first = c.msgs.front().ts;
  const int64_t span = static_cast<int64_t>(hours * 3600e6);
  std::mt19937_64 rng(42);
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<double> lat;
    for (int i = 0; i < 2000; ++i) {
      auto s0 = SteadyClock::now();
      Status s = kind == 0 ? (*rd)->SeekToTime(first + static_cast<int64_t>(rng() % static_cast<uint64_t>(span)))
                           : (*rd)->SeekToSeq(1 + rng() % day_frames);
      if (!s.ok() || !(*rd)->Next()) return 1;
      lat.push_back(Seconds(s0) * 1e3);
    }
    std::sort(lat.begin(), lat.end());
    std::printf("%s p50 %.3f ms, p99 %.3f ms, max %.3f ms (2000 random seeks + first frame)\n",
                kind == 0 ? "seek time:" : "seek seq: ", lat[1000], lat[1980], lat.back());
  }
  fs::remove_all(dir);
  return checksum == 0 ? 1 : 0;
}
