// broker_bench: Broker::Ingest throughput on one core.
//
//   broker_bench [--frames N] [--subscribers K]
//
// The frames are the simulated boat on a full bus (sim:?fps=full: ten
// devices, claims, product information, fast-packet GNSS/engine/AIS), after
// reassembly: 60 s of them in memory, looped with time moved on, so the
// device registry and value store see real traffic. One thread ingests N
// frames into a broker with the server's defaults (65,536-entry ring, no
// journal sink). Reported as frames per CPU-second of the ingesting thread
// (CLOCK_THREAD_CPUTIME_ID; the machine is shared) and per wall second.
//
// A second pass adds K ephemeral subscribers (unfiltered) that nobody
// drains: after 128 messages each queue is full, so this is the cost of the
// fan-out push plus the drop bookkeeping, the worst case per frame.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "broker/broker.h"

namespace {

using namespace lplex;

struct Pass {
  double cpu_s;
  double wall_s;
  uint64_t drops;
};

Pass Run(const std::vector<bench::OwnedFrame>& corpus, uint64_t n, int subscribers) {
  broker::BrokerOptions o;
  auto b = broker::Broker::Create(o);
  if (!b.ok()) {
    std::fprintf(stderr, "broker_bench: %s\n", b.status().ToString().c_str());
    std::exit(2);
  }
  std::shared_ptr<broker::Broker> broker = *b;
  std::vector<std::unique_ptr<broker::Subscriber>> subs;
  for (int i = 0; i < subscribers; ++i) subs.push_back(broker->Subscribe({}));
  const int64_t span = corpus.back().timestamp_us - corpus.front().timestamp_us + 1000;
  // Warm-up: one loop (first-time allocations: ring payloads, JSON buffers).
  for (const auto& f : corpus) broker->Ingest(f.view());
  const double c0 = bench::ThreadCpuSeconds();
  const auto w0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t loop = i / corpus.size() + 1;
    const auto& f = corpus[i % corpus.size()];
    can::Frame v = f.view();
    v.timestamp_us += static_cast<int64_t>(loop) * span;
    broker->Ingest(v);
  }
  const double cpu = bench::ThreadCpuSeconds() - c0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  return {cpu, wall, broker->Stats().subscriber_drops};
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 10'000'000;
  int subscribers = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--frames")) n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--subscribers")) subscribers = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: broker_bench [--frames N] [--subscribers K]\n");
      return 2;
    }
  }
  const auto corpus = bench::SimFullBus(60);
  fmt::print("broker: corpus {} frames over 60 s of sim:?fps=full ({:.0f} frames/s after reassembly); load {}\n",
             corpus.size(), corpus.size() / 60.0, bench::LoadAverage());
  const Pass bare = Run(corpus, n, 0);
  fmt::print("broker ingest: {:.2f} M frames/s per CPU-second ({:.2f} M/s wall; {} frames, {:.2f} s CPU, 0 subscribers)\n",
             n / bare.cpu_s / 1e6, n / bare.wall_s / 1e6, n, bare.cpu_s);
  if (subscribers > 0) {
    const Pass fan = Run(corpus, n, subscribers);
    fmt::print("broker ingest: {:.2f} M frames/s per CPU-second ({:.2f} M/s wall; {} undrained subscribers, {} drops)\n",
               n / fan.cpu_s / 1e6, n / fan.wall_s / 1e6, subscribers, fan.drops);
  }
  return 0;
}
