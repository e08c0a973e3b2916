#include "changes/change_tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "pgn/decoder.h"
#include "pgn/definition.h"

namespace lplex::changes {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// The first non-zero transmission interval among `table`'s definitions of
// `pgn`, in milliseconds; 0 when none declares one.
uint32_t IntervalMs(std::span<const pgn::Definition> table, uint32_t pgn) {
  for (const pgn::Definition& d : pgn::DefinitionsOf(table, pgn)) {
    if (d.interval_ms > 0) return d.interval_ms;
  }
  return 0;
}

}  // namespace

std::string_view ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kSnapshot:
      return "snapshot";
    case ChangeType::kDelta:
      return "delta";
    case ChangeType::kIdle:
      return "idle";
  }
  return "unknown";
}

bool ChangeTracker::Key::operator<(const Key& o) const {
  return std::tie(src, pgn, subkey) < std::tie(o.src, o.pgn, o.subkey);
}

size_t ChangeTracker::KeyHash::operator()(const Key& k) const {
  uint64_t h = (uint64_t{k.src} << 32) ^ k.pgn;
  h ^= k.subkey + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return std::hash<uint64_t>()(h);
}

ChangeTracker::ChangeTracker(ChangeTrackerOptions options)
    : options_(std::move(options)), next_deadline_us_(kNever) {
  if (options_.max_keys < 1) options_.max_keys = 1;
  // Every PGN whose lplex definition declares tolerances is compared on its
  // decoded fields, unless the caller chose a method for it.
  for (uint32_t pgn : PgnsWithFieldTolerances()) {
    if (!options_.methods.contains(pgn)) options_.methods[pgn] = std::make_shared<FieldToleranceDiff>(pgn);
  }
}

int64_t ChangeTracker::IdleTimeoutUs(uint32_t pgn) const {
  if (auto it = options_.idle_timeouts_us.find(pgn); it != options_.idle_timeouts_us.end()) return it->second;
  uint32_t interval_ms = IntervalMs(pgn::LplexDefinitions(), pgn);
  if (interval_ms == 0) interval_ms = IntervalMs(pgn::CanboatDefinitions(), pgn);
  if (interval_ms > 0) return int64_t{interval_ms} * 1000 * options_.idle_multiplier;
  return options_.default_idle_timeout_us;
}

int64_t ChangeTracker::DeadlineFor(int64_t time_us, uint32_t pgn) const {
  const int64_t timeout = IdleTimeoutUs(pgn);
  if (timeout > 0 && time_us > kNever - timeout) return kNever;
  return time_us + timeout;
}

DiffMethod& ChangeTracker::MethodFor(uint32_t pgn) {
  if (auto it = options_.methods.find(pgn); it != options_.methods.end() && it->second) return *it->second;
  if (options_.default_method) return *options_.default_method;
  return byte_mask_;
}

void ChangeTracker::EvictLeastRecent() {
  entries_.erase(recency_.back());
  recency_.pop_back();
}

std::optional<ChangeEvent> ChangeTracker::Process(int64_t time_us, uint8_t src, uint32_t pgn,
                                                  std::span<const uint8_t> payload, uint64_t seq) {
  uint64_t subkey = 0;
  if (auto it = options_.sub_keys.find(pgn); it != options_.sub_keys.end() && it->second) subkey = it->second(payload);
  const Key key{src, pgn, subkey};

  ChangeEvent event;
  event.time_us = time_us;
  event.src = src;
  event.pgn = pgn;
  event.subkey = subkey;
  event.seq = seq;
  event.full_bytes = payload.size();

  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_keys) EvictLeastRecent();
    recency_.push_front(key);
    Entry& e = entries_[key];
    e.recency = recency_.begin();
    e.baseline.assign(payload.begin(), payload.end());
    e.last_seen_us = time_us;
    e.deadline_us = DeadlineFor(time_us, pgn);
    next_deadline_us_ = std::min(next_deadline_us_, e.deadline_us);
    event.type = ChangeType::kSnapshot;
    event.data = e.baseline;
    return event;
  }

  Entry& e = it->second;
  recency_.splice(recency_.begin(), recency_, e.recency);
  e.last_seen_us = time_us;
  e.deadline_us = DeadlineFor(time_us, pgn);
  e.idle_emitted = false;
  next_deadline_us_ = std::min(next_deadline_us_, e.deadline_us);

  if (e.baseline.size() == payload.size()) {
    if (!MethodFor(pgn).Diff(e.baseline, payload, &scratch_diff_)) return std::nullopt;
    if (!scratch_diff_.empty()) {
      e.baseline.assign(payload.begin(), payload.end());
      event.type = ChangeType::kDelta;
      event.data = scratch_diff_;
      return event;
    }
    // Significant but not diffable: the full payload goes out instead.
  }
  e.baseline.assign(payload.begin(), payload.end());
  event.type = ChangeType::kSnapshot;
  event.data = e.baseline;
  return event;
}

