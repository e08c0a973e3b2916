// Ring: the last `capacity` frames, each with its pre-serialized JSON
// (spec/boat.md §1.2).
//
// head is the next seq to assign (and the next write position), tail the
// oldest valid seq; a frame lives at slot seq & (capacity-1). The valid range
// is [tail, head). head and tail are atomics so readers can look at them
// without the lock; the entries themselves are read under the owner's shared
// lock and written under its exclusive lock (the Broker holds both).
//
// Memory: the entry array is allocated by the first write and given back by
// Release(), so a broker that never saw a frame (an idle cloud instance)
// holds no ring. An entry is 32 bytes plus its JSON buffer (sized to the
// text, see JsonRef); it keeps no copy of the payload, because every reader
// of the ring (consumers, and through the JSON the subscribers) needs only
// the header fields and the JSON, which carries the payload as hex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "broker/json_buffer.h"
#include "can/can_id.h"

namespace lplex::broker {

// 32 bytes: the header's fields are stored unpadded (can::CanHeader alone
// takes 12), because the server holds 65,536 entries.
struct RingEntry {
  uint64_t seq = 0;  // 0 = never written
  int64_t timestamp_us = 0;
  uint32_t pgn = 0;
  uint8_t priority = 0;
  uint8_t source = 0;
  uint8_t destination = 0;
  uint8_t bus = 0;
  JsonRef json;  // the frame JSON (payload included), shared with subscribers

  can::CanHeader header() const {
    return can::CanHeader{.priority = priority, .pgn = pgn, .source = source, .destination = destination};
  }
  void set_header(const can::CanHeader& h) {
    pgn = h.pgn;
    priority = h.priority;
    source = h.source;
    destination = h.destination;
  }
};
static_assert(sizeof(RingEntry) == 32, "a ring entry is 65,536 times in the server's RSS");

class Ring {
 public:
  // `capacity` must be a power of two (the Broker checks); `initial_head` 0
  // means 1.
  Ring(size_t capacity, uint64_t initial_head);

  size_t capacity() const { return capacity_; }
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_acquire); }
  // head - tail.
  uint64_t size() const { return head() - tail(); }

  // Writer (exclusive lock held). The entry seq will be stored in. nullptr
  // when `seq` is older than head - capacity (a late replica frame whose slot
  // already holds a newer one: it is not stored).
  RingEntry* SlotFor(uint64_t seq);
  // Writer: publishes seq (after the entry was filled): head = max(head,
  // seq+1), tail moves so that head - tail <= capacity.
  void Publish(uint64_t seq);

  // Reader (shared lock held): the entry for seq, or nullptr when seq is
  // outside [tail, head). The caller compares entry->seq with seq: a
  // different value means the slot was overwritten (entry->seq > seq) or
  // that seq was never written (a replica gap, entry->seq < seq).
  const RingEntry* Get(uint64_t seq) const;

  // Writer: frees the entries and empties the ring (tail = head); head and
  // the seq sequence are kept.
  void Release();
  bool allocated() const { return !entries_.empty(); }

 private:
  const size_t capacity_;
  const uint64_t mask_;
  std::vector<RingEntry> entries_;
  std::atomic<uint64_t> head_;
  std::atomic<uint64_t> tail_;
};

}  // namespace lplex::broker
