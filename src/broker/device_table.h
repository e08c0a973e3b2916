// DeviceTable: the broker's device registry, keyed by (bus, source).
//
// can::DeviceRegistry is keyed by source alone and never forgets a source;
// the broker needs one registry per bus and idle removal, so it keeps its own
// table of can::Device records (same content rules as spec/boat.md §1.8:
// statistics first, then 60928 NAME / 126996 product info; a new NAME drops
// the product info) plus what discovery needs per device.
//
// Not thread-safe: the broker is the single writer and guards readers with
// its own lock. Memory: nothing until the first frame of a bus; then one
// small table per bus and one record per source seen.
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

// One registry entry as the broker keeps it.
struct DeviceRecord {
  uint8_t bus = 0;
  can::Device device;
  // Monotonic time (µs) of the last Tick before the latest frame: what idle
  // removal compares against (frame timestamps may be old in a replay).
  int64_t last_rx_us = 0;
  // Discovery bookkeeping (monotonic µs; 0 = never).
  int64_t claim_requested_us = 0;
  int64_t info_requested_us = 0;
  uint8_t claim_requests = 0;  // 60928 requests sent to this source
  uint8_t info_requests = 0;   // 126996 requests sent since the current NAME appeared
  bool claim_pending = false;  // queued in the pacer, not yet sent
  bool info_pending = false;
};

class DeviceTable {
 public:
  DeviceTable() = default;
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;

  // Records one frame (statistics, then identity content) and returns what
  // changed, as can::DeviceRegistry::Observe does. *record points to the
  // entry afterwards (valid until Remove of that key). Allocates only for a
  // new source or a changed NAME / product string.
  can::RegistryChange Observe(uint8_t bus, int64_t ts_us, uint8_t source, uint32_t pgn,
                              std::span<const uint8_t> data, int64_t rx_us, DeviceRecord** record);

  DeviceRecord* Find(uint8_t bus, uint8_t source);
  const DeviceRecord* Find(uint8_t bus, uint8_t source) const;
  // Removes the entry; false when there was none.
  bool Remove(uint8_t bus, uint8_t source);

  // fn(DeviceRecord&) for every entry, ascending by (bus, source).
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (auto& b : buses_) {
      if (!b) continue;
      for (auto& r : *b) {
        if (r) fn(*r);
      }
    }
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& b : buses_) {
      if (!b) continue;
      for (const auto& r : *b) {
        if (r) fn(static_cast<const DeviceRecord&>(*r));
      }
    }
  }

  size_t size() const { return size_; }

 private:
  using BusTable = std::array<std::unique_ptr<DeviceRecord>, 256>;
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
void AppendDeviceJson(const DeviceRecord& r, std::string_view type, std::string* out);

// "[" device, ... "]" for every entry of the table ("[]" when empty).
std::string DevicesJson(const DeviceTable& table);

}  // namespace lplex::broker
