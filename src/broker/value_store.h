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
#include <span>
#include <string>
#include <vector>

#include "broker/filter.h"

namespace lplex::broker {

class DeviceTable;

struct StoredValue {
  uint32_t pgn = 0;
  int64_t timestamp_us = 0;
  uint64_t seq = 0;
  std::vector<uint8_t> data;
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
  size_t count_ = 0;
};

// The /values body (spec/boat.md §2.8), no trailing newline:
// [{"name":"0x<16 hex>"|"","src":u8,["bus":u8,]"manufacturer":str?,
//   "model_id":str?,"values":[{"pgn":u32,"ts":str,"data":hex,"seq":u64}]}]
std::string ValuesJson(const std::vector<SourceValues>& groups, const DeviceTable& devices);

}  // namespace lplex::broker
