// Server-side frame filters (spec/boat.md §4.1, plus `src`).
//
// A FilterSpec holds the values of each category. Values inside a category
// are OR'd, categories are AND'd, exclusions always win. Evaluation order for
// a frame: pgn, exclude_pgn, src, exclude_name, then the device criteria
// (manufacturer, instance, name), which need a registry entry for the
// frame's (bus, source).
//
// Two ways to evaluate device criteria:
//  - live (ephemeral /events): against the broker's registry on every frame;
//  - resolved (session streams, pull consumers): once, at connect, into a
//    set of (bus, source) keys (ResolvedFilter). Devices that claim later do
//    not match, as in the reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "can/device_registry.h"
#include "core/status.h"

namespace lplex::broker {

struct FilterSpec {
  std::vector<uint32_t> pgn;
  std::vector<uint32_t> exclude_pgn;
  std::vector<std::string> manufacturer;  // a name ("Garmin") or a decimal code ("229")
  std::vector<uint8_t> instance;          // device_instance
  std::vector<uint64_t> name;             // ISO NAME
  std::vector<uint64_t> exclude_name;
  std::vector<uint8_t> src;               // source address (documented by lplex, ignored by its code)

  bool empty() const {
    return pgn.empty() && exclude_pgn.empty() && manufacturer.empty() && instance.empty() && name.empty() &&
           exclude_name.empty() && src.empty();
  }
  // True when manufacturer, instance or name is set (needs the registry).
  bool has_device_criteria() const { return !manufacturer.empty() || !instance.empty() || !name.empty(); }

  friend bool operator==(const FilterSpec&, const FilterSpec&) = default;
};

// True for the query keys FilterSpec understands: pgn, exclude_pgn,
// manufacturer, instance, name, exclude_name, src.
bool IsFilterKey(std::string_view key);

// Adds one query parameter to *spec. `value` may hold several values
// separated by commas (the OpenAPI form); repeated keys add up (the code's
// form). Each value is checked; the InvalidArgument error names the key and
// the bad value (quoted as Go's %q does: QuoteLikeGo, so a CR, LF or NUL
// from the query never reaches the reply raw) and says what is valid, e.g.
//   invalid pgn "x": not a decimal number (valid: 0..131071)
//   invalid pgn "200000": out of range (valid: 0..131071)
//   invalid name "zz": must be hex (1..16 digits, optional 0x)
// (No manufacturer name in the table contains a comma, so manufacturer
// values split on commas too.) Unknown keys are an InvalidArgument naming
// the key.
Status AddFilterParam(std::string_view key, std::string_view value, FilterSpec* spec);

// Adds every (key, value) pair whose key IsFilterKey; other keys are
// ignored (they belong to the endpoint). First error wins.
Result<FilterSpec> ParseFilterParams(const std::vector<std::pair<std::string, std::string>>& params);

// Parses a NAME: 1..16 hex digits, an optional 0x/0X prefix (lplex's own
// clients send one). nullopt on anything else.
std::optional<uint64_t> ParseNameHex(std::string_view s);

// Does the device (nullptr: no registry entry) satisfy every set device
// criterion (manufacturer, instance, name)? No entry fails when any is set.
bool MatchesDeviceCriteria(const FilterSpec& f, const can::Device* d);

// Full §4.1 evaluation of one frame against the live registry entry `d` of
// its (bus, source) (nullptr when none). No allocation.
bool MatchesLive(const FilterSpec& f, uint32_t pgn, uint8_t source, const can::Device* d);

// A FilterSpec with its device criteria resolved to a fixed set of
// (bus, source) keys. Cheap to evaluate: no registry access.
class ResolvedFilter {
 public:
  ResolvedFilter() = default;  // matches everything
  // `for_each_device(fn)` must call fn(uint8_t bus, const can::Device&) for
  // every registry entry (the snapshot taken at connect).
  template <typename ForEachDevice>
  static ResolvedFilter Resolve(const FilterSpec& f, ForEachDevice&& for_each_device) {
    ResolvedFilter r;
    r.spec_ = f;
    r.all_ = f.empty();
    r.need_allow_ = f.has_device_criteria();
    for_each_device([&](uint8_t bus, const can::Device& d) {
      if (r.need_allow_ && MatchesDeviceCriteria(f, &d)) r.Set(&r.allowed_, bus, d.source);
      if (!f.exclude_name.empty() && d.named()) {
        for (uint64_t n : f.exclude_name) {
          if (n == d.name) r.Set(&r.excluded_, bus, d.source);
        }
      }
    });
    return r;
  }

  bool Matches(uint32_t pgn, uint8_t bus, uint8_t source) const;
  const FilterSpec& spec() const { return spec_; }

 private:
  static void Set(std::vector<uint64_t>* bits, uint8_t bus, uint8_t source);
  static bool Test(const std::vector<uint64_t>& bits, uint8_t bus, uint8_t source);

  FilterSpec spec_;
  bool all_ = true;
  bool need_allow_ = false;
  std::vector<uint64_t> allowed_;   // bit (bus*256 + source)
  std::vector<uint64_t> excluded_;
};

}  // namespace lplex::broker
