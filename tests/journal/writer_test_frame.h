// A can::Frame for writer tests that think in raw 29-bit identifiers (they
// compare the identifier stored in the file with the one they built).
#pragma once

#include <cstdint>
#include <span>

#include "can/can_id.h"
#include "can/frame.h"

namespace lplex::journal::testutil {

// `can_id` must be canonical — can::BuildCanId of its own header (the
// reserved bit 25 clear) — for the stored identifier to equal it: the
// writer stores BuildCanId(frame.header).
inline can::Frame WFrame(int64_t timestamp_us, uint32_t can_id, uint64_t seq, std::span<const uint8_t> data) {
  return can::Frame{.timestamp_us = timestamp_us, .header = can::ParseCanId(can_id), .data = data, .seq = seq};
}

}  // namespace lplex::journal::testutil
