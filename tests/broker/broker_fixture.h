// Helpers shared by the broker tests: frame builders and a broker on a
// FakeClock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/broker.h"
#include "broker/device_table.h"
#include "can/iso_name.h"
#include "core/clock.h"

namespace lplex::broker::testing {

inline constexpr int64_t kT0 = 1772460000LL * 1000000;  // 2026-03-02T14:00:00Z

// Owns the payload so a Frame view can point at it.
struct TestFrame {
  can::Frame frame;
  std::vector<uint8_t> bytes;
  const can::Frame& get() {
    frame.data = bytes;
    return frame;
  }
};

inline TestFrame MakeFrame(uint32_t pgn, uint8_t src, std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8},
                           int64_t ts = kT0, uint8_t dst = 255, uint64_t seq = 0) {
  TestFrame t;
  t.bytes = std::move(data);
  t.frame.timestamp_us = ts;
  t.frame.header = can::CanHeader{.priority = 2, .pgn = pgn, .source = src, .destination = dst};
  t.frame.seq = seq;
  return t;
}

inline uint64_t MakeName(uint16_t manufacturer, uint32_t unique = 1, uint8_t instance = 0, uint8_t function = 130,
                         uint8_t cls = 25) {
  can::IsoName n;
  n.unique_number = unique;
  n.manufacturer_code = manufacturer;
  n.device_instance_lower = instance & 7;
  n.device_instance_upper = instance >> 3;
  n.device_function = function;
  n.device_class = cls;
  n.industry_group = 4;
  return n.Encode();
}

inline TestFrame ClaimFrame(uint8_t src, uint64_t name, int64_t ts = kT0) {
  std::vector<uint8_t> d(8);
  for (int i = 0; i < 8; ++i) d[i] = static_cast<uint8_t>(name >> (8 * i));
  auto f = MakeFrame(can::kPgnAddressClaim, src, d, ts);
  f.frame.header.priority = 6;
  return f;
}

inline TestFrame ProductFrame(uint8_t src, uint16_t code, const std::string& model, int64_t ts = kT0) {
  std::vector<uint8_t> d(134, 0xFF);
  d[0] = 0x34;
  d[1] = 0x08;
  d[2] = static_cast<uint8_t>(code);
  d[3] = static_cast<uint8_t>(code >> 8);
  for (size_t i = 0; i < model.size() && i < 32; ++i) d[4 + i] = static_cast<uint8_t>(model[i]);
  return MakeFrame(can::kPgnProductInfo, src, d, ts);
}

// Every TxFrame currently queued.
inline std::vector<TxFrame> DrainTx(Broker& b) {
  std::vector<TxFrame> out;
  TxFrame f;
  while (b.tx().TryPop(&f)) out.push_back(f);
  return out;
}

// Every frame a consumer can hand out without waiting.
inline std::vector<ConsumerItem> DrainConsumer(Consumer& c) {
  std::vector<ConsumerItem> out;
  ConsumerItem item;
  while (c.Next(&item, std::chrono::milliseconds(0)) == NextResult::kFrame) out.push_back(item);
  return out;
}

inline std::vector<std::string> DrainSubscriber(Subscriber& s) {
  std::vector<std::string> out;
  JsonRef m;
  while (s.TryPop(&m)) out.emplace_back(m.view());
  return out;
}

class BrokerTest : public ::testing::Test {
 protected:
  std::shared_ptr<Broker> Make(BrokerOptions o = {}) {
    if (o.ring_capacity == 65536) o.ring_capacity = 1024;
    o.clock = &clock_;
    auto r = Broker::Create(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }
  void Ingest(Broker& b, TestFrame f) { b.Ingest(f.get()); }

  // Monotonic time starts at kT0 too, so tests Tick(kT0 + ...).
  FakeClock clock_{kT0, kT0};
};

}  // namespace lplex::broker::testing
