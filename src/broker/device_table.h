// DeviceTable: the broker's device registry, keyed by (bus, source).
//
// One can::DeviceRegistry per bus holds what each device is (statistics,
// 60928 NAME, 126996 product info; spec/boat.md §1.8), so the broker and the
// journal learn identities by the same rules. Beside it the table keeps what
// only the broker needs: when each source was last heard (idle removal) and
// the discovery bookkeeping.
//
// Not thread-safe: the broker is the single writer and guards readers with
// its own lock. Memory: nothing until the first frame of a bus; then one
// fixed table per bus (about 60 KiB: 256 device slots and 256 discovery
// records), plus the product strings of the devices that send them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "can/device_registry.h"

namespace lplex::broker {

// What the broker tracks per (bus, source) beside the device itself. A
// removed source starts again from the defaults.
struct DeviceDiscovery {
  // Monotonic time (µs) of the last Tick before the latest frame: what idle
  // removal compares against (frame timestamps may be old in a replay).
  int64_t last_rx_us = 0;
  // Monotonic µs of the last request sent; 0 = never.
  int64_t claim_requested_us = 0;
  int64_t info_requested_us = 0;
  uint8_t claim_requests = 0;  // 60928 requests sent to this source
  uint8_t info_requests = 0;   // 126996 requests sent since the current NAME appeared
  bool claim_pending = false;  // queued in the pacer, not yet sent
  bool info_pending = false;
};

// A copy of one entry, for readers outside the broker's lock.
struct DeviceRecord {
  uint8_t bus = 0;
  can::Device device;
  DeviceDiscovery discovery;
};

class DeviceTable {
 public:
  DeviceTable() = default;
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;

  // Records one frame in the bus's registry (can::DeviceRegistry::Observe:
  // statistics, then identity content) and returns what changed; stamps the
  // entry's last_rx_us with rx_us. Allocates only for the first frame of a
  // bus or a changed NAME / product string.
  can::RegistryChange Observe(uint8_t bus, int64_t ts_us, uint8_t source, uint32_t pgn,
                              std::span<const uint8_t> data, int64_t rx_us);

  // The device at (bus, source), or nullptr when none. Valid until Remove of
  // that key; Observe updates it in place.
  const can::Device* Find(uint8_t bus, uint8_t source) const;
  // Its discovery record, or nullptr when there is no such device. Same lifetime.
  DeviceDiscovery* FindDiscovery(uint8_t bus, uint8_t source);

  // Removes the entry (device and discovery state); false when there was none.
  bool Remove(uint8_t bus, uint8_t source);

  // fn(uint8_t bus, const can::Device&, DeviceDiscovery&) for every entry,
  // ascending by (bus, source). fn may change discovery records but must not
  // call Observe or Remove.
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (size_t bus = 0; bus < buses_.size(); ++bus) {
      if (!buses_[bus]) continue;
      BusTable& t = *buses_[bus];
      t.registry.ForEach(
          [&](const can::Device& d) { fn(static_cast<uint8_t>(bus), d, t.discovery[d.source]); });
    }
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t bus = 0; bus < buses_.size(); ++bus) {
      if (!buses_[bus]) continue;
      const BusTable& t = *buses_[bus];
      t.registry.ForEach([&](const can::Device& d) {
        fn(static_cast<uint8_t>(bus), d, static_cast<const DeviceDiscovery&>(t.discovery[d.source]));
      });
    }
  }

  size_t size() const { return size_; }

 private:
  struct BusTable {
    can::DeviceRegistry registry;
    std::array<DeviceDiscovery, 256> discovery;
  };
  const BusTable* Bus(uint8_t bus) const { return bus < buses_.size() ? buses_[bus].get() : nullptr; }

  std::vector<std::unique_ptr<BusTable>> buses_;
  size_t size_ = 0;
};

// Appends the device object of spec/boat.md §1.8, keys in order: [type,]
// src, [bus when not 0,] name, manufacturer, manufacturer_code,
// device_class, device_function, device_instance, unique_number (omitted
// when 0), model_id, software_version, model_version, model_serial,
// product_code (each omitted when empty/0), first_seen, last_seen,
// packet_count, byte_count. Times are UTC RFC 3339 (the reference uses the
// host zone; docs/broker.md). `type` ("device", "device_removed") is
// prepended when not empty. Strings are escaped as Go does ("B\u0026G").
void AppendDeviceJson(uint8_t bus, const can::Device& d, std::string_view type, std::string* out);

// "[" device, ... "]" for every entry of the table ("[]" when empty).
std::string DevicesJson(const DeviceTable& table);

}  // namespace lplex::broker
