#include "sources/sim_source.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "can/can_id.h"
#include "can/fast_packet.h"
#include "can/iso_name.h"
#include "core/endian.h"
#include "sources/live_source_test_util.h"
#include "sources/sim_boat.h"
#include "sources/source_uri.h"

namespace lplex::sources {
namespace {

using testing::Collector;
using testing::OwnedFrame;

constexpr int64_t kStart = 1'751'328'000'000'000;  // 2025-07-01T00:00:00Z

bool SameRaw(const can::RawFrame& a, const can::RawFrame& b) {
  return a.timestamp_us == b.timestamp_us && a.id == b.id && a.length == b.length && a.data == b.data;
}

// The messages a SimBoat puts on the bus during `seconds`, reassembled.
std::vector<OwnedFrame> Messages(SimBoat& boat, double seconds, can::FastPacketStats* stats = nullptr,
                                 std::map<uint32_t, int>* raw_frames_per_pgn = nullptr) {
  std::vector<OwnedFrame> out;
  can::FastPacketAssembler fp;
  can::Frame m;
  const int64_t end = kStart + static_cast<int64_t>(seconds * 1e6);
  while (boat.next_due_us() < end) {
    const can::RawFrame raw = boat.Next();
    if (raw_frames_per_pgn) ++(*raw_frames_per_pgn)[can::ParseCanId(raw.id).pgn];
    if (fp.Process(raw, &m)) out.push_back({m.timestamp_us, m.header, {m.data.begin(), m.data.end()}});
  }
  if (stats) *stats = fp.stats();
  return out;
}

TEST(SimSource, SimIsDeterministicWithASeed) {
  SimOptions o;
  o.seed = 7;
  SimBoat a(o, kStart), b(o, kStart);
  o.seed = 8;
  SimBoat c(o, kStart);
  bool differs = false;
  for (int i = 0; i < 20000; ++i) {
    const can::RawFrame fa = a.Next(), fb = b.Next(), fc = c.Next();
    ASSERT_TRUE(SameRaw(fa, fb)) << "frame " << i;
    differs |= !SameRaw(fa, fc);
  }
  EXPECT_TRUE(differs) << "seed 8 produced the same bus as seed 7";

  // Through the source on a fake clock: the same frames again.
  auto run = [](uint64_t seed) {
    FakeClock clock(kStart);
    SimOptions so;
    so.seed = seed;
    SimSource s("sim:", 0, so, NewFakeClockPacer(&clock));
    Collector got;
    EXPECT_TRUE(s.Start(got.Sink(), got.OnEnd()).ok());
    EXPECT_TRUE(got.WaitForCount(3000));
    s.Stop();
    auto f = got.frames();
    f.resize(3000);
    return f;
  };
  const auto r1 = run(7), r2 = run(7);
  for (size_t i = 0; i < r1.size(); ++i) {
    ASSERT_EQ(r1[i].ts, r2[i].ts) << i;
    ASSERT_EQ(r1[i].header, r2[i].header) << i;
    ASSERT_EQ(r1[i].data, r2[i].data) << i;
  }
}

TEST(SimSource, SimClaimsTenDevicesAndAnswersIsoRequests) {
  FakeClock clock(kStart);
  SimSource sim("sim:", 1, SimOptions{}, NewFakeClockPacer(&clock));
  Collector got([](const can::Frame& f) {
    return f.header.pgn == 60928 || f.header.pgn == 126996 || f.header.pgn == 59904;
  });
  ASSERT_TRUE(sim.Start(got.Sink(), got.OnEnd()).ok());
  auto count = [](const std::vector<OwnedFrame>& v, uint32_t pgn, int src = -1) {
    return std::count_if(v.begin(), v.end(), [&](const OwnedFrame& f) {
      return f.header.pgn == pgn && (src < 0 || f.header.source == src);
    });
  };
  // Power-up: ten claims and ten product informations.
  ASSERT_TRUE(got.WaitFor([&](const auto& v) { return count(v, 126996) >= 10; }));
  auto frames = got.frames();
  std::set<uint8_t> sources;
  std::set<uint64_t> names;
  std::set<std::string> manufacturers;
  for (const auto& f : frames) {
    EXPECT_EQ(f.bus, 1);
    if (f.header.pgn == 60928) {
      ASSERT_EQ(f.data.size(), 8u);
      sources.insert(f.header.source);
      const uint64_t name = le::Load64(f.data.data());
      names.insert(name);
      const auto iso = can::IsoName::Decode(name);
      manufacturers.insert(can::ManufacturerName(iso.manufacturer_code));
      EXPECT_EQ(iso.industry_group, 4) << "not marine";
    }
    if (f.header.pgn == 126996) {
      ASSERT_EQ(f.data.size(), 134u) << "product info from " << int(f.header.source);
      EXPECT_NE(f.data[4], 0xFF) << "empty model id";
    }
  }
  EXPECT_EQ(sources.size(), 10u);
  EXPECT_EQ(names.size(), 10u);
  for (const char* m : {"Garmin", "Airmar", "Victron", "B&G", "Yamaha", "Raymarine", "Actisense"}) {
    EXPECT_TRUE(manufacturers.count(m)) << m;
  }

  // The server asks the depth sounder (35) for its product information...
  auto request = [&](uint8_t dst, uint32_t pgn) {
    const uint8_t body[3] = {static_cast<uint8_t>(pgn), static_cast<uint8_t>(pgn >> 8), static_cast<uint8_t>(pgn >> 16)};
    can::Frame r;
    r.header = {6, 59904, 254, dst};
    r.data = body;
    return sim.Send(r);
  };
  ASSERT_TRUE(request(35, 126996).ok());
  ASSERT_TRUE(got.WaitFor([&](const auto& v) { return count(v, 126996, 35) >= 2; }));
  frames = got.frames();
  EXPECT_EQ(count(frames, 126996), 11) << "only the addressed device answers";
  // ...and the request itself came back, as on a real bus with loopback.
  ASSERT_GE(count(frames, 59904, 254), 1);

  // A broadcast request for address claims: every device answers.
  ASSERT_TRUE(request(can::kBroadcast, 60928).ok());
  ASSERT_TRUE(got.WaitFor([&](const auto& v) { return count(v, 60928) >= 20; }));
  sim.Stop();
  EXPECT_EQ(count(got.frames(), 60928), 20);
}

TEST(SimSource, SimFastPacketPgnsReassemble) {
  SimOptions o;
  o.ais_targets = 4;
  SimBoat boat(o, kStart);
  can::FastPacketStats stats;
  std::map<uint32_t, int> raw_per_pgn;
  const auto msgs = Messages(boat, 20, &stats, &raw_per_pgn);
  EXPECT_EQ(stats.discarded(), 0u);
  EXPECT_EQ(stats.standard_frames + stats.too_short + stats.zero_total + stats.orphans, 0u);

  std::map<uint32_t, std::set<size_t>> sizes;
  std::map<uint32_t, int> count;
  for (const auto& m : msgs) {
    sizes[m.header.pgn].insert(m.data.size());
    ++count[m.header.pgn];
  }
  // Fast-packet PGNs come out whole, at their layouts' lengths.
  EXPECT_EQ(sizes[129029], std::set<size_t>{43});
  EXPECT_EQ(sizes[127489], std::set<size_t>{26});
  EXPECT_EQ(sizes[129038], std::set<size_t>{28});
  EXPECT_EQ(sizes[129039], std::set<size_t>{27});
  EXPECT_EQ(sizes[126996], std::set<size_t>{134});
  EXPECT_EQ(raw_per_pgn[129029], 7 * count[129029]);  // 6 + 6×7 ≥ 43: seven frames each
  // Real rates over 20 s (the first messages start 0.5 s in).
  EXPECT_NEAR(count[129025], 195, 5);   // 10 Hz
  EXPECT_NEAR(count[129029], 20, 1);    // 1 Hz
  EXPECT_NEAR(count[127489], 39, 2);    // 2 Hz

  // 129029's position (1e-16 deg) agrees with the rapid update's (1e-7 deg) of the same moment.
  int64_t last_rapid_lat = 0;
  int checked = 0;
  for (const auto& m : msgs) {
    if (m.header.pgn == 129025) last_rapid_lat = static_cast<int32_t>(le::Load32(m.data.data()));
    if (m.header.pgn == 129029 && last_rapid_lat != 0) {
      const double lat = static_cast<double>(static_cast<int64_t>(le::Load64(m.data.data() + 7))) * 1e-16;
      EXPECT_NEAR(lat, static_cast<double>(last_rapid_lat) * 1e-7, 1e-4);
      EXPECT_GT(lat, 41.0);
      EXPECT_LT(lat, 42.0);
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(SimSource, SimBoatMovesAlongItsTrack) {
  SimBoat boat(SimOptions{}, kStart);
  const auto msgs = Messages(boat, 120);
  std::vector<std::pair<int32_t, int32_t>> fixes;
  for (const auto& m : msgs) {
    if (m.header.pgn == 129025) fixes.push_back({static_cast<int32_t>(le::Load32(m.data.data())),
                                                  static_cast<int32_t>(le::Load32(m.data.data() + 4))});
  }
  ASSERT_GT(fixes.size(), 1000u);
  // About 6 kn heading SSE for two minutes: ~370 m, mostly south (latitude decreases).
  const double dlat_m = (fixes.back().first - fixes.front().first) * 1e-7 * 111'120;
  EXPECT_LT(dlat_m, -250);
  EXPECT_GT(dlat_m, -450);
}

TEST(SimSource, SimFullBusOptionFillsTheBus) {
  auto spec = ParseSourceUri("sim:?fps=full");
  ASSERT_TRUE(spec.ok());
  SimOptions o;
  o.fps = spec->fps;
  SimBoat boat(o, kStart);
  EXPECT_NEAR(boat.frames_per_second(), kFullBusFramesPerSecond, 20);
  int frames = 0;
  // Skip power-up, then count ten seconds of frames.
  while (boat.next_due_us() < kStart + 1'000'000) boat.Next();
  while (boat.next_due_us() < kStart + 11'000'000) {
    boat.Next();
    ++frames;
  }
  EXPECT_NEAR(frames, 18000, 400);
}

// The default device idle timeout is 5 min: displays and gateways that send
// no periodic data must still be heard, or the server forgets them.
TEST(SimSource, SimDevicesStayPastTheIdleTimeout) {
  for (double fps : {0.0, 10.0}) {  // real rates, and a bus slowed below them
    SimOptions o;
    o.fps = fps;
    SimBoat boat(o, kStart);
    std::map<uint8_t, int64_t> last_heard;
    std::map<uint8_t, int64_t> longest_gap;
    int heartbeats = 0;
    const auto msgs = Messages(boat, 600);
    for (const auto& m : msgs) {
      auto [it, fresh] = last_heard.try_emplace(m.header.source, m.ts);
      if (!fresh) {
        longest_gap[m.header.source] = std::max(longest_gap[m.header.source], m.ts - it->second);
        it->second = m.ts;
      }
      if (m.header.pgn == 126993) {
        ++heartbeats;
        ASSERT_EQ(m.data.size(), 8u);
        EXPECT_EQ(le::Load16(m.data.data()), 6000) << "interval in 0.01 s";
        EXPECT_EQ(m.data[3] & 0x3F, 0) << "controllers error active, equipment operational";
      }
    }
    ASSERT_EQ(last_heard.size(), 10u) << "fps " << fps;
    for (const SimDevice& d : boat.devices()) {
      EXPECT_LE(longest_gap[d.source], 60'000'000) << d.model_id << " silent too long at fps " << fps;
      EXPECT_GE(last_heard[d.source], kStart + 540'000'000) << d.model_id << " gone quiet at fps " << fps;
    }
    EXPECT_NEAR(heartbeats, 100, 10) << "one a minute per device";
  }
}

}  // namespace
}  // namespace lplex::sources
