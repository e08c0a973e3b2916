// fanout_bench: SSE fan-out of http::Server on loopback.
//
//   fanout_bench [--clients N] [--seconds S] [--fps F]
//                [--stall-healthy H] [--stall-seconds S2]
//
// Two processes. The parent runs a Broker and an http::Server (the server's
// defaults: one io thread, 1,024-message subscriber queues, 60 s write
// timeout) and a feeder thread that ingests the simulated full bus
// (sim:?fps=full, reassembled) at F frames/s (default 1,800) in 1 ms steps.
// Before each Ingest it writes the frame's seq → CLOCK_MONOTONIC ingest time
// into a table shared with the child (an anonymous shared mapping made
// before the fork). The child (forked before the parent starts any thread)
// opens the SSE connections to GET /events and reads them all on one epoll
// loop; latency = receive time − ingest time of the seq in each event.
//
// Scenario 1 (fan-out): N clients (default 1,000), S seconds (default 20)
// after all are connected. Reported: p50/p99/max latency over every event of
// every client, frames lost (per client: frames of the window it never
// received, the window being a seq range fixed when it starts), the server process's CPU (parent getrusage, the feeder's Ingest
// included) as % of one core, and the broker's drop counter.
//
// Scenario 2 (stall): H healthy clients (default 100) alone for S2 seconds
// (default 20), then again with one more client that sends its request and
// never reads (4 KiB receive buffer). Reported: the healthy clients' p99 in
// both runs, the server's RSS before and after the stalled run, and what
// the broker dropped for the stalled subscriber.
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "broker/broker.h"
#include "http/server.h"

namespace {

using namespace lplex;
using std::chrono::milliseconds;

constexpr size_t kMaxSeq = 1 << 22;  // 4 M frames (~39 min at 1,800/s) per scenario

// Shared between the server (parent) and the clients (child).
struct Shared {
  std::atomic<int64_t> ingest_ns[kMaxSeq];
  std::atomic<uint64_t> window_first_seq;  // the first seq ingested after the clients were all connected
  std::atomic<uint64_t> window_last_seq;   // the last seq of the window, set with window_first_seq
  std::atomic<bool> window_done;           // the parent ingested window_last_seq
  std::atomic<int> clients_connected;
  // Results from the child.
  double p50_ms, p99_ms, p999_ms, max_ms;
  uint64_t events, lost, late_clients, dup;
  double client_cpu_s;
};

struct ClientResult {
  std::vector<double> lat_ms;
  uint64_t lost = 0;
  uint64_t dup = 0;
};

// The child: N healthy (+ stalled) clients; waits for the window to close,
// then computes the figures over the window's frames.
[[noreturn]] void ClientMain(Shared* sh, uint16_t port, int healthy, int stalled) {
  struct PerClient {
    uint64_t last = 0, count = 0, dup = 0;
    uint64_t in_window = 0;  // distinct events with a seq inside the window
  };
  std::vector<PerClient> pc(healthy + stalled);
  // Latency histogram: 10 µs bins up to 2 s, then one overflow bin.
  std::vector<uint64_t> hist(200'001);
  uint64_t events = 0;
  int64_t max_ns = 0;
  std::atomic<bool> stop{false};
  bench::SseClients clients(port, healthy, stalled, [&](int i, uint64_t seq, int64_t now) {
    PerClient& c = pc[i];
    const bool dup = c.count > 0 && seq <= c.last;
    if (dup) ++c.dup;
    c.last = std::max(c.last, seq);
    ++c.count;
    const uint64_t w0 = sh->window_first_seq.load(std::memory_order_relaxed);
    if (!dup && w0 != 0 && seq >= w0 && seq < kMaxSeq) {
      if (seq <= sh->window_last_seq.load(std::memory_order_relaxed)) {
        ++c.in_window;
        const int64_t t = sh->ingest_ns[seq].load(std::memory_order_relaxed);
        if (t > 0) {
          const int64_t d = now - t;
          ++hist[std::min<int64_t>(std::max<int64_t>(d, 0) / 10'000, 200'000)];
          max_ns = std::max(max_ns, d);
          ++events;
        }
      }
    }
  });
  sh->clients_connected.store(healthy + stalled);
  std::thread watch([&] {
    while (!sh->window_done.load()) std::this_thread::sleep_for(milliseconds(20));
    std::this_thread::sleep_for(milliseconds(500));  // let the last events arrive
    stop.store(true);
  });
  clients.Run(stop);
  watch.join();
  // Every healthy client should have received every frame of the window.
  const uint64_t window = sh->window_last_seq.load() + 1 - sh->window_first_seq.load();
  uint64_t lost = 0, late = 0, dup = 0;
  for (int i = 0; i < healthy; ++i) {
    const PerClient& c = pc[i];
    dup += c.dup;
    if (c.count == 0) ++late;
    lost += window - std::min(window, c.in_window);
  }
  auto pct = [&](double p) {
    const uint64_t want = static_cast<uint64_t>(p / 100.0 * static_cast<double>(events));
    uint64_t seen = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
      seen += hist[b];
      if (seen > want) return static_cast<double>(b + 1) * 0.01;  // the bin's upper edge, ms
    }
    return 0.0;
  };
  sh->events = events;
  sh->lost = lost;
  sh->dup = dup;
  sh->late_clients = late;
  sh->p50_ms = pct(50);
  sh->p99_ms = pct(99);
  sh->p999_ms = pct(99.9);
  sh->max_ms = static_cast<double>(max_ns) / 1e6;
  sh->client_cpu_s = bench::ProcessCpuSeconds();
  std::_Exit(0);
}

struct ServerRun {
  double cpu_s = 0, wall_s = 0;
  uint64_t frames = 0;
  uint64_t drops = 0;
  long rss_start_kib = 0, rss_before_kib = 0, rss_after_kib = 0, rss_peak_kib = 0;
};

int g_io_threads = 1;  // --io-threads: ServerOptions::io_threads

// One scenario: fork the clients, start broker+server, feed, collect.
ServerRun RunScenario(const std::vector<bench::OwnedFrame>& corpus, double fps, int healthy, int stalled,
                      double seconds, Shared* sh) {
  // `sh` is a fresh zero-filled shared mapping; only the pages of the seqs
  // ingested get touched (8 bytes a frame), so it hardly shows in the RSS.

  // The listening socket must exist before the child connects: bind a
  // port here, pass it to the server (SO_REUSEADDR lets it re-bind).
  const uint16_t port = bench::FreeLoopbackPort();

  // Gate: the child waits for a byte on this pipe (server listening) before
  // connecting. Forked here, before any thread of this scenario exists.
  int gate[2];
  if (::pipe(gate) != 0) std::exit(2);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(gate[1]);
    char c;
    if (::read(gate[0], &c, 1) != 1) std::_Exit(3);
    ClientMain(sh, port, healthy, stalled);
  }
  ::close(gate[0]);

