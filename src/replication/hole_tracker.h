// HoleTracker: the seq ranges a cloud replica knows it is missing from one
// boat, as a sorted set of half-open ranges [start, end).
//
// This is the range arithmetic of spec/cloud.md §1.7 and nothing more: it
// does not know what a cursor, a live frame or a backfill block is (that is
// ReplicaProgress, replica_progress.h). Every operation accepts any input —
// empty, inverted, overlapping, touching, 0 and UINT64_MAX bounds — and keeps
// these invariants: ranges are non-empty, sorted by start, and separated by
// at least one seq (two ranges never overlap or touch; touching ones are one
// range). Because of that, the ends are sorted too, and every lookup is a
// binary search rather than the reference's linear scan, so a replica with
// many holes (a boat whose frames the cloud dropped under load) stays cheap.
//
// Not thread-safe; the owner (one instance) serializes access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace lplex::replication {

// Seqs start <= seq < end. A range with start >= end is empty.
struct SeqRange {
  uint64_t start = 0;
  uint64_t end = 0;

  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

inline constexpr uint64_t kNoHoleBelow = std::numeric_limits<uint64_t>::max();

class HoleTracker {
 public:
  HoleTracker() = default;

  // Marks [start, end) as missing. Does nothing when start >= end. The new
  // range is merged with every hole it overlaps or touches, so [10,20) then
  // [20,30) is the single hole [10,30), and a range inside an existing hole
  // changes nothing.
  void Add(uint64_t start, uint64_t end);

  // Marks [start, end) as received: removes it from every hole it overlaps,
  // which trims a hole on the left or right, splits it in two, or deletes it.
  // Returns true when at least one hole overlapped [start, end) (so something
  // changed); false for start >= end, no holes, or a range that misses them
  // all (the holes are then untouched).
  bool Fill(uint64_t start, uint64_t end);

  // A copy of the holes in seq order; empty when there are none.
  std::vector<SeqRange> Holes() const { return holes_; }
  // The same, without a copy. Valid until the next Add/Fill/CoarsenTo.
  const std::vector<SeqRange>& ranges() const { return holes_; }

  // The number of holes.
  size_t Len() const { return holes_.size(); }
  bool empty() const { return holes_.empty(); }

  // The number of missing seqs (the sum of end - start). Cannot overflow:
  // the holes are disjoint subsets of [0, UINT64_MAX).
  uint64_t TotalMissing() const;

  // True when `seq` lies in a hole.
  bool Contains(uint64_t seq) const;

  // The reference's cursor helper, with its exact results:
  //  - kNoHoleBelow (UINT64_MAX) when there are no holes, or every hole ends
  //    at or before `cursor`;
  //  - otherwise, for the first hole whose end is greater than `cursor`:
  //    `cursor - 1` (0 when `cursor` is 0) if that hole starts at or before
  //    `cursor`, else `hole.start - 1`.
  // Callers that keep a cursor use ReplicaProgress, which does not need the
  // "finite or not" test this result forces on its users.
  uint64_t ContinuousThrough(uint64_t cursor) const;

  // Keeps at most `max_holes` holes (at least 1) by merging the two
  // neighbours with the smallest gap between them, repeatedly. Merging
  // declares the seqs of that gap missing again although they were
  // received: a coarser tracker never forgets a missing seq, it only makes
  // backfill send a few seqs twice. Bounds memory and state.json when a
  // boat (or a hostile client) produces one gap per frame.
  void CoarsenTo(size_t max_holes);

 private:
  std::vector<SeqRange> holes_;
};

}  // namespace lplex::replication