std::vector<ChangeEvent> ChangeTracker::Tick(int64_t now_us) {
  std::vector<ChangeEvent> events;
  if (now_us < next_deadline_us_) return events;
  int64_t next = kNever;
  std::vector<Key> idle;
  for (auto& [key, e] : entries_) {
    if (e.idle_emitted) continue;
    if (now_us >= e.deadline_us) {
      e.idle_emitted = true;
      idle.push_back(key);
    } else {
      next = std::min(next, e.deadline_us);
    }
  }
  next_deadline_us_ = next;
  std::sort(idle.begin(), idle.end());
  events.reserve(idle.size());
  for (const Key& k : idle) {
    ChangeEvent ev;
    ev.type = ChangeType::kIdle;
    ev.time_us = now_us;
    ev.src = k.src;
    ev.pgn = k.pgn;
    ev.subkey = k.subkey;
    events.push_back(std::move(ev));
  }
  return events;
}

void ChangeTracker::Reset() {
  entries_.clear();
  recency_.clear();
  next_deadline_us_ = kNever;
}

void ChangeTracker::Remove(uint8_t src, uint32_t pgn, uint64_t subkey) {
  auto it = entries_.find(Key{src, pgn, subkey});
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

ChangeReplayer::ChangeReplayer(std::map<uint32_t, std::shared_ptr<DiffMethod>> methods)
    : methods_(std::move(methods)) {}

Result<std::optional<std::vector<uint8_t>>> ChangeReplayer::Apply(const ChangeEvent& event) {
  using Payload = std::optional<std::vector<uint8_t>>;
  const auto key = std::make_tuple(event.src, event.pgn, event.subkey);
  switch (event.type) {
    case ChangeType::kSnapshot:
      state_[key] = event.data;
      return Payload(event.data);
    case ChangeType::kDelta: {
      auto it = state_.find(key);
      if (it == state_.end()) {
        return Status::NotFound(fmt::format("delta for src {} pgn {} subkey {} (seq {}) without a prior snapshot",
                                            event.src, event.pgn, event.subkey, event.seq));
      }
      auto m = methods_.find(event.pgn);
      Result<std::vector<uint8_t>> full = m != methods_.end() && m->second ? m->second->Apply(it->second, event.data)
                                                                           : ApplyByteMaskDiff(it->second, event.data);
      if (!full.ok()) {
        return Status::InvalidArgument(fmt::format("delta for src {} pgn {} subkey {} (seq {}): {}", event.src,
                                                   event.pgn, event.subkey, event.seq, full.status().message()));
      }
      it->second = *full;
      return Payload(std::move(full).value());
    }
    case ChangeType::kIdle:
      return Payload();
  }
  return Status::InvalidArgument(fmt::format("unknown change event type {} (valid: 1 snapshot, 2 delta, 3 idle)",
                                             static_cast<int>(event.type)));
}

std::optional<std::vector<uint8_t>> ChangeReplayer::State(uint8_t src, uint32_t pgn, uint64_t subkey) const {
  auto it = state_.find(std::make_tuple(src, pgn, subkey));
  if (it == state_.end()) return std::nullopt;
  return it->second;
}

}  // namespace lplex::changes