  broker::BrokerOptions bo;
  auto b = broker::Broker::Create(bo);
  if (!b.ok()) std::exit(2);
  std::shared_ptr<broker::Broker> broker = *b;
  http::ServerOptions so;
  so.bind_address = "127.0.0.1";
  so.port = port;
  so.io_threads = g_io_threads;
  auto s = http::Server::Create(so, broker);
  if (!s.ok()) std::exit(2);
  std::unique_ptr<http::Server> server = std::move(*s);
  if (Status st = server->Start(); !st.ok()) {
    std::fprintf(stderr, "fanout_bench: %s\n", st.ToString().c_str());
    std::exit(2);
  }
  server->SetReady(true);
  broker->Start();
  ServerRun r;
  r.rss_start_kib = bench::ProcStatusKib(0, "VmRSS");
  if (::write(gate[1], "g", 1) != 1) std::exit(2);
  ::close(gate[1]);

  // Feed at `fps` in 1 ms steps from now on; the clients connect meanwhile.
  std::atomic<bool> feeding{true};
  std::atomic<uint64_t> ingested{0};
  std::thread feeder([&] {
    const int64_t t0 = bench::MonoNs();
    const int64_t span = corpus.back().timestamp_us - corpus.front().timestamp_us + 1000;
    uint64_t i = 0;
    int64_t next_tick = t0;
    while (feeding.load(std::memory_order_relaxed)) {
      const int64_t now = bench::MonoNs();
      const uint64_t due = static_cast<uint64_t>(static_cast<double>(now - t0) * fps / 1e9);
      while (i < due) {
        const auto& f = corpus[i % corpus.size()];
        can::Frame v = f.view();
        v.timestamp_us += static_cast<int64_t>(i / corpus.size()) * span;
        const uint64_t seq = broker->CurrentSeq() + 1;  // the seq Ingest will assign (one writer)
        if (seq < kMaxSeq) sh->ingest_ns[seq].store(bench::MonoNs(), std::memory_order_relaxed);
        broker->Ingest(v);
        ++i;
      }
      ingested.store(i, std::memory_order_relaxed);
      broker->Tick();
      next_tick += 1'000'000;
      const int64_t sleep = next_tick - bench::MonoNs();
      if (sleep > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(sleep));
    }
  });

