// Minimal readers for the candump text captures under LPLEX_SHARED_DIR, so
// the can tests can run real traffic without depending on src/sources.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "can/frame.h"

namespace lplex::can::testing {

inline std::string CapturePath(const std::string& name) {
  return std::string(LPLEX_SHARED_DIR) + "/data/captures/" + name;
}

// "<0x18eeff01> [8] 05 a0 be ..." lines; no timestamps in the file, so frame
// i gets start_us + i * step_us.
inline std::vector<RawFrame> ReadAngleBracketCandump(const std::string& path, int64_t start_us,
                                                     int64_t step_us) {
  std::vector<RawFrame> frames;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '<') continue;
    std::istringstream s(line);
    std::string id, dlc;
    s >> id >> dlc;
    RawFrame f;
    f.timestamp_us = start_us + static_cast<int64_t>(frames.size()) * step_us;
    f.id = static_cast<uint32_t>(std::stoul(id.substr(1, id.size() - 2), nullptr, 16));
    f.length = static_cast<uint8_t>(std::stoi(dlc.substr(1, dlc.size() - 2)));
    for (int i = 0; i < f.length; ++i) {
      std::string byte;
      s >> byte;
      f.data[static_cast<size_t>(i)] = static_cast<uint8_t>(std::stoul(byte, nullptr, 16));
    }
    frames.push_back(f);
  }
  return frames;
}

// candump -l lines: "(0000000000.352000) vcan0 09F20101#601A00B706670D0B".
inline std::vector<RawFrame> ReadCandumpLog(const std::string& path) {
  std::vector<RawFrame> frames;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '(') continue;
    std::istringstream s(line);
    std::string ts, iface, body;
    s >> ts >> iface >> body;
    const size_t dot = ts.find('.');
    RawFrame f;
    f.timestamp_us = std::stoll(ts.substr(1, dot - 1)) * 1'000'000 + std::stoll(ts.substr(dot + 1, 6));
    const size_t hash = body.find('#');
    f.id = static_cast<uint32_t>(std::stoul(body.substr(0, hash), nullptr, 16));
    const std::string hex = body.substr(hash + 1);
    f.length = static_cast<uint8_t>(hex.size() / 2);
    for (size_t i = 0; i < f.length; ++i) {
      f.data[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    }
    frames.push_back(f);
  }
  return frames;
}

}  // namespace lplex::can::testing
