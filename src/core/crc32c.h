// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and
// final xor 0xFFFFFFFF. Check value: Crc32c("123456789") == 0xE3069283.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it and a slicing-by-8
// table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lplex::crc32c {

// CRC of data[0, n).
uint32_t Value(const void* data, size_t n);

// Continues `crc` (a finished CRC of earlier bytes) over data[0, n), so that
// Extend(Value(a), b) == Value(a followed by b).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// The portable table implementation, exposed so tests can check that both
// paths agree on the same machine.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

// True when Extend uses the hardware instruction on this CPU.
bool HardwareAccelerated();

}  // namespace lplex::crc32c
