// Which PGNs travel as NMEA 2000 fast-packet transfers.
//
// The set is the 74 PGNs the lplex reference marks FastPacket in its PGN
// registry (spec/boat.md §6.3). Every frame of such a PGN goes through
// reassembly, whatever its length; every other PGN is a single-frame message.
#pragma once

#include <cstdint>
#include <span>

namespace lplex::can {

// Number of fast-packet PGNs known to the table.
inline constexpr int kFastPacketPgnCount = 74;

// All fast-packet PGNs in ascending order.
std::span<const uint32_t> FastPacketPgns();

// Position of `pgn` in FastPacketPgns(), or -1 when the PGN is not
// fast-packet. O(1): a lookup in a small table indexed by PGN offset. The
// assembler uses the position to find a transfer slot without hashing.
int FastPacketIndex(uint32_t pgn);

// True when frames of `pgn` carry fast-packet framing.
inline bool IsFastPacket(uint32_t pgn) { return FastPacketIndex(pgn) >= 0; }

}  // namespace lplex::can
