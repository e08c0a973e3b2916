#include "can/fast_packet_pgns.h"

#include <array>

namespace lplex::can {
namespace {

// spec/boat.md §6.3, in ascending order.
constexpr std::array<uint32_t, kFastPacketPgnCount> kPgns = {
    126208, 126464, 126720,                                  // group function, PGN list, proprietary
    126983, 126984, 126985, 126986, 126987, 126988,          // alerts
    126996, 126998,                                          // product / configuration information
    127489, 127506, 127509, 127513,                          // engine dynamic, DC, inverter, battery config
    128275,                                                  // distance log
    129029, 129038, 129039, 129040, 129041, 129044, 129045,  // GNSS position, AIS reports, datum
    129284, 129285, 129301, 129302,                          // navigation / route data
    129538, 129540, 129541, 129542, 129545, 129547, 129549, 129551,  // GNSS status
    129792, 129793, 129794, 129795, 129796, 129797, 129798, 129799, 129800, 129801,  // AIS
    129802, 129803, 129804, 129805, 129806, 129807, 129808, 129809, 129810,
    130052, 130053, 130054, 130060, 130061,                  // Loran-C, label, channel source
    130064, 130065, 130066, 130067, 130068, 130069, 130070, 130071, 130072, 130073, 130074,  // route/WP
    130323, 130567, 130577, 130578,                          // meteo, watermaker, direction, speed
};

constexpr bool StrictlyAscending() {
  for (size_t i = 1; i < kPgns.size(); ++i) {
    if (kPgns[i - 1] >= kPgns[i]) return false;
  }
  return true;
}
static_assert(StrictlyAscending(), "fast-packet PGN table must be sorted and free of duplicates");

constexpr uint32_t kFirst = kPgns.front();
constexpr uint32_t kSpan = kPgns.back() - kFirst + 1;  // ~4.4 K entries, one byte each

// index + 1 for fast-packet PGNs, 0 elsewhere.
constexpr std::array<uint8_t, kSpan> BuildIndex() {
  std::array<uint8_t, kSpan> index{};
  for (size_t i = 0; i < kPgns.size(); ++i) index[kPgns[i] - kFirst] = static_cast<uint8_t>(i + 1);
  return index;
}
constexpr std::array<uint8_t, kSpan> kIndex = BuildIndex();

}  // namespace

std::span<const uint32_t> FastPacketPgns() { return kPgns; }

int FastPacketIndex(uint32_t pgn) {
  const uint32_t offset = pgn - kFirst;  // wraps to a huge value below kFirst
  if (offset >= kSpan) return -1;
  return static_cast<int>(kIndex[offset]) - 1;
}

}  // namespace lplex::can
