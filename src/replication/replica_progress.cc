#include "replication/replica_progress.h"

#include <algorithm>

namespace lplex::replication {

namespace {
// The largest seq a half-open range can hold ([seq, seq + 1) must not wrap).
constexpr uint64_t kMaxSeq = kNoHoleBelow - 1;
}  // namespace

uint64_t LagSeqs(uint64_t boat_head_seq, uint64_t cursor) {
  return boat_head_seq > cursor ? boat_head_seq - cursor : 0;
}

ReplicaProgress ReplicaProgress::Restore(uint64_t cursor, uint64_t seen_through,
                                         const std::vector<SeqRange>& holes) {
  ReplicaProgress p;
  for (const SeqRange& h : holes) {
    // Seq 0 is never a frame of the boat's seq space; a hole there means nothing.
    p.holes_.Add(std::max<uint64_t>(h.start, 1), h.end);
  }
  p.holes_.CoarsenTo(kMaxHoles);
  p.seen_through_ = std::max(seen_through, cursor);
  if (!p.holes_.empty()) p.seen_through_ = std::max(p.seen_through_, p.holes_.ranges().back().end - 1);
  p.cursor_ = cursor;
  p.started_ = p.seen_through_ > 0;
  p.Advance();
  return p;
}

ReplicaProgress::HandshakeReply ReplicaProgress::OnHandshake(uint64_t boat_head_seq) {
  HandshakeReply reply;
  if (!started_) {
    reply.live_start_from = 1;
  } else {
    if (boat_head_seq > seen_through_ + 1) {
      AddHole(seen_through_ + 1, boat_head_seq);
      seen_through_ = boat_head_seq - 1;
    }
    reply.live_start_from = boat_head_seq;
  }
  Advance();
  reply.cursor = cursor_;
  reply.holes = holes_.Holes();
  return reply;
}

void ReplicaProgress::OnFirstLiveFrame(uint64_t seq) {
  if (started_ || seq == 0 || seq > kMaxSeq) return;
  started_ = true;
  seen_through_ = seq - 1;
  // Nothing from the origin is held yet: the cursor stands just below it.
  Advance();
}

bool ReplicaProgress::OnLiveSeqsWritten(uint64_t start, uint64_t end) {
  start = std::max<uint64_t>(start, 1);
  end = std::min(end, kMaxSeq + 1);
  if (start >= end) return false;
  if (start <= seen_through_) holes_.Fill(start, std::min(end, seen_through_ + 1));
  if (end - 1 > seen_through_) {
    const uint64_t from = std::max(start, seen_through_ + 1);
    // On an instance that has seen nothing, `from` is its origin: nothing below is owed.
    if (started_ && from > seen_through_ + 1) AddHole(seen_through_ + 1, from);
    seen_through_ = end - 1;
    started_ = true;
  }
  return Advance();
}

bool ReplicaProgress::OnLiveFrameAccepted(uint64_t seq) {
  if (seq > kMaxSeq) return false;
  return OnLiveSeqsWritten(seq, seq + 1);
}

bool ReplicaProgress::OnBackfillBlockWritten(uint64_t start, uint64_t end) {
  // Holes lie within [1, seen_through], so filling never counts seqs above it.
  if (!holes_.Fill(start, end)) return false;
  return Advance();
}

uint64_t ReplicaProgress::OnSeqsUnavailable(uint64_t start, uint64_t end) {
  const uint64_t before = holes_.TotalMissing();
  if (!holes_.Fill(start, end)) return 0;
  Advance();
  return before - holes_.TotalMissing();
}

void ReplicaProgress::AddHole(uint64_t start, uint64_t end) {
  holes_.Add(start, end);
  if (holes_.Len() > kMaxHoles) holes_.CoarsenTo(kMaxHoles);
}

bool ReplicaProgress::Advance() {
  uint64_t c = seen_through_;
  if (!holes_.empty()) c = std::min(c, holes_.ranges().front().start - 1);
  if (c <= cursor_) return false;
  cursor_ = c;
  return true;
}

}  // namespace lplex::replication
