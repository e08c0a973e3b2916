// DeviceRegistry: what is known about each source address on the bus,
// learned from the traffic itself (spec/boat.md §1.8).
//
// Every frame updates its source's statistics. An address claim (PGN 60928)
// gives the source its NAME; product information (PGN 126996) adds the model
// strings. The registry never expires entries by itself and does no
// address-claim arbitration: a source keeps its entry until the owner calls
// Remove (the broker does after an idle timeout) or the process ends.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "can/frame.h"
#include "can/iso_name.h"

namespace lplex::can {

inline constexpr uint32_t kPgnAddressClaim = 60928;
inline constexpr uint32_t kPgnProductInfo = 126996;
inline constexpr size_t kAddressClaimMinBytes = 8;
inline constexpr size_t kProductInfoMinBytes = 134;

// Fields of PGN 126996. Strings are the fixed-width fields cut at the first
// 0x00 or 0xFF.
struct ProductInfo {
  uint16_t product_code = 0;
  std::string model_id;          // payload bytes 4..35
  std::string software_version;  // 36..75
  std::string model_version;     // 76..99
  std::string model_serial;      // 100..131

  bool empty() const {
    return product_code == 0 && model_id.empty() && software_version.empty() && model_version.empty() &&
           model_serial.empty();
  }
  friend bool operator==(const ProductInfo&, const ProductInfo&) = default;
};

struct Device {
  uint8_t source = 0;
  uint64_t name = 0;  // 0 until the source claims an address ("stats-only" entry)
  ProductInfo product;
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;

  bool named() const { return name != 0; }
  IsoName iso_name() const { return IsoName::Decode(name); }
};

// What one observed frame changed, besides the statistics.
enum class RegistryChange {
  kNone,
  kNewSource,    // first frame from this source, and it changed no identity
  kNameChanged,  // a 60928 claim gave the source a NAME it did not hold
  kProductInfo,  // a 126996 changed the product fields
};

// Fixed-width product-info string: the bytes up to the first 0x00 or 0xFF.
std::string_view DecodeFixedString(std::span<const uint8_t> field);

// Not thread-safe: the owner (the broker, or a journal writer fed by an
// importer) is the single writer and serializes readers itself.
class DeviceRegistry {
 public:
  DeviceRegistry() = default;
  DeviceRegistry(const DeviceRegistry&) = delete;
  DeviceRegistry& operator=(const DeviceRegistry&) = delete;

  // Records one message: first the statistics (a new source gets an entry
  // with first_seen = last_seen = ts, one packet, data.size() bytes, no
  // identity), then its identity content:
  //  - 60928 with >= 8 bytes: NAME = bytes 0..7 little-endian. The same NAME
  //    changes nothing. A different one gives the source a fresh identity:
  //    statistics carry over, product info does NOT (as in the reference).
  //  - 126996 with >= 134 bytes: product code (LE u16 at bytes 2..3) and the
  //    four strings. The source is always known at this point, because the
  //    statistics step has just recorded it: a product info that is the
  //    source's very first frame is accepted, as in the reference pipeline.
  //  - shorter 60928 / 126996 payloads only count as statistics.
  // Returns the most specific change: kNameChanged or kProductInfo win over
  // kNewSource. A caller that wants to ask a new source for its claim should
  // do so on kNewSource for frames other than 60928 / 126996 (which is
  // exactly when the reference sends that request).
  // No allocation unless a NAME or product info actually changes.
  RegistryChange Observe(int64_t ts_us, uint8_t source, uint32_t pgn, std::span<const uint8_t> data);

  // Convenience for a reassembled message.
  RegistryChange Observe(const Frame& m) {
    return Observe(m.timestamp_us, m.header.source, m.header.pgn, m.data);
  }

  // The entry for `source`, or nullptr when nothing was seen from it. The
  // entry lives as long as the registry; Observe updates it in place.
  const Device* Find(uint8_t source) const;

  // Forgets `source` (statistics, NAME and product info); false when nothing
  // was known about it. Its next frame starts a fresh entry (kNewSource, or
  // kNameChanged / kProductInfo when that frame carries an identity).
  // Invalidates pointers from Find for that source only.
  bool Remove(uint8_t source);

  // Calls fn(const Device&) for every entry in ascending source order,
  // without allocating. ForEachNamed skips entries without a NAME.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& d : devices_) {
      if (d) fn(*d);
    }
  }
  template <typename Fn>
  void ForEachNamed(Fn&& fn) const {
    for (const auto& d : devices_) {
      if (d && d->named()) fn(*d);
    }
  }

  // Copies of the entries, ascending by source: all, or only those with a NAME.
  std::vector<Device> Snapshot() const;
  std::vector<Device> NamedDevices() const;

  // Number of sources seen (named or not).
  size_t size() const { return size_; }

  // A 60928 claim and, when product_code or model_id is set, a 134-byte
  // 126996 (strings padded with 0xFF, other bytes 0) for every named device,
  // ascending by source, each with priority 6, destination 255 and timestamp
  // ts_us. Feeding them to an empty registry rebuilds every named identity
  // (replication seeds a remote registry this way). Stats-only entries are
  // skipped.
  struct SynthesizedFrame {
    int64_t timestamp_us = 0;
    CanHeader header;
    std::vector<uint8_t> data;
  };
  std::vector<SynthesizedFrame> SynthesizeFrames(int64_t ts_us) const;

 private:
  bool ApplyClaim(Device* d, std::span<const uint8_t> data);
  bool ApplyProductInfo(Device* d, std::span<const uint8_t> data);

  std::array<std::optional<Device>, 256> devices_;
  size_t size_ = 0;
};

}  // namespace lplex::can
