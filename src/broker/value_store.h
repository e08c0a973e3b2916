// ValueStore: the latest payload, timestamp and seq per (bus, source, PGN)
// (spec/boat.md §1.9).
//
// Not thread-safe: the broker writes it and guards readers with its lock.
// Record() allocates only the first time a (bus, source, PGN) is seen (and
// when a payload grows past what its slot held); later frames overwrite in
// place. Forget() drops a source's values when its device is removed, so
// memory follows the devices that are actually on the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/filter.h"
#include "can/device_registry.h"
#include "pgn/stream_decoder.h"

namespace lplex::broker {

class DeviceTable;

struct StoredValue {
  uint32_t pgn = 0;
  int64_t timestamp_us = 0;
  uint64_t seq = 0;
  std::vector<uint8_t> data;
  // A PGN whose fragments the store joins: `whole` is the last complete
  // payload (empty until one completed), with the timestamp and seq of the
  // fragment that completed it.
  bool joins = false;
  int64_t whole_timestamp_us = 0;
  uint64_t whole_seq = 0;
  std::vector<uint8_t> whole;
};

// One source's values, sorted by PGN.
struct SourceValues {
  uint8_t bus = 0;
  uint8_t source = 0;
  std::vector<StoredValue> values;
};

class ValueStore {
 public:
  void Record(uint8_t bus, uint8_t source, uint32_t pgn, int64_t ts_us, std::span<const uint8_t> data,
              uint64_t seq);
  void Forget(uint8_t bus, uint8_t source);

  // The groups that pass the filter, ascending by (source, bus), values
  // ascending by PGN, with the §4.1 /values rules: pgn / exclude_pgn drop
  // values (a group left without values is dropped), src keeps only the
  // listed sources, device criteria need a claimed device (NAME != 0) that
  // matches, exclude_name drops a source only when its device is known.
  std::vector<SourceValues> Snapshot(const FilterSpec& filter, const DeviceTable& devices) const;

  size_t source_count() const { return count_; }

 private:
  std::vector<std::unique_ptr<SourceValues>> slots_;  // index bus*256 + source
  std::vector<std::unique_ptr<pgn::FragmentJoiner>> joiners_;  // by bus, created on first use
  size_t count_ = 0;
};

// The /values body (spec/boat.md §2.8), no trailing newline:
// [{"name":"0x<16 hex>"|"","src":u8,["bus":u8,]"manufacturer":str?,
//   "model_id":str?,"values":[{"pgn":u32,"ts":str,"data":hex,"seq":u64}]}]
std::string ValuesJson(const std::vector<SourceValues>& groups, const DeviceTable& devices);

// The claimed device of each group (nullopt: none, or a stats-only entry),
// copied so the decoded body can be written without the broker's lock.
std::vector<std::optional<can::Device>> GroupDevices(const std::vector<SourceValues>& groups,
                                                     const DeviceTable& devices);

// The /values/decoded body (spec/boat.md §2.9, docs/http.md), no trailing
// newline: the groups of ValuesJson with each value
// {"pgn":u32,"description":str,"ts":str,"seq":u64,"fields":<object>|null}.
// Values no definition decodes are left out, and so is a group left
// without values. The sender's manufacturer (its claim) picks the variant
// of proprietary PGNs; joined PGNs show their last complete payload.
std::string DecodedValuesJson(const std::vector<SourceValues>& groups,
                              const std::vector<std::optional<can::Device>>& devices);

}  // namespace lplex::broker
