#include "can/can_id.h"

namespace lplex::can {

CanHeader ParseCanId(uint32_t id) {
  CanHeader h;
  h.source = static_cast<uint8_t>(id & 0xFF);
  const uint32_t ps = (id >> 8) & 0xFF;
  const uint32_t pf = (id >> 16) & 0xFF;
  const uint32_t dp = (id >> 24) & 0x1;
  h.priority = static_cast<uint8_t>((id >> 26) & 0x7);
  if (pf >= 240) {
    h.pgn = dp << 16 | pf << 8 | ps;
    h.destination = kBroadcast;
  } else {
    h.pgn = dp << 16 | pf << 8;
    h.destination = static_cast<uint8_t>(ps);
  }
  return h;
}

uint32_t BuildCanId(const CanHeader& h) {
  const uint32_t dp = (h.pgn >> 16) & 0x1;
  const uint32_t pf = (h.pgn >> 8) & 0xFF;
  const uint32_t ps = pf >= 240 ? (h.pgn & 0xFF) : h.destination;
  return static_cast<uint32_t>(h.priority & 0x7) << 26 | dp << 24 | pf << 16 | ps << 8 | h.source;
}

}  // namespace lplex::can
