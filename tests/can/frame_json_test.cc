// The frame JSON fast path (hand-written digits) against the formatter it
// replaced (fmt::format_to + snprintf), byte for byte.
#include "can/frame_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/hex.h"
#include "core/time.h"

namespace lplex::can {
namespace {

// The formatter as it was before the fast path: the reference.
std::string ReferenceTimestamp(int64_t us) {
  timefmt::CivilTime c = timefmt::ToCivil(us);
  std::string out;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                        c.minute, c.second);
  out.append(buf, static_cast<size_t>(n));
  if (c.micros != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06d", c.micros);
    size_t len = 7;
    while (frac[len - 1] == '0') --len;
    out.append(frac, len);
  }
  out.push_back('Z');
  return out;
}

std::string ReferenceFrameJson(uint64_t seq, int64_t ts, const CanHeader& h, std::span<const uint8_t> data) {
  std::string out;
  fmt::format_to(std::back_inserter(out), "{{\"seq\":{},\"ts\":\"", seq);
  out += ReferenceTimestamp(ts);
  fmt::format_to(std::back_inserter(out), "\",\"prio\":{},\"pgn\":{},\"src\":{},\"dst\":{},\"data\":\"", h.priority,
                 h.pgn, h.source, h.destination);
  hex::AppendEncoded(data, &out);
  out.append("\"}");
  return out;
}

TEST(FrameJson, DocumentedExample) {
  std::string out;
  const uint8_t data[] = {0x00, 0x11, 0xaa, 0xbb};
  AppendFrameJson(1, 1772460000LL * 1000000 + 500000, CanHeader{2, 129025, 10, 255}, data, &out);
  EXPECT_EQ(out,
            R"({"seq":1,"ts":"2026-03-02T14:00:00.5Z","prio":2,"pgn":129025,"src":10,"dst":255,"data":"0011aabb"})");
}

TEST(FrameJson, FastPathMatchesOldFormatterOverRandomFrames) {
  std::mt19937_64 rng(20261129);
  std::string out = "prefix";  // appends, never overwrites
  for (int i = 0; i < 200000; ++i) {
    uint64_t seq = rng();
    if (i % 4 == 0) seq >>= (rng() % 64);  // short and long numbers alike
    // 1900..2200, with whole seconds and few-digit fractions over-represented.
    int64_t ts = static_cast<int64_t>(rng() % (300LL * 365 * 86400 * 1000000)) - 70LL * 365 * 86400 * 1000000;
    if (i % 5 == 0) ts -= ts % 1000000;
    if (i % 7 == 0) ts -= ts % 1000;
    CanHeader h{static_cast<uint8_t>(rng() % 8), static_cast<uint32_t>(rng() % 0x20000),
                static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
    std::vector<uint8_t> data(rng() % 224);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const size_t before = out.size();
    AppendFrameJson(seq, ts, h, data, &out);
    ASSERT_EQ(out.substr(before), ReferenceFrameJson(seq, ts, h, data)) << "seq " << seq << " ts " << ts;
    if (out.size() > 1 << 20) out.resize(6);
  }
  EXPECT_EQ(out.substr(0, 6), "prefix");
}

TEST(FrameJson, ExtremeFieldValuesMatchOldFormatter) {
  const int64_t stamps[] = {0, -1, 1, 253402300799999999LL /* 9999-12-31T23:59:59.999999 */,
                            253402300800000000LL /* year 10000 */, -62167219200000000LL /* year 0 */,
                            -62167219200000001LL /* year -1 */};
  const uint64_t seqs[] = {0, 9, 10, UINT64_MAX};
  for (int64_t ts : stamps) {
    for (uint64_t seq : seqs) {
      std::string out;
      CanHeader h{7, 0x1FFFF, 255, 0};
      AppendFrameJson(seq, ts, h, {}, &out);
      EXPECT_EQ(out, ReferenceFrameJson(seq, ts, h, {})) << ts;
      EXPECT_EQ(timefmt::Rfc3339Nano(ts), ReferenceTimestamp(ts)) << ts;
    }
  }
}

}  // namespace
}  // namespace lplex::can
