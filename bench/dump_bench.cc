// dump_bench: `lplex dump --json` over a large journal, plain and with
// --decode (issue 9 goals: >= 2 M frames/s plain, >= 1 M frames/s decoded).
//
//   dump_bench [--frames N] [--dir DIR] [--shared PATH]
//
// Writes N frames of the can0 captures, looped (capture_corpus.h), into one
// zstd journal, then runs the dump command in-process (the code the `lplex`
// binary runs) with its output going to /dev/null, once plain and once with
// --decode; prints frames/s of each.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "capture_corpus.h"
#include "commands.h"
#include "journal/writer.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

double Run(const std::string& path, bool decode) {
  lplex::cli::DumpOptions o;
  o.paths = {path};
  o.json = true;
  o.decode = decode;
  o.progress = lplex::cli::DumpOptions::Progress::kNever;
  std::FILE* out = std::fopen("/dev/null", "w");
  const auto t0 = SteadyClock::now();
  const int rc = lplex::cli::RunDump(o, out, stderr);
  const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::fclose(out);
  if (rc != 0) {
    std::fprintf(stderr, "dump_bench: dump exited %d\n", rc);
    std::exit(1);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t frames = 10'000'000;
  std::string dir = "/tmp/lplex-dump-bench";
  std::string shared = "../shared";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--frames") frames = std::stoull(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--shared") shared = argv[i + 1];
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  const lplex::bench::Corpus c = lplex::bench::Load(shared);

  std::string path;
  lplex::journal::WriterOptions wo;
  wo.dir = dir;
  wo.flush_interval_us = 0;
  wo.on_rotate = [&path](const lplex::journal::RotatedFile& f) { path = f.path; };
  auto w = lplex::journal::JournalWriter::Create(wo);
  if (!w.ok()) return 2;
  lplex::bench::Feed(c, **w, frames);
  if (!(*w)->Close().ok()) return 1;
  std::printf("journal: %llu frames, %.1f MB (%s)\n", static_cast<unsigned long long>(frames),
              static_cast<double>(fs::file_size(path)) / 1e6, path.c_str());

  const double plain = Run(path, false);
  std::printf("dump --json:          %.2f M frames/s (%.2f s)\n", static_cast<double>(frames) / plain / 1e6, plain);
  const double decoded = Run(path, true);
  std::printf("dump --json --decode: %.2f M frames/s (%.2f s)\n", static_cast<double>(frames) / decoded / 1e6,
              decoded);
  fs::remove_all(dir);
  return 0;
}
