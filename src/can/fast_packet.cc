#include "can/fast_packet.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace lplex::can {
namespace {

constexpr size_t kKeyCount = static_cast<size_t>(kFastPacketPgnCount) * 256;

uint8_t SeqOf(uint8_t b) { return static_cast<uint8_t>(b >> 5); }
uint8_t FrameNumberOf(uint8_t b) { return static_cast<uint8_t>(b & 0x1F); }

}  // namespace

FastPacketAssembler::FastPacketAssembler(std::chrono::microseconds timeout)
    : timeout_us_(timeout.count()), slot_of_(kKeyCount, 0) {
  slots_.reserve(16);
  free_.reserve(16);
}

bool FastPacketAssembler::Process(const RawFrame& frame, Frame* out) {
  ++stats_.frames;
  if (!frame.extended) {
    ++stats_.standard_frames;
    return false;
  }
  if (frame.length > frame.data.size()) {
    ++stats_.invalid_length;
    return false;
  }
  const CanHeader header = ParseCanId(frame.id);
  const std::span<const uint8_t> data = frame.payload();
  const int index = FastPacketIndex(header.pgn);
  if (index < 0) {
    ++stats_.single_frame;
    std::copy(data.begin(), data.end(), single_.begin());
    out->timestamp_us = frame.timestamp_us;
    out->header = header;
    out->data = std::span<const uint8_t>(single_.data(), data.size());
    return true;
  }
  if (data.size() < 2) {
    ++stats_.too_short;
    return false;
  }
  const uint32_t key = static_cast<uint32_t>(index) * 256 + header.source;
  const bool done = FrameNumberOf(data[0]) == 0 ? HandleFirstFrame(frame, key, data, out)
                                                : HandleContinuation(frame, key, data, out);
  if (done) {
    ++stats_.completed;
    out->timestamp_us = frame.timestamp_us;
    out->header = header;
  }
  return done;
}

bool FastPacketAssembler::HandleFirstFrame(const RawFrame& frame, uint32_t key, std::span<const uint8_t> data,
                                           Frame* out) {
  const uint8_t total = data[1];
  if (total == 0) {
    // Leaves any transfer in progress alone, as the reference does.
    ++stats_.zero_total;
    return false;
  }
  ++stats_.fragments;
  const std::span<const uint8_t> chunk = data.subspan(2, std::min<size_t>(data.size() - 2, total));
  Transfer* t = Find(key);
  if (t != nullptr) ++stats_.replaced;

  if (chunk.size() == total) {  // the whole payload fits frame 0
    if (t != nullptr) Discard(t);
    std::copy(chunk.begin(), chunk.end(), single_.begin());
    out->data = std::span<const uint8_t>(single_.data(), chunk.size());
    return true;
  }
  if (t == nullptr) {
    t = Acquire(key);
  } else {
    stats_.discarded_fragments += t->next_frame;  // the replaced transfer's frames, reused slot
  }
  t->started_us = frame.timestamp_us;
  t->seq = SeqOf(data[0]);
  t->total = total;
  t->next_frame = 1;
  t->filled = static_cast<uint8_t>(chunk.size());
  std::copy(chunk.begin(), chunk.end(), t->bytes.begin());
  return false;
}

bool FastPacketAssembler::HandleContinuation(const RawFrame& frame, uint32_t key, std::span<const uint8_t> data,
                                             Frame* out) {
  Transfer* t = Find(key);
  if (t == nullptr) {
    ++stats_.orphans;
    return false;
  }
  // Same order of checks as the reference: sequence, frame number, then age.
  if (SeqOf(data[0]) != t->seq) {
    ++stats_.sequence_mismatch;
    Discard(t);
    return false;
  }
  if (FrameNumberOf(data[0]) != t->next_frame) {
    ++stats_.out_of_order;
    Discard(t);
    return false;
  }
  if (frame.timestamp_us - t->started_us > timeout_us_) {
    ++stats_.late;
    Discard(t);
    return false;
  }
  ++stats_.fragments;
  // A frame number is at most 31, so filled never passes 6 + 31 * 7 = 223;
  // the capacity clamp only guards that arithmetic.
  const size_t room = std::min<size_t>(t->total - t->filled, t->bytes.size() - t->filled);
  const std::span<const uint8_t> chunk = data.subspan(1, std::min(data.size() - 1, room));
  std::copy(chunk.begin(), chunk.end(), t->bytes.begin() + t->filled);
  t->filled = static_cast<uint8_t>(t->filled + chunk.size());
  ++t->next_frame;
  if (t->filled < t->total) return false;
  out->data = std::span<const uint8_t>(t->bytes.data(), t->total);
  Release(t);  // the bytes stay put until the slot is reused by a later call
  return true;
}

