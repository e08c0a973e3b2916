// The six frame filters of lplex (spec/boat.md §4.1: pgn, exclude_pgn,
// manufacturer, instance, name, exclude_name) applied to frames read back
// from journals, against the devices the journal's block tables name.
//
// As in lplex's replay (§4.3), manufacturer and NAME compare without regard
// to case; a device criterion (manufacturer, instance, name) needs the
// source's device to be known by then, an exclusion drops a source only when
// its device is known.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/filter.h"
#include "core/status.h"
#include "journal/format.h"
#include "journal/reader.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace lplex::cli {

// The devices a journal file has named so far, by source address, kept up
// to date frame by frame from the block device tables (an entry applies
// from its active_from frame on).
class ReplayDevices {
 public:
  // Call before using the reader's current frame: loads the table of a new
  // block, then applies the entries that start at or before this frame.
  void Update(const journal::JournalReader& reader);

  // Reads every block's device table of `reader` (decompressing each
  // block) and remembers, per source, the first device that claims it in
  // the file; frames a source sends before its claim then count as that
  // device's (a device talks before it claims; without this, filtering by
  // manufacturer or NAME misses those frames and --exclude-name lets them
  // through). Leaves the reader positioned at block 0.
  void LearnFirstClaims(journal::JournalReader& reader);

  // The device at `source`, or nullptr when none is known.
  const journal::DeviceEntry* Find(uint8_t source) const {
    if (known_[source]) return &devices_[source];
    return first_known_[source] ? &first_claims_[source] : nullptr;
  }
  // Its manufacturer code from the NAME, when known.
  std::optional<uint16_t> Manufacturer(uint8_t source) const;

 private:
  int64_t block_ = -1;
  std::vector<journal::DeviceEntry> pending_;  // this block's entries, by active_from
  size_t next_ = 0;
  std::array<journal::DeviceEntry, 256> devices_{};
  std::array<bool, 256> known_{};
  std::array<journal::DeviceEntry, 256> first_claims_{};
  std::array<bool, 256> first_known_{};
};

// True when a frame of `pgn` from a source with device `d` (nullptr when
// unknown) passes `f`.
bool MatchesReplay(const broker::FilterSpec& f, uint32_t pgn, const journal::DeviceEntry* d);

// The filter flags of dump and tail, as typed (each may repeat).
struct FilterFlags {
  std::vector<std::string> pgn, exclude_pgn, manufacturer, instance, name, exclude_name;
};

// Adds --pgn, --exclude-pgn, --manufacturer, --instance, --name and
// --exclude-name to `cmd`, storing into *f, and puts each option into
// *repeatable (they may be given several times).
void AddFilterOptions(CLI::App* cmd, FilterFlags* f, std::set<const CLI::Option*>* repeatable);

// Parses the flags into a FilterSpec; the error names the flag and the value
// and says what is valid, e.g. `--instance "300": out of range (valid: 0..255)`.
Result<broker::FilterSpec> ParseFilterFlags(const FilterFlags& flags);

}  // namespace lplex::cli