  // Wait until the child connected everyone and the server subscribed them.
  while (sh->clients_connected.load() < healthy + stalled ||
         broker->Stats().active_subscribers < static_cast<uint64_t>(healthy + stalled)) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(1000));  // settle
  r.rss_before_kib = bench::ProcStatusKib(0, "VmRSS");
  const uint64_t drops0 = broker->Stats().subscriber_drops;
  const double c0 = bench::ProcessCpuSeconds();
  const auto w0 = std::chrono::steady_clock::now();
  // The window is a seq range fixed in advance (first, first + fps*seconds),
  // so the clients know its bounds for every event they get.
  const uint64_t first = broker->CurrentSeq() + 1;
  const uint64_t last = first + static_cast<uint64_t>(fps * seconds) - 1;
  sh->window_last_seq.store(last);
  sh->window_first_seq.store(first);
  while (broker->CurrentSeq() < last) {  // sample the RSS 10 times a second
    std::this_thread::sleep_for(milliseconds(100));
    r.rss_peak_kib = std::max(r.rss_peak_kib, bench::ProcStatusKib(0, "VmRSS"));
  }
  sh->window_done.store(true);
  r.cpu_s = bench::ProcessCpuSeconds() - c0;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  r.frames = last + 1 - sh->window_first_seq.load();
  r.drops = broker->Stats().subscriber_drops - drops0;
  r.rss_after_kib = bench::ProcStatusKib(0, "VmRSS");

  int status = 0;
  ::waitpid(child, &status, 0);  // the child ends ~0.5 s after the window
  feeding.store(false);
  feeder.join();
  server->Stop(milliseconds(500));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "fanout_bench: client process failed (status %d)\n", status);
    std::exit(2);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 1000;
  double seconds = 20, fps = 1800, stall_seconds = 20;
  int stall_healthy = 100;
  if (argc % 2 == 0) {  // every flag takes a value
    std::fprintf(stderr, "usage: fanout_bench [--clients N] [--seconds S] [--fps F] [--stall-healthy H] [--stall-seconds S] [--io-threads T]\n");
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--fps")) fps = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--stall-healthy")) stall_healthy = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--stall-seconds")) stall_seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--io-threads")) g_io_threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: fanout_bench [--clients N] [--seconds S] [--fps F] [--stall-healthy H] [--stall-seconds S] [--io-threads T]\n");
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  Shared* sh = nullptr;
  auto fresh = [&] {
    if (sh) ::munmap(sh, sizeof(Shared));
    void* m = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::exit(2);
    sh = static_cast<Shared*>(m);
    return sh;
  };
  const auto corpus = bench::SimFullBus(60);

  if (clients > 0) {
    const ServerRun r = RunScenario(corpus, fps, clients, 0, seconds, fresh());
    fmt::print("fanout: {} SSE clients, {:.0f} frames/s for {:.1f} s ({} frames, {} events received); load {}\n",
               clients, fps, r.wall_s, r.frames, sh->events, bench::LoadAverage());
    fmt::print("fanout: latency p50 {:.2f} ms, p99 {:.2f} ms, p99.9 {:.2f} ms, max {:.2f} ms (goal p99 <= 10 ms)\n",
               sh->p50_ms, sh->p99_ms, sh->p999_ms, sh->max_ms);
    fmt::print("fanout: frames lost by clients {} (broker queue drops {}, duplicates {}, clients without events {})\n",
               sh->lost, r.drops, sh->dup, sh->late_clients);
    fmt::print("fanout: server CPU {:.1f} % of one core ({:.2f} s in {:.1f} s, ingest included); clients' process {:.2f} s CPU in all; server RSS {} MiB\n",
               100 * r.cpu_s / r.wall_s, r.cpu_s, r.wall_s, sh->client_cpu_s, r.rss_after_kib / 1024);
  }
  if (stall_healthy > 0) {
    const ServerRun base = RunScenario(corpus, fps, stall_healthy, 0, stall_seconds, fresh());
    const double base_p50 = sh->p50_ms, base_p99 = sh->p99_ms;
    const uint64_t base_lost = sh->lost;
    const ServerRun st = RunScenario(corpus, fps, stall_healthy, 1, stall_seconds, fresh());
    fmt::print("stall: {} healthy clients alone: p50 {:.2f} ms, p99 {:.2f} ms, lost {}, server CPU {:.1f} %, RSS {} KiB\n",
               stall_healthy, base_p50, base_p99, base_lost, 100 * base.cpu_s / base.wall_s, base.rss_after_kib);
    fmt::print("stall: with 1 stalled client:   p50 {:.2f} ms, p99 {:.2f} ms, lost {}, server CPU {:.1f} %\n",
               sh->p50_ms, sh->p99_ms, sh->lost, 100 * st.cpu_s / st.wall_s);
    fmt::print("stall: server RSS {} KiB before the clients, {} KiB 1 s after they connected, {} KiB after {:.0f} more s (max sampled {} KiB)\n",
               st.rss_start_kib, st.rss_before_kib, st.rss_after_kib, st.wall_s, st.rss_peak_kib);
    fmt::print("stall: broker queue drops {} in the window ({} frames ingested; the stalled client's queue holds {})\n",
               st.drops, st.frames, broker::BrokerOptions{}.subscriber_queue);
  }
  return 0;
}
