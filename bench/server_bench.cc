// server_bench: the real lplex-server binary, measured from outside.
//
//   server_bench [--server PATH] [--warmup W] [--seconds S] [--clients N] [--hours H] [--starts K] [--only cpu|startup]
//
// 1. cpu: `lplex-server -source sim:?fps=full -journal-dir TMP -port P`
//    (journal zstd, the default) with N SSE clients (default 10) on
//    GET /events read by this process on one epoll thread. After W seconds
//    of warm-up (default 55: the 65,536-entry ring is full after ~48 s of
//    the simulated bus, so the RSS is the steady state's), utime+stime of
//    the server from /proc/<pid>/stat over S seconds (default 30) as % of
//    one core, and its VmRSS / VmHWM at the end.
// 2. startup: H hours (default 24) of journals, written beforehand with
//    JournalWriter (the simulated full bus after reassembly, 1 h rotation,
//    zstd, ending now; not timed), then K times (default 3): start
//    `lplex-server -source sim:?fps=full -journal-dir DIR` and time the
//    spawn until GET /readyz answers 200 (polled every 2 ms), then SIGTERM.
//
// The server runs in a fresh temporary directory (so no ./lplex-server.conf
// is picked up); everything is deleted at the end.
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "journal/writer.h"

extern char** environ;

namespace {

using namespace lplex;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Starts the server in `cwd` with stderr to `log`; the pid.
pid_t Spawn(const std::string& server, const std::vector<std::string>& args, const std::string& cwd,
            const std::string& log) {
  std::vector<std::string> all{server};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, server.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "server_bench: cannot start %s: %s\n", server.c_str(), std::strerror(rc));
    std::exit(2);
  }
  return pid;
}

// Polls /readyz until 200; false when the server exited or 30 s passed.
bool WaitReady(pid_t pid, uint16_t port, milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (bench::HttpGetStatus(port, "/readyz") == 200) return true;
    int st;
    if (::waitpid(pid, &st, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(poll);
  }
  return false;
}

int Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void Fail(const std::string& what, const std::string& log) {
  std::fprintf(stderr, "server_bench: %s; server log %s:\n", what.c_str(), log.c_str());
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) std::fprintf(stderr, "  %s\n", line.c_str());
  std::exit(2);
}

void CpuPart(const std::string& server, const fs::path& tmp, double warmup, double seconds, int nclients) {
  const fs::path dir = tmp / "cpu";
  fs::create_directories(dir / "journal");
  const std::string log = (dir / "server.log").string();
  const uint16_t port = bench::FreeLoopbackPort();
  const pid_t pid = Spawn(server,
                          {"-source", "sim:?fps=full", "-journal-dir", (dir / "journal").string(), "-port",
                           std::to_string(port)},
                          dir.string(), log);
  if (!WaitReady(pid, port, milliseconds(20))) Fail("the server did not get ready", log);

  std::vector<uint64_t> events(nclients, 0);
  std::atomic<bool> stop{false};
  bench::SseClients clients(port, nclients, 0, [&](int i, uint64_t, int64_t) { ++events[i]; });
  std::thread reader([&] { clients.Run(stop); });
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));  // discovery, journal blocks, a full ring
  const uint64_t e0 = events[0];
  const double c0 = bench::PidCpuSeconds(pid);
  const auto w0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double cpu = bench::PidCpuSeconds(pid) - c0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const uint64_t e1 = events[0];
  const long rss = bench::ProcStatusKib(pid, "VmRSS");
  const long hwm = bench::ProcStatusKib(pid, "VmHWM");
  uint64_t min_events = UINT64_MAX;
  for (uint64_t e : events) min_events = std::min(min_events, e);
  stop.store(true);
  reader.join();
  const int rc = Stop(pid);
  fmt::print("server: lplex-server -source sim:?fps=full -journal-dir DIR (zstd), {} SSE clients, {:.0f} s after {:.0f} s of warm-up; load {}\n",
             nclients, wall, warmup, bench::LoadAverage());
  fmt::print("server: {:.0f} frames/s after reassembly to each client (fewest events of a client: {})\n",
             static_cast<double>(e1 - e0) / wall, min_events);
  fmt::print("server: CPU {:.2f} % of one core ({:.2f} s utime+stime in {:.1f} s; goal <= 2 %), VmRSS {:.1f} MiB, VmHWM {:.1f} MiB (goal <= 40 MB); exit {}\n",
             100 * cpu / wall, cpu, wall, rss / 1024.0, hwm / 1024.0, rc);
}

