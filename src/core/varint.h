// Unsigned LEB128 varints, as Go's binary.PutUvarint / Uvarint write them:
// 7 bits per byte, low group first, high bit set on every byte but the last,
// at most 10 bytes for a uint64.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lplex::varint {

constexpr size_t kMaxLen64 = 10;

// Number of bytes Put() writes for v.
inline size_t Length(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes v at dst (which must have room for Length(v) bytes); returns the
// number of bytes written.
inline size_t Put(uint8_t* dst, uint64_t v) {
  size_t i = 0;
  while (v >= 0x80) {
    dst[i++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  dst[i++] = static_cast<uint8_t>(v);
  return i;
}

// Reads a varint from [p, limit). Returns the number of bytes consumed, or 0
// when the input ends first, or when the value overflows 64 bits (a 10th byte
// above 1, or an 11th byte) — the two cases Go reports as errors.
inline size_t Get(const uint8_t* p, const uint8_t* limit, uint64_t* out) {
  uint64_t v = 0;
  unsigned shift = 0;
  for (size_t i = 0; i < kMaxLen64; ++i) {
    if (p + i >= limit) return 0;
    uint8_t b = p[i];
    if (b < 0x80) {
      if (i == kMaxLen64 - 1 && b > 1) return 0;
      *out = v | (static_cast<uint64_t>(b) << shift);
      return i + 1;
    }
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    shift += 7;
  }
  return 0;
}

}  // namespace lplex::varint
