// Reading fields out of an NMEA 2000 payload: bits are numbered from bit 0 of
// byte 0, least significant bit first within each byte, and multi-byte values
// are little endian. Every read is bounds-checked against the payload, so any
// bytes are safe input.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace lplex::pgn {

// The `bit_length` (1..64) bits starting at `bit_offset`, zero-extended. Bits
// past the end of `payload` read as ones (the padding lplex assumes for short
// payloads); callers that must not invent bits check BitsAvailable first.
inline uint64_t ReadBits(std::span<const uint8_t> payload, size_t bit_offset, unsigned bit_length) {
  const size_t first = bit_offset / 8;
  const unsigned first_shift = static_cast<unsigned>(bit_offset % 8);
  if (first + 8 <= payload.size() && first_shift + bit_length <= 64) {
    // Fast path: one little-endian 64-bit load covers the whole field.
    uint64_t word;
    std::memcpy(&word, payload.data() + first, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    word >>= first_shift;
    return bit_length == 64 ? word : word & ((uint64_t{1} << bit_length) - 1);
  }
  uint64_t value = 0;
  unsigned done = 0;
  size_t byte = bit_offset / 8;
  unsigned shift = static_cast<unsigned>(bit_offset % 8);
  while (done < bit_length) {
    const uint64_t b = byte < payload.size() ? payload[byte] : 0xFF;
    const unsigned take = (8 - shift) < (bit_length - done) ? (8 - shift) : (bit_length - done);
    value |= ((b >> shift) & ((1u << take) - 1)) << done;
    done += take;
    ++byte;
    shift = 0;
  }
  return value;
}

// `raw` (of `bit_length` bits) read as two's complement.
inline int64_t SignExtend(uint64_t raw, unsigned bit_length) {
  if (bit_length >= 64) return static_cast<int64_t>(raw);
  const uint64_t sign = uint64_t{1} << (bit_length - 1);
  return static_cast<int64_t>((raw ^ sign) - sign);
}

// True when bits [bit_offset, bit_offset + bit_length) lie inside `payload`.
inline bool BitsAvailable(std::span<const uint8_t> payload, size_t bit_offset, size_t bit_length) {
  return bit_offset + bit_length <= payload.size() * 8;
}

}  // namespace lplex::pgn
