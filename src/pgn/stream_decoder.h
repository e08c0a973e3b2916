// Decoding a stream of messages as a bus (or a journal) delivers them.
//
// lplex reassembles fast-packet transfers only for the 74 PGNs of its own
// list (can/fast_packet_pgns.h); canboat knows more PGNs that travel as
// fast-packets (proprietary ones such as B&G's 130824 among them), and those
// reach a decoder as their 8-byte fragments. A StreamDecoder joins those
// fragments again before decoding, so every PGN canboat knows decodes whole.
// The journal and the live stream keep the fragments as they were recorded.
//
// Not thread-safe: one per reader. The decoded message returned stays valid
// until the next call.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "can/frame.h"
#include "pgn/decoded_message.h"
#include "pgn/decoder.h"

namespace lplex::pgn {

// True when canboat says `pgn` travels as a fast-packet transfer but lplex's
// list does not reassemble it (its frames arrive as 8-byte fragments). One
// of them, 127507 Charger Status, lplex decodes as a single frame: real
// chargers send it as a fast-packet (BEP in can0-1.pcap), so lplex decodes
// their fragments into nonsense; we join them and decode the whole payload
// with lplex's layout.
bool NeedsJoining(uint32_t pgn);

// Rejoins the fragments of fast-packet transfers lplex leaves split. Same
// rules as can::FastPacketAssembler: frame 0 starts a transfer (and replaces
// one in progress for the same PGN and source), the frames that follow must
// carry its sequence counter and the next frame number, or the transfer is
// dropped. At most kMaxTransfers transfers are kept; beyond that the oldest
// is dropped, so a noisy bus cannot grow memory.
class FragmentJoiner {
 public:
  static constexpr size_t kMaxTransfers = 1024;

  FragmentJoiner() = default;
  FragmentJoiner(const FragmentJoiner&) = delete;
  FragmentJoiner& operator=(const FragmentJoiner&) = delete;

  // Feeds one 8-byte fragment of `pgn` from `source`. Returns the whole
  // payload when this fragment completes a transfer (valid until the next
  // call), else an empty span.
  std::span<const uint8_t> Add(uint32_t pgn, uint8_t source, std::span<const uint8_t> fragment);

 private:
  struct Transfer {
    uint8_t seq = 0;
    uint8_t total = 0;
    uint8_t next_frame = 1;
    uint64_t started = 0;  // order of frame 0, to drop the oldest when full
    std::vector<uint8_t> bytes;
  };
  std::unordered_map<uint64_t, Transfer> transfers_;
  uint64_t counter_ = 0;
  std::vector<uint8_t> done_;
};

class StreamDecoder {
 public:
  explicit StreamDecoder(Profile profile = Profile::kLplexFirst) : profile_(profile) {}
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Decodes one message. `manufacturer` is the sender's code from its
  // address claim, when known. Returns nullptr when no definition applies,
  // or when the frame is a fragment that does not complete its transfer.
  const DecodedMessage* Decode(uint32_t pgn, uint8_t source, std::span<const uint8_t> data,
                               std::optional<uint16_t> manufacturer);

  // Why the last Decode returned nullptr although a definition applies
  // (e.g. a payload too short for it); "" otherwise.
  const std::string& error() const { return message_.error(); }

 private:
  Profile profile_;
  FragmentJoiner joiner_;
  DecodedMessage message_;
};

}  // namespace lplex::pgn