void StartupPart(const std::string& server, const fs::path& tmp, double hours, int starts) {
  const fs::path dir = tmp / "startup";
  const fs::path jdir = dir / "journal";
  fs::create_directories(jdir);
  // Generate: `hours` of the full bus ending now, 1 h rotation.
  const auto corpus = bench::SimFullBus(60);
  const int64_t span = corpus.back().timestamp_us - corpus.front().timestamp_us + 1000;
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const int64_t start_us = now_us - static_cast<int64_t>(hours * 3600e6);
  const int64_t shift = start_us - corpus.front().timestamp_us;
  journal::WriterOptions wo;
  wo.dir = jdir.string();
  wo.rotate_duration_us = 3600LL * 1'000'000;
  auto w = journal::JournalWriter::Create(wo);
  if (!w.ok()) {
    std::fprintf(stderr, "server_bench: %s\n", w.status().ToString().c_str());
    std::exit(2);
  }
  const auto g0 = std::chrono::steady_clock::now();
  uint64_t seq = 1;
  for (uint64_t i = 0;; ++i) {
    const auto& f = corpus[i % corpus.size()];
    can::Frame v = f.view();
    v.timestamp_us += shift + static_cast<int64_t>(i / corpus.size()) * span;
    if (v.timestamp_us >= now_us) break;
    v.seq = seq++;
    if (Status s = (*w)->Append(v); !s.ok()) {
      std::fprintf(stderr, "server_bench: %s\n", s.ToString().c_str());
      std::exit(2);
    }
  }
  if (Status s = (*w)->Close(); !s.ok()) std::exit(2);
  uint64_t bytes = 0, files = 0;
  for (const auto& e : fs::directory_iterator(jdir)) {
    bytes += e.file_size();
    ++files;
  }
  fmt::print("startup: {:.0f} h of journals: {} files, {} frames, {:.1f} MB (generated in {:.1f} s, not timed)\n",
             hours, files, seq - 1, bytes / 1e6,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count());
  const std::string log = (dir / "server.log").string();
  for (int k = 0; k < starts; ++k) {
    const uint16_t port = bench::FreeLoopbackPort();
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = Spawn(server,
                            {"-source", "sim:?fps=full", "-journal-dir", jdir.string(), "-port",
                             std::to_string(port)},
                            dir.string(), log);
    if (!WaitReady(pid, port, milliseconds(2))) Fail("the server did not get ready", log);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = bench::PidCpuSeconds(pid);
    const int rc = Stop(pid);
    fmt::print("startup: run {}: spawn to /readyz 200 in {:.1f} ms (goal <= 500 ms; server CPU so far {:.0f} ms); exit {}\n",
               k + 1, ms, cpu * 1000, rc);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = (fs::path(argv[0]).parent_path() / "../apps/lplex-server/lplex-server").string();
  double seconds = 30, hours = 24, warmup = 55;
  int clients = 10, starts = 3;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--server")) server = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) warmup = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--hours")) hours = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--starts")) starts = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: server_bench [--server PATH] [--warmup W] [--seconds S] [--clients N] [--hours H] [--starts K] [--only cpu|startup]\n");
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  server = fs::weakly_canonical(server).string();
  if (!fs::exists(server)) {
    std::fprintf(stderr, "server_bench: no server binary at %s (--server PATH)\n", server.c_str());
    return 2;
  }
  char tmpl[] = "/tmp/lplex-server-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 2;
  const fs::path tmp(tmpl);
  if (only.empty() || only == "cpu") CpuPart(server, tmp, warmup, seconds, clients);
  if (only.empty() || only == "startup") StartupPart(server, tmp, hours, starts);
  fs::remove_all(tmp);
  return 0;
}
