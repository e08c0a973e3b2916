// Change tracking (spec/boat.md §5.6): turns a stream of frames into
// Snapshot / Delta / Idle events per (source, PGN, subkey), and back.
//
// The tracker keeps the last significant payload of every key. The first
// frame of a key, and any frame whose length differs from the baseline, is a
// Snapshot carrying the whole payload. Otherwise the PGN's DiffMethod
// decides: a significant change is a Delta carrying the byte-mask diff and
// becomes the new baseline; anything else produces nothing. Only significant
// changes move the baseline, so a value cannot creep through its tolerance
// a little at a time. A key that stays silent for its idle timeout produces
// one Idle event per silence.
//
// Time never comes from a clock here: the caller passes each frame's time
// and calls Tick with "now" (wall-clock every 500 ms when live; each
// replayed frame's time, before that frame, when replaying a journal).
// Not thread-safe: one caller thread, or the caller's own lock.
// docs/changes.md describes what the user sees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "changes/diff.h"
#include "core/status.h"

namespace lplex::changes {

enum class ChangeType : uint8_t {
  kSnapshot = 1,  // first frame of a key, or a new length: data is the full payload
  kDelta = 2,     // significant change: data is the byte-mask diff
  kIdle = 3,      // the key went silent: no data
};

// "snapshot", "delta", "idle" (the JSON `change` values); "unknown" for a
// value outside the enumeration.
std::string_view ChangeTypeName(ChangeType type);

struct ChangeEvent {
  ChangeType type = ChangeType::kSnapshot;
  int64_t time_us = 0;  // the frame's time (Snapshot, Delta) or the Tick's "now" (Idle)
  uint8_t src = 0;
  uint32_t pgn = 0;
  uint64_t subkey = 0;
  uint64_t seq = 0;            // the frame's seq; 0 for Idle
  std::vector<uint8_t> data{}; // full payload (Snapshot), diff (Delta), empty (Idle)
  size_t full_bytes = 0;       // length of the frame's payload; 0 for Idle
};

// Picks a sub-discriminator out of a multiplexed PGN's payload (Victron
// registers on 61184), so each register is tracked as its own key. Must
// accept any payload, including short ones.
using SubKeyFunc = std::function<uint64_t(std::span<const uint8_t> payload)>;

struct ChangeTrackerOptions {
  // Per-PGN diff methods. PGNs not listed here that declare field
  // tolerances (HasFieldTolerances) get a FieldToleranceDiff; all others
  // get `default_method`, or ByteMaskDiff when that is null.
  std::map<uint32_t, std::shared_ptr<DiffMethod>> methods;
  std::shared_ptr<DiffMethod> default_method;

  // Per-PGN subkey extractors; PGNs not listed have subkey 0. `lplex tail`
  // and `lplex dump` configure none.
  std::map<uint32_t, SubKeyFunc> sub_keys;

  // Idle timeout of a PGN, first that applies:
  //   1. idle_timeouts_us[pgn];
  //   2. the PGN's transmission interval × idle_multiplier, the interval
  //      from lplex's definitions first (pgn::LplexDefinitions, name-only
  //      entries included), else canboat's (pgn::CanboatDefinitions);
  //   3. default_idle_timeout_us.
  std::map<uint32_t, int64_t> idle_timeouts_us;
  int64_t idle_multiplier = 3;
  int64_t default_idle_timeout_us = 5'000'000;

  // Most keys kept at once. When a new key arrives at the cap, the key that
  // least recently had a frame is forgotten (no Idle for it); if it speaks
  // again it starts over with a Snapshot. 16384 is far above a real bus
  // (a few hundred keys) but bounds memory under a flood of random PGNs or
  // subkeys. Values below 1 count as 1.
  size_t max_keys = 16384;
};

class ChangeTracker {
 public:
  explicit ChangeTracker(ChangeTrackerOptions options = {});
  ChangeTracker(const ChangeTracker&) = delete;
  ChangeTracker& operator=(const ChangeTracker&) = delete;

  // One frame: a Snapshot or Delta event, or nullopt when the frame changes
  // nothing significant. Re-arms the key's idle detection either way.
  std::optional<ChangeEvent> Process(int64_t time_us, uint8_t src, uint32_t pgn, std::span<const uint8_t> payload,
                                     uint64_t seq);

  // Idle events for every key whose last frame is at least its idle timeout
  // before `now_us` and that has not reported idle since that frame; in
  // (src, pgn, subkey) order. Cheap when nothing is due (no scan of the keys
  // until the earliest deadline has passed), so replay may call it before
  // every frame.
  std::vector<ChangeEvent> Tick(int64_t now_us);

  // Forgets every key: the next frame of each is a Snapshot.
  void Reset();

  // Forgets one key (no-op when unknown).
  void Remove(uint8_t src, uint32_t pgn, uint64_t subkey);

  // Keys currently tracked.
  size_t tracked_keys() const { return entries_.size(); }

  // The idle timeout the tracker uses for `pgn` (see ChangeTrackerOptions).
  int64_t IdleTimeoutUs(uint32_t pgn) const;

 private:
  struct Key {
    uint8_t src;
    uint32_t pgn;
    uint64_t subkey;
    bool operator==(const Key&) const = default;
    bool operator<(const Key& o) const;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    std::vector<uint8_t> baseline;
    int64_t last_seen_us = 0;
    int64_t deadline_us = 0;  // last_seen_us + the PGN's idle timeout (saturated)
    bool idle_emitted = false;
    std::list<Key>::iterator recency;  // position in recency_
  };

  DiffMethod& MethodFor(uint32_t pgn);
  int64_t DeadlineFor(int64_t time_us, uint32_t pgn) const;
  void EvictLeastRecent();

  ChangeTrackerOptions options_;
  ByteMaskDiff byte_mask_;
  std::unordered_map<Key, Entry, KeyHash> entries_;
  std::list<Key> recency_;  // front: most recent frame; back: evicted first
  // No key goes idle before this time (a lower bound; exact after a scan).
  int64_t next_deadline_us_;
  std::vector<uint8_t> scratch_diff_;
};

// Rebuilds full payloads from a tracker's events (for consumers of a change
// stream). Keeps the last payload of every key it has seen; its memory grows
// with the keys in the stream, which the producing tracker bounds.
class ChangeReplayer {
 public:
  // `methods` as the producing tracker's, for PGNs whose diffs are not the
  // byte mask; every other PGN uses ApplyByteMaskDiff.
  explicit ChangeReplayer(std::map<uint32_t, std::shared_ptr<DiffMethod>> methods = {});

  // Snapshot: stores and returns its payload. Delta: applies the diff to the
  // stored payload, stores and returns the result. Idle: nullopt, the
  // stored payload kept. Errors (the stored payload is then unchanged): a
  // Delta for a key with no stored payload is NotFound naming the key; a
  // diff that does not fit the stored payload, or an unknown event type, is
  // InvalidArgument.
  Result<std::optional<std::vector<uint8_t>>> Apply(const ChangeEvent& event);

  // The stored payload of a key, or nullopt when none.
  std::optional<std::vector<uint8_t>> State(uint8_t src, uint32_t pgn, uint64_t subkey) const;

 private:
  std::map<uint32_t, std::shared_ptr<DiffMethod>> methods_;
  std::map<std::tuple<uint8_t, uint32_t, uint64_t>, std::vector<uint8_t>> state_;
};

}  // namespace lplex::changes
