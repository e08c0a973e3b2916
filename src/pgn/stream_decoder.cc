#include "pgn/stream_decoder.h"

#include <algorithm>

#include "can/fast_packet_pgns.h"

namespace lplex::pgn {

bool NeedsJoining(uint32_t pgn) {
  if (can::IsFastPacket(pgn)) return false;

  const auto defs = DefinitionsOf(CanboatDefinitions(), pgn);
  if (defs.empty()) return false;
  return std::all_of(defs.begin(), defs.end(), [](const Definition& d) { return d.transport == Transport::kFast; });
}

std::span<const uint8_t> FragmentJoiner::Add(uint32_t pgn, uint8_t source, std::span<const uint8_t> fragment) {
  if (fragment.size() < 2) return {};
  const uint64_t key = (static_cast<uint64_t>(pgn) << 8) | source;
  const uint8_t seq = fragment[0] >> 5;
  const uint8_t frame = fragment[0] & 0x1F;
  if (frame == 0) {
    if (transfers_.size() >= kMaxTransfers && transfers_.find(key) == transfers_.end()) {
      auto oldest = std::min_element(transfers_.begin(), transfers_.end(),
                                     [](const auto& a, const auto& b) { return a.second.started < b.second.started; });
      transfers_.erase(oldest);
    }
    Transfer& t = transfers_[key];
    t.seq = seq;
    t.total = fragment[1];
    t.next_frame = 1;
    t.started = counter_++;
    t.bytes.assign(fragment.begin() + 2, fragment.end());
    if (t.bytes.size() >= t.total) {
      done_.assign(t.bytes.begin(), t.bytes.begin() + t.total);
      transfers_.erase(key);
      return done_;
    }
    return {};
  }
  auto it = transfers_.find(key);
  if (it == transfers_.end()) return {};
  Transfer& t = it->second;
  if (t.seq != seq || t.next_frame != frame) {
    transfers_.erase(it);  // a lost or reordered fragment: the transfer cannot complete
    return {};
  }
  ++t.next_frame;
  t.bytes.insert(t.bytes.end(), fragment.begin() + 1, fragment.end());
  if (t.bytes.size() < t.total) return {};
  done_.assign(t.bytes.begin(), t.bytes.begin() + t.total);
  transfers_.erase(it);
  return done_;
}

const DecodedMessage* StreamDecoder::Decode(uint32_t pgn, uint8_t source, std::span<const uint8_t> data,
                                            std::optional<uint16_t> manufacturer) {
  std::span<const uint8_t> payload = data;
  if (data.size() == 8 && NeedsJoining(pgn)) {
    payload = joiner_.Add(pgn, source, data);
    if (payload.empty()) {
      message_.Reset(nullptr);  // a fragment: no message yet, and no error
      return nullptr;
    }
  }
  if (!pgn::Decode(pgn, manufacturer, payload, &message_, profile_)) return nullptr;
  return &message_;
}

}  // namespace lplex::pgn
