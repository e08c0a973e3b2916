// ReplicaProgress: what one cloud instance holds of its boat's seq space,
// and the cursor it acknowledges (acked_through / continuous_through).
//
// The cursor means "every seq from the instance's origin through cursor has
// been durably accepted here". The origin is seq 1, except for an instance
// whose first-ever frame had a higher seq (the boat no longer had the older
// ones): seqs below that first frame are not owed and never become holes.
//
// Besides the holes (HoleTracker) the tracker keeps `seen_through`: every
// seq in [origin, seen_through] was either accepted or is listed as a hole.
// The cursor is then simply "seen_through, or just below the first hole",
// which is what fixes the reference (spec/cloud.md §6.2):
//  - P1: when backfill closes the last hole, the cursor jumps to everything
//    live has accepted meanwhile (seen_through), not to a stale reported
//    boat head, so the live path keeps moving it afterwards;
//  - P4: the caller reports only frames that were durably accepted; a frame
//    the broker or journal dropped (reported, or simply never reported) is a
//    hole, so the cursor stops below it and backfill fetches it later;
//  - the handshake hole starts after seen_through, not after the cursor, so
//    a reconnect never asks the boat to resend what live already delivered.
// The cursor never moves backwards, whatever the order of the reports.
//
// Pure bookkeeping: no threads, no clock, no I/O. Every method accepts any
// input (seq 0, UINT64_MAX, stale, duplicate, out of order) without failing.
// Seq UINT64_MAX cannot be written as a half-open range and is ignored.
// Not thread-safe; the owner (one instance) serializes access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "replication/hole_tracker.h"

namespace lplex::replication {

// lag_seqs of the cloud API: boat_head_seq - cursor, or 0 when the cursor is
// at or past the head the boat last reported (the reference wraps to ~1.8e19
// there: P10).
uint64_t LagSeqs(uint64_t boat_head_seq, uint64_t cursor);

class ReplicaProgress {
 public:
  // More holes than this are coarsened (HoleTracker::CoarsenTo): memory and
  // state.json stay bounded even if every other frame is dropped.
  static constexpr size_t kMaxHoles = 1024;

  // A new instance: nothing seen, cursor 0.
  ReplicaProgress() = default;

  // Rebuilds the tracker from persisted values (state.json). Any values are
  // accepted and made consistent:
  //  - holes are re-added with HoleTracker::Add (empty or inverted ones
  //    vanish, overlapping ones merge) and coarsened to kMaxHoles;
  //  - seen_through is raised to cover the cursor and every hole (files
  //    written by the reference have no seen_through: it is then derived);
  //  - the cursor is kept as stored even if a hole lies below it (a
  //    reference file can say so): it is what was already acknowledged, and
  //    it never moves backwards. Such holes are still reported for backfill.
  static ReplicaProgress Restore(uint64_t cursor, uint64_t seen_through, const std::vector<SeqRange>& holes);

  struct HandshakeReply {
    uint64_t cursor = 0;
    std::vector<SeqRange> holes;   // every hole, in seq order
    uint64_t live_start_from = 0;  // where the boat should start its live stream
  };

  // A boat connected and said its head is `boat_head_seq` (§1.4):
  //  - when something was seen before and boat_head_seq > seen_through + 1,
  //    [seen_through + 1, boat_head_seq) becomes a hole (boat_head_seq itself
  //    arrives on the live stream) and seen_through becomes boat_head_seq - 1;
  //  - live_start_from is 1 for an instance that has seen nothing (the boat
  //    clamps it to the oldest seq it still has), else boat_head_seq.
  // A head at or below seen_through (a boat that lost its seq, §6.2 P2)
  // changes nothing.
  HandshakeReply OnHandshake(uint64_t boat_head_seq);

  // The first live frame of a stream arrived with `seq` — before it is
  // durable. On an instance that has seen nothing this fixes its origin:
  // seqs below `seq` are not owed (the boat no longer had them when it
  // started streaming), seqs from `seq` on are, even if this very frame
  // never reaches the journal. The cursor stands at seq - 1. No effect once
  // anything was seen, or for seq 0 / UINT64_MAX.
  void OnFirstLiveFrame(uint64_t seq);

  // Live seqs [start, end) are durably in the instance's journal (the
  // journal wrote the block holding them). Call it for nothing else: a live
  // frame that was merely queued, or was dropped, is not reported, and
  // shows up as a gap instead.
  //  - seqs at or below seen_through fill holes (or are duplicates);
  //  - seqs above seen_through + 1 leave the gap in between a hole — except
  //    on an instance that has seen nothing (and had no OnFirstLiveFrame),
  //    where start is its origin;
  //  - seen_through becomes end - 1.
  // Seq 0 and UINT64_MAX are not seqs of the boat and are ignored.
  // Returns true when the cursor moved.
  bool OnLiveSeqsWritten(uint64_t start, uint64_t end);
  // OnLiveSeqsWritten(seq, seq + 1).
  bool OnLiveFrameAccepted(uint64_t seq);

  // A backfill block holding seqs [start, end) was durably written. Fills
  // the holes it overlaps; seqs outside the holes (blocks are sent whole,
  // §1.6) are duplicates or above seen_through and are not counted — live
  // or the next handshake accounts for those. Returns true when the cursor moved.
  bool OnBackfillBlockWritten(uint64_t start, uint64_t end);

  // The boat says it can never send seqs [start, end) (never issued, or no
  // longer kept): the holes among them are dropped — those seqs are no
  // longer owed, so the cursor can pass them. Seqs outside the holes are
  // unaffected. Returns how many hole seqs were dropped.
  uint64_t OnSeqsUnavailable(uint64_t start, uint64_t end);

  // The acknowledged cursor (see the top of this file). Never decreases.
  uint64_t cursor() const { return cursor_; }
  // Every seq in [origin, seen_through] was accepted or is a hole.
  uint64_t seen_through() const { return seen_through_; }
  const HoleTracker& holes() const { return holes_; }

 private:
  void AddHole(uint64_t start, uint64_t end);
  // Recomputes the cursor from seen_through and the first hole, never lower
  // than before. Returns true when it moved.
  bool Advance();

  HoleTracker holes_;
  uint64_t seen_through_ = 0;
  uint64_t cursor_ = 0;
  // Something was seen (or an origin fixed): a gap above seen_through is
  // owed from now on. seen_through alone cannot say so when the origin is 1.
  bool started_ = false;
};

}  // namespace lplex::replication
