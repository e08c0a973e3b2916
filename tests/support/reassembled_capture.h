// What a replay of a capture file delivers, and what `lplex import` journals
// from it: the capture's extended frames through one fast-packet assembler,
// each message with its bytes copied out. Tests compare a source's or a
// journal's output against this, frame by frame.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "can/fast_packet.h"
#include "can/frame.h"
#include "sources/capture_reader.h"

namespace lplex::testing {

struct ReassembledFrame {
  int64_t ts = 0;
  can::CanHeader header;
  std::vector<uint8_t> data;
};

// Every message of the capture at `path`, in file order. A capture that
// cannot be opened fails the calling test (naming the reason) and gives none.
inline std::vector<ReassembledFrame> ReassembleCapture(const std::string& path) {
  std::vector<ReassembledFrame> out;
  auto r = sources::CaptureReader::Open(path, {});
  EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
  if (!r.ok()) return out;
  can::FastPacketAssembler fp;
  can::RawFrame raw;
  can::Frame m;
  while ((*r)->Next(&raw)) {
    if (raw.extended && fp.Process(raw, &m)) out.push_back({m.timestamp_us, m.header, {m.data.begin(), m.data.end()}});
  }
  return out;
}

}  // namespace lplex::testing
