// BrokerLoop drains what the sources queued in batches instead of being
// woken once per frame.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "broker_loop.h"
#include "core/log.h"

namespace lplex::server {
namespace {

TEST(BrokerLoop, OwnerDrainsABusyBusInBatchesNotPerFrame) {
  auto broker = broker::Broker::Create(broker::BrokerOptions{});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  std::atomic<int> passes{0};
  BrokerLoopOptions lo;
  lo.heartbeat = [&] { passes.fetch_add(1, std::memory_order_relaxed); };
  lo.log = Logger::Discard();
  BrokerLoop loop(broker.value(), {nullptr}, lo);
  auto sink = loop.SinkFor(0);
  loop.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int before = passes.load();
  // A frame every ~0.3 ms for ~0.3 s: about a full bus.
  constexpr int kFrames = 1000;
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < kFrames; ++i) {
    can::Frame f;
    f.timestamp_us = 1'751'328'000'000'000 + i * 300;
    f.header = {2, 129025, 10, 255};
    f.data = data;
    sink(f);
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (loop.stats().frames_ingested < kFrames && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int during = passes.load() - before;
  EXPECT_EQ(loop.stats().frames_ingested, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(loop.stats().frames_dropped, 0u);
  // Per-frame wake-ups made >= kFrames passes; a 10 ms drain makes ~2 per 10 ms.
  EXPECT_LT(during, kFrames / 3) << "the owner thread woke per frame";
  loop.DrainAndStop();
}

}  // namespace
}  // namespace lplex::server