size_t FastPacketAssembler::PurgeStale(int64_t now_us) {
  size_t dropped = 0;
  for (Transfer& t : slots_) {
    if (t.active && now_us - t.started_us > timeout_us_) {
      Discard(&t);
      ++dropped;
    }
  }
  stats_.purged += dropped;
  return dropped;
}

size_t FastPacketAssembler::Flush() {
  size_t dropped = 0;
  for (Transfer& t : slots_) {
    if (t.active) {
      Discard(&t);
      ++dropped;
    }
  }
  stats_.unfinished += dropped;
  return dropped;
}

FastPacketAssembler::Transfer* FastPacketAssembler::Find(uint32_t key) {
  const uint16_t slot = slot_of_[key];
  return slot == 0 ? nullptr : &slots_[slot - 1];
}

FastPacketAssembler::Transfer* FastPacketAssembler::Acquire(uint32_t key) {
  uint16_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    // Only when concurrency reaches a new peak; bounded by kKeyCount slots.
    index = static_cast<uint16_t>(slots_.size());
    slots_.emplace_back();
    // free_ never holds more entries than there are slots, so Release can
    // push without allocating.
    free_.reserve(slots_.capacity());
  }
  Transfer& t = slots_[index];
  t.key = key;
  t.active = true;
  slot_of_[key] = static_cast<uint16_t>(index + 1);
  ++in_progress_;
  return &t;
}

void FastPacketAssembler::Release(Transfer* t) {
  assert(t->active);
  t->active = false;
  slot_of_[t->key] = 0;
  free_.push_back(static_cast<uint16_t>(t - slots_.data()));
  --in_progress_;
}

void FastPacketAssembler::Discard(Transfer* t) {
  // Frames 0 .. next_frame - 1 were accepted into it.
  stats_.discarded_fragments += t->next_frame;
  Release(t);
}

Status FragmentFastPacket(std::span<const uint8_t> payload, uint8_t seq_counter, FastPacketFrames* out) {
  out->count = 0;
  if (payload.empty()) {
    return Status::InvalidArgument("fast-packet payload is empty; receivers ignore a total length of 0");
  }
  if (payload.size() > static_cast<size_t>(kMaxFastPacketPayload)) {
    return Status::InvalidArgument("fast-packet payload of " + std::to_string(payload.size()) +
                                   " bytes exceeds the maximum of " + std::to_string(kMaxFastPacketPayload) +
                                   " (6 + 31 x 7)");
  }
  const uint8_t seq_bits = static_cast<uint8_t>((seq_counter & 0x07) << 5);
  auto& first = out->frames[0];
  first.fill(0x00);
  first[0] = seq_bits;
  first[1] = static_cast<uint8_t>(payload.size());
  size_t offset = std::min<size_t>(payload.size(), 6);
  std::copy_n(payload.begin(), offset, first.begin() + 2);
  int n = 1;
  while (offset < payload.size()) {
    auto& f = out->frames[n];
    f.fill(0xFF);
    f[0] = static_cast<uint8_t>(seq_bits | n);
    const size_t take = std::min<size_t>(payload.size() - offset, 7);
    std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(offset), take, f.begin() + 1);
    offset += take;
    ++n;
  }
  out->count = n;
  return Status::Ok();
}

Status FastPacketFragmenter::Fragment(const CanHeader& header, std::span<const uint8_t> payload, TxFrames* out) {
  out->count = 0;
  const uint32_t id = BuildCanId(header);
  const bool fast = IsFastPacket(header.pgn);
  if (payload.size() <= 8) {
    RawFrame& f = out->frames[0];
    f = RawFrame{};
    f.id = id;
    f.extended = true;
    f.length = static_cast<uint8_t>(payload.size());
    std::copy(payload.begin(), payload.end(), f.data.begin());
    out->count = 1;
    return Status::Ok();
  }
  if (!fast) {
    return Status::InvalidArgument("PGN " + std::to_string(header.pgn) + " is not fast-packet: a " +
                                   std::to_string(payload.size()) +
                                   "-byte payload does not fit one 8-byte CAN frame");
  }
  FastPacketFrames fp;
  Status s = FragmentFastPacket(payload, seq_, &fp);
  if (!s.ok()) return s.WithContext("PGN " + std::to_string(header.pgn));
  for (int i = 0; i < fp.count; ++i) {
    RawFrame& f = out->frames[i];
    f = RawFrame{};
    f.id = id;
    f.extended = true;
    f.length = 8;
    f.data = fp.frames[i];
  }
  out->count = fp.count;
  seq_ = static_cast<uint8_t>((seq_ + 1) & 0x07);
  return Status::Ok();
}

}  // namespace lplex::can
