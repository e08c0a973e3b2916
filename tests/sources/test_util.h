// Helpers shared by the sources tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "can/frame.h"
#include "sources/capture_reader.h"

namespace lplex::sources::testing {

inline std::string CapturePath(std::string_view file) {
  return std::string(LPLEX_SHARED_DIR) + "/data/captures/" + std::string(file);
}

inline std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Every frame the reader yields.
inline std::vector<can::RawFrame> ReadAll(CaptureReader& r) {
  std::vector<can::RawFrame> out;
  can::RawFrame f;
  while (r.Next(&f)) out.push_back(f);
  return out;
}

inline std::unique_ptr<CaptureReader> OpenOrDie(const std::string& path, const CaptureOptions& o = {}) {
  auto r = CaptureReader::Open(path, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

inline std::unique_ptr<CaptureReader> FromTextOrDie(std::string_view text, const CaptureOptions& o = {},
                                                    std::string name = "test.txt") {
  auto r = CaptureReader::FromBytes(std::move(name), Bytes(text), o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

inline std::vector<uint8_t> Payload(const can::RawFrame& f) { return {f.data.begin(), f.data.begin() + f.length}; }

}  // namespace lplex::sources::testing
