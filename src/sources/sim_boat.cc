#include "sources/sim_boat.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "can/can_id.h"
#include "can/fast_packet.h"
#include "can/fast_packet_pgns.h"

namespace lplex::sources {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDeg = kPi / 180;
constexpr double kKnot = 1852.0 / 3600.0;       // m/s
constexpr double kMetresPerDegLat = 111'120.0;
constexpr double kKelvin = 273.15;
constexpr int64_t kHeartbeatIntervalMs = 60'000;  // 126993's default interval

// PGNs the simulator sends or answers.
enum : uint32_t {
  kIsoRequest = 59904,
  kAddressClaim = 60928,
  kHeartbeat = 126993,
  kProductInfo = 126996,
  kHeading = 127250,
  kEngineRapid = 127488,
  kEngineDynamic = 127489,
  kBatteryStatus = 127508,
  kWaterDepth = 128267,
  kPositionRapid = 129025,
  kCogSogRapid = 129026,
  kGnssPosition = 129029,
  kAisClassA = 129038,
  kAisClassB = 129039,
  kWindData = 130306,
  kTemperatureExt = 130316,
};

// splitmix64: tiny, well distributed, identical everywhere.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Between(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Roughly normal, mean 0, standard deviation `sd` (Irwin–Hall with 4 terms).
  double Noise(double sd) { return (Uniform() + Uniform() + Uniform() + Uniform() - 2.0) * sd * 1.7320508; }
};

// Little-endian payload builder. Scaled setters round value/resolution and
// clamp to the type's range short of the top codes, which NMEA 2000 reserves
// for "not available" (unsigned: max, max-1; signed: max, max-1).
class Payload {
 public:
  Payload& U8(uint64_t v) { return Raw(v, 1); }
  Payload& U16(uint64_t v) { return Raw(v, 2); }
  Payload& U24(uint64_t v) { return Raw(v, 3); }
  Payload& U32(uint64_t v) { return Raw(v, 4); }
  Payload& U16s(double v, double res) { return Raw(ClampU(v / res, 0xFFFD), 2); }
  Payload& U24s(double v, double res) { return Raw(ClampU(v / res, 0xFFFFFD), 3); }
  Payload& U32s(double v, double res) { return Raw(ClampU(v / res, 0xFFFFFFFD), 4); }
  Payload& I8s(double v, double res) { return Raw(static_cast<uint64_t>(ClampI(v / res, 125)), 1); }
  Payload& I16s(double v, double res) { return Raw(static_cast<uint64_t>(ClampI(v / res, 0x7FFD)), 2); }
  Payload& I32s(double v, double res) { return Raw(static_cast<uint64_t>(ClampI(v / res, 0x7FFFFFFD)), 4); }
  Payload& I64s(double v, double res) {
    return Raw(static_cast<uint64_t>(ClampI(v / res, std::numeric_limits<int64_t>::max() - 2)), 8);
  }
  // Fixed-width string field, padded with 0xFF.
  Payload& Str(std::string_view s, size_t width) {
    for (size_t i = 0; i < width; ++i) b_[n_++] = i < s.size() ? static_cast<uint8_t>(s[i]) : 0xFF;
    return *this;
  }
  Payload& Fill(size_t count, uint8_t v = 0xFF) {
    for (size_t i = 0; i < count; ++i) b_[n_++] = v;
    return *this;
  }
  const uint8_t* data() const { return b_.data(); }
  size_t size() const { return n_; }

 private:
  Payload& Raw(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b_[n_++] = static_cast<uint8_t>(v >> (8 * i));
    return *this;
  }
  static uint64_t ClampU(double x, uint64_t max) {
    const double r = std::round(x);
    if (!(r > 0)) return 0;
    return r >= static_cast<double>(max) ? max : static_cast<uint64_t>(r);
  }
  static int64_t ClampI(double x, int64_t max) {
    const double r = std::round(x);
    if (r >= static_cast<double>(max)) return max;
    if (r <= -static_cast<double>(max)) return -max;
    return static_cast<int64_t>(r);
  }

  std::array<uint8_t, can::kMaxFastPacketPayload> b_{};
  size_t n_ = 0;
};

// The simulated devices. Classes and functions are the NMEA 2000 codes such
// devices announce (class 60 navigation, 85 external environment, 50
// propulsion, 35 electrical generation, 120 display, 25 network devices).
struct DeviceTemplate {
  uint8_t source;
  uint16_t manufacturer;
  uint8_t device_class;
  uint8_t function;
  uint16_t product_code;
  const char* model_id;
  const char* software;
  const char* model_version = "1.0";
};
constexpr std::array<DeviceTemplate, 10> kDevices = {{
    {0, 229, 120, 130, 2476, "GPSMAP 8612", "31.20"},                 // Garmin chartplotter
    {3, 229, 60, 145, 3157, "GPS 24xd", "5.60"},                      // Garmin GNSS
    {35, 135, 60, 130, 1730, "DST810 Smart Sensor", "1.016"},          // Airmar depth/speed/temperature
    {36, 135, 85, 130, 1660, "220WX WeatherStation", "2.018"},         // Airmar weather
    {11, 381, 60, 140, 19400, "Precision-9 Compass", "1.3.0"},        // B&G heading
    {16, 1850, 50, 140, 6110, "Command Link Plus Gateway", "3.2.1"},  // Yamaha engine gateway
    {42, 358, 35, 170, 42769, "BMV-712 Smart", "4.08"},               // Victron battery monitor
    {4, 229, 60, 195, 2744, "AIS 800", "3.30"},                       // Garmin AIS transceiver
    {1, 591, 120, 130, 33100, "Axiom 9", "4.1.75"},                   // Raymarine display
    {2, 273, 25, 130, 1235, "NGT-1-USB", "2.500"},                    // Actisense gateway
}};
enum DeviceIndex { kPlotter, kGnss, kDepth, kWeather, kCompass, kEngine, kBattery, kAis, kDisplay, kGateway };

struct AisTarget {
  uint32_t mmsi;
  bool class_a;
  double lat0, lon0;     // degrees at start
  double cog, sog;       // radians, m/s
  uint8_t nav_status;    // 0 under way using engine, 8 under way sailing, 5 moored
};

}  // namespace

// What changes as the boat moves.
struct SimBoat::State {
  Rng rng;
  int64_t start_us;
  int64_t last_us;
  double lat, lon;           // degrees
  double heading = 0;        // radians, true
  double cog = 0, sog = 0;   // radians true, m/s
  double wind_speed = 7.5;   // apparent, m/s
  double wind_angle = 0.7;   // apparent, radians from the bow
  double rpm = 2200;
  double battery_v = 12.9;
  uint8_t sid = 0;
  std::vector<AisTarget> ais;
  std::vector<uint8_t> heartbeat_seq;  // one 126993 sequence counter per device

  double Seconds(int64_t t) const { return static_cast<double>(t - start_us) / 1e6; }

  // Moves the boat from last_us to t along its track.
  void Advance(int64_t t) {
    if (t <= last_us) return;
    const double dt = static_cast<double>(t - last_us) / 1e6;
    const double s = Seconds(t);
    heading = std::fmod((165 + 25 * std::sin(2 * kPi * s / 900)) * kDeg + 2 * kPi, 2 * kPi);
    cog = std::fmod(heading + 2 * kDeg, 2 * kPi);  // a little leeway and current
    sog = (6.2 + 0.8 * std::sin(2 * kPi * s / 420)) * kKnot;
    lat += sog * std::cos(cog) * dt / kMetresPerDegLat;
    lon += sog * std::sin(cog) * dt / (kMetresPerDegLat * std::cos(lat * kDeg));
    last_us = t;
  }
};

struct SimBoat::Task {
  int device;
  uint32_t pgn;
  int target;          // AIS target index, else -1
  int64_t period_us;
  int64_t next_us;
  int frames;          // CAN frames per message (for the rate arithmetic)
  bool scaled = true;  // follows SimOptions::fps (heartbeats keep their interval)
};

struct SimBoat::OneShot {
  int64_t t;
  int device;
  uint32_t pgn;
};

namespace {
int FramesFor(uint32_t pgn, size_t len) {
  if (!can::IsFastPacket(pgn) || len <= 8) return 1;
  return 1 + static_cast<int>((len - 6 + 6) / 7);
}
}  // namespace

SimBoat::SimBoat(const SimOptions& options, int64_t start_us) : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.rng.s = options.seed * 0x2545F4914F6CDD1Dull + 0x1234567;
  st.start_us = start_us;
  st.last_us = start_us;
  // Narragansett Bay, heading south-south-east towards the sea.
  st.lat = 41.4850 + st.rng.Between(-0.01, 0.01);
  st.lon = -71.3550 + st.rng.Between(-0.01, 0.01);
  st.Advance(start_us + 1);

  for (size_t i = 0; i < kDevices.size(); ++i) {
    const DeviceTemplate& t = kDevices[i];
    SimDevice d;
    d.source = t.source;
    d.name.unique_number = static_cast<uint32_t>(st.rng.Next() & 0x1FFFFF);
    d.name.manufacturer_code = t.manufacturer;
    d.name.device_function = t.function;
    d.name.device_class = t.device_class;
    d.name.industry_group = 4;  // marine
    d.name.arbitrary_address_capable = true;
    d.product_code = t.product_code;
    d.model_id = t.model_id;
    d.software_version = t.software;
    d.model_version = t.model_version;
    d.serial = fmt::format("{:08}", st.rng.Next() % 100'000'000);
    devices_.push_back(std::move(d));
  }
  fp_counters_.assign(devices_.size(), 0);
  st.heartbeat_seq.assign(devices_.size(), 0);

  const int n_ais = std::clamp(options.ais_targets, 0, 200);
  for (int i = 0; i < n_ais; ++i) {
    AisTarget a;
    const uint32_t mids[] = {366, 367, 338, 316};
    a.mmsi = mids[i % 4] * 1'000'000 + static_cast<uint32_t>(st.rng.Next() % 1'000'000);
    a.class_a = i % 2 == 0;
    const double bearing = st.rng.Between(0, 2 * kPi);
    const double dist_m = st.rng.Between(0.5, 6) * 1852;
    a.lat0 = st.lat + dist_m * std::cos(bearing) / kMetresPerDegLat;
    a.lon0 = st.lon + dist_m * std::sin(bearing) / (kMetresPerDegLat * std::cos(st.lat * kDeg));
    a.cog = st.rng.Between(0, 2 * kPi);
    a.sog = (a.class_a ? st.rng.Between(8, 14) : st.rng.Between(3, 7)) * kKnot;
    a.nav_status = a.class_a ? 0 : 8;
    st.ais.push_back(a);
  }

  // Periodic traffic at the PGNs' real rates (spec/boat.md §6.3 intervals).
  auto add = [&](int device, uint32_t pgn, int64_t period_ms, size_t len, int target = -1) {
    tasks_.push_back({device, pgn, target, period_ms * 1000, 0, FramesFor(pgn, len)});
  };
  add(kGnss, kPositionRapid, 100, 8);
  add(kGnss, kCogSogRapid, 250, 8);
  add(kGnss, kGnssPosition, 1000, 43);
  add(kCompass, kHeading, 100, 8);
  add(kWeather, kWindData, 100, 8);
  add(kDepth, kWaterDepth, 1000, 8);
  add(kDepth, kTemperatureExt, 2000, 8);
  add(kEngine, kEngineRapid, 100, 8);
  add(kEngine, kEngineDynamic, 500, 26);
  add(kBattery, kBatteryStatus, 1500, 8);
  for (int i = 0; i < n_ais; ++i) {
    // Class A under way reports every 2-10 s (3 s here); class B CS every 30 s (10 s here, to be seen).
    if (st.ais[i].class_a) {
      add(kAis, kAisClassA, 3000, 28, i);
    } else {
      add(kAis, kAisClassB, 10000, 27, i);
    }
  }
  // Every device sends a heartbeat every 60 s, the NMEA 2000 default, so a
  // device without periodic data (the displays, the gateway) is still heard
  // well inside the server's device idle timeout (5 min by default). Not
  // scaled by `fps`: a slower bus must not make a device look gone.
  for (size_t i = 0; i < devices_.size(); ++i) {
    add(static_cast<int>(i), kHeartbeat, kHeartbeatIntervalMs, 8);
    tasks_.back().scaled = false;
  }
  double scale = 1;
  if (options.fps > 0) {
    double fixed_fps = 0;  // the unscaled tasks' share
    for (const Task& t : tasks_) {
      if (!t.scaled) fixed_fps += t.frames * 1e6 / static_cast<double>(t.period_us);
    }
    scale = std::max(options.fps - fixed_fps, 1.0) / (frames_per_second() - fixed_fps);
    for (Task& t : tasks_) {
      if (t.scaled) t.period_us = std::max<int64_t>(100, std::llround(static_cast<double>(t.period_us) / scale));
    }
  }
  // Spread the first messages over their periods so the bus is not bursty.
  for (Task& t : tasks_) t.next_us = start_us + 500'000 + static_cast<int64_t>(st.rng.Uniform() * t.period_us);

  // Power-up: every device claims its address, then tells what it is.
  for (size_t i = 0; i < devices_.size(); ++i) {
    one_shots_.push_back({start_us + 2'000 * static_cast<int64_t>(i), static_cast<int>(i), kAddressClaim});
    one_shots_.push_back({start_us + 100'000 + 20'000 * static_cast<int64_t>(i), static_cast<int>(i), kProductInfo});
  }
}

SimBoat::~SimBoat() = default;

double SimBoat::frames_per_second() const {
  double fps = 0;
  for (const Task& t : tasks_) fps += t.frames * 1e6 / static_cast<double>(t.period_us);
  return fps;
}

int64_t SimBoat::next_due_us() const {
  if (!pending_.empty()) return pending_.front().timestamp_us;
  int64_t due = std::numeric_limits<int64_t>::max();
  for (const OneShot& o : one_shots_) due = std::min(due, o.t);
  for (const Task& t : tasks_) due = std::min(due, t.next_us);
  return due;
}

can::RawFrame SimBoat::Next() {
  while (pending_.empty()) {
    // The earliest event; one-shots win ties, then the lower task index.
    auto shot = std::min_element(one_shots_.begin(), one_shots_.end(),
                                 [](const OneShot& a, const OneShot& b) { return a.t < b.t; });
    auto task = std::min_element(tasks_.begin(), tasks_.end(),
                                 [](const Task& a, const Task& b) { return a.next_us < b.next_us; });
    if (shot != one_shots_.end() && (task == tasks_.end() || shot->t <= task->next_us)) {
      const OneShot o = *shot;
      one_shots_.erase(shot);
      Emit(o.device, o.pgn, -1, o.t);
    } else {
      Emit(task->device, task->pgn, task->target, task->next_us);
      task->next_us += task->period_us;
    }
  }
  can::RawFrame f = pending_.front();
  pending_.pop_front();
  return f;
}

Status SimBoat::Transmit(const can::Frame& message, int64_t now_us) {
  if (message.data.size() > 8 && !can::IsFastPacket(message.header.pgn)) {
    return Status::InvalidArgument(fmt::format("PGN {} is not fast-packet: a {}-byte payload does not fit one frame",
                                               message.header.pgn, message.data.size()));
  }
  if (message.data.size() > static_cast<size_t>(can::kMaxFastPacketPayload)) {
    return Status::InvalidArgument(fmt::format("PGN {}: {} bytes is over the fast-packet maximum of {}",
                                               message.header.pgn, message.data.size(), can::kMaxFastPacketPayload));
  }
  // Keep the bus in time order: nothing goes out before what is already queued.
  const int64_t t = std::max(now_us, pending_.empty() ? now_us : pending_.back().timestamp_us);
  Enqueue(message.header.priority, message.header.pgn, message.header.source, message.header.destination,
          message.data.data(), message.data.size(), t, &echo_counter_);
  if (message.header.pgn != kIsoRequest || message.data.size() < 3) return Status::Ok();
  const uint32_t requested = message.data[0] | message.data[1] << 8 | message.data[2] << 16;
  if (requested != kAddressClaim && requested != kProductInfo) return Status::Ok();
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (message.header.destination == can::kBroadcast || message.header.destination == devices_[i].source) {
      // Devices answer within a few ms, in address order.
      one_shots_.push_back({t + 1'000 + 500 * static_cast<int64_t>(i), static_cast<int>(i), requested});
    }
  }
  return Status::Ok();
}

void SimBoat::Enqueue(uint8_t priority, uint32_t pgn, uint8_t source, uint8_t destination, const uint8_t* data,
                      size_t len, int64_t t, uint8_t* fp_counter) {
  can::CanHeader h{priority, pgn, source, destination};
  const uint32_t id = can::BuildCanId(h);
  if (can::IsFastPacket(pgn) && len > 8) {
    can::FastPacketFrames fp;
    if (!can::FragmentFastPacket({data, len}, *fp_counter, &fp).ok()) return;  // sizes are checked by callers
    *fp_counter = static_cast<uint8_t>((*fp_counter + 1) & 7);
    for (int i = 0; i < fp.count; ++i) {
      can::RawFrame f;
      f.timestamp_us = t;
      f.id = id;
      f.length = 8;
      f.data = fp.frames[i];
      pending_.push_back(f);
    }
    return;
  }
  can::RawFrame f;
  f.timestamp_us = t;
  f.id = id;
  f.length = static_cast<uint8_t>(len);
  std::copy(data, data + len, f.data.begin());
  pending_.push_back(f);
}

// The encoder table. Each case is one PGN's layout, fields in wire order
// (little-endian, LSB first), with the resolution written as the scale:
//   60928  NAME u64
//   126996 NMEA 2000 version u16 (0.001) | product code u16 | model id 32 chars | software version 40 |
//          model version 24 | serial 32 | certification level u8 | load equivalency u8 (×50 mA)   134 bytes
//   126993 data transmit offset u16 (0.01 s: the heartbeat interval, 6000 = 60 s) | sequence counter u8
//          (0..252, then wraps) | controller 1 state 2 bits + controller 2 state 2 bits (0 = error active) +
//          equipment status 2 bits (0 = operational) + 2 reserved | 4 reserved bytes                  8 bytes
//   127250 SID | heading u16 (1e-4 rad) | deviation i16 (1e-4 rad) | variation i16 (1e-4 rad) | reference 2 bits
//   127488 instance | speed u16 (0.25 rpm) | boost pressure u16 (100 Pa) | tilt/trim i8 (%) | 2 reserved
//   127489 instance | oil pressure u16 (100 Pa) | oil temp u16 (0.1 K) | coolant temp u16 (0.01 K) |
//          alternator i16 (0.01 V) | fuel rate i16 (0.1 L/h) | hours u32 (1 s) | coolant pressure u16 (100 Pa) |
//          fuel pressure u16 (1000 Pa) | reserved u8 | status 1 u16 | status 2 u16 | load i8 (%) | torque i8 (%)  26 bytes
//   127508 instance | voltage i16 (0.01 V) | current i16 (0.1 A) | temperature u16 (0.01 K) | SID
//   128267 SID | depth u32 (0.01 m) | offset i16 (0.001 m) | range u8 (10 m)
//   129025 latitude i32 (1e-7 deg) | longitude i32 (1e-7 deg)
//   129026 SID | COG reference 2 bits + 6 reserved | COG u16 (1e-4 rad) | SOG u16 (0.01 m/s) | 2 reserved
//   129029 SID | date u16 (days since 1970) | time u32 (1e-4 s since midnight) | latitude i64 (1e-16 deg) |
//          longitude i64 (1e-16 deg) | altitude i64 (1e-6 m) | GNSS type 4 bits + method 4 bits |
//          integrity 2 bits + 6 reserved | satellites u8 | HDOP i16 (0.01) | PDOP i16 (0.01) |
//          geoidal separation i32 (0.01 m) | reference stations u8 (0)                      43 bytes
//   129038 message id 6 bits + repeat 2 bits | MMSI u32 | longitude i32 (1e-7) | latitude i32 (1e-7) |
//          accuracy 1 bit + RAIM 1 bit + time stamp 6 bits | COG u16 (1e-4 rad) | SOG u16 (0.01 m/s) |
//          communication state 19 bits + transceiver 5 bits | heading u16 (1e-4 rad) | rate of turn i16
//          (3.125e-5 rad/s) | nav status 4 bits + special manoeuvre 2 bits + 2 reserved | spare u8 | SID   28 bytes
//   129039 as 129038 up to heading, then regional u8 | unit type, display, DSC, band, msg 22, mode flags u8 |
//          communication state selector 1 bit + 15 reserved                                      27 bytes
//   130306 SID | wind speed u16 (0.01 m/s) | wind angle u16 (1e-4 rad) | reference 3 bits + 5 reserved | 2 reserved
//   130316 SID | instance | source u8 (0 = sea) | temperature u24 (0.001 K) | set temperature u16 (0.1 K)
// Reserved bits are 1s, as devices send them.
void SimBoat::Emit(int device, uint32_t pgn, int target, int64_t t) {
  State& st = *state_;
  st.Advance(t);
  const SimDevice& dev = devices_[device];
  const double s = st.Seconds(t);
  Payload p;
  uint8_t priority = 2;
  switch (pgn) {
    case kAddressClaim:
      priority = 6;
      p.U32(dev.name.Encode() & 0xFFFFFFFF).U32(dev.name.Encode() >> 32);
      break;
    case kProductInfo:
      priority = 6;
      p.U16(2100).U16(dev.product_code).Str(dev.model_id, 32).Str(dev.software_version, 40);
      p.Str(dev.model_version, 24).Str(dev.serial, 32).U8(1).U8(2);
      break;
    case kHeartbeat: {
      priority = 7;
      uint8_t& seq = st.heartbeat_seq[device];
      p.U16(kHeartbeatIntervalMs / 10).U8(seq).U8(0xC0).Fill(4);
      seq = static_cast<uint8_t>((seq + 1) % 253);
      break;
    }
    case kHeading: {
      const double variation = -14.5 * kDeg;  // westerly, as in New England
      const double deviation = 0.4 * kDeg;
      const double magnetic = st.heading - variation - deviation + st.rng.Noise(0.3 * kDeg);
      p.U8(st.sid).U16s(std::fmod(magnetic + 2 * kPi, 2 * kPi), 1e-4).I16s(deviation, 1e-4).I16s(variation, 1e-4);
      p.U8(0xFC | 1);  // magnetic
      break;
    }
    case kEngineRapid:
      st.rpm = std::clamp(st.rpm + st.rng.Noise(15) + (2200 - st.rpm) * 0.05, 600.0, 5500.0);
      p.U8(0).U16s(st.rpm, 0.25).U16s(0, 100).I8s(-4, 1).Fill(2);
      break;
    case kEngineDynamic:
      priority = 2;
      p.U8(0).U16s(350e3 + st.rng.Noise(3e3), 100).U16s(kKelvin + 95 + st.rng.Noise(0.3), 0.1);
      p.U16s(kKelvin + 82 + 1.5 * std::sin(2 * kPi * s / 600), 0.01).I16s(14.1 + st.rng.Noise(0.02), 0.01);
      p.I16s(9.5 + (st.rpm - 2200) * 0.004, 0.1).U32(static_cast<uint64_t>(1234 * 3600 + s));
      p.U16s(105e3, 100).U16s(300e3, 1000).U8(0xFF).U16(0).U16(0).I8s(45, 1).I8s(40, 1);
      break;
    case kBatteryStatus:
      priority = 6;
      st.battery_v = std::clamp(st.battery_v + st.rng.Noise(0.01) + (12.9 - st.battery_v) * 0.1, 11.5, 14.6);
      p.U8(0).I16s(st.battery_v, 0.01).I16s(-8.5 + st.rng.Noise(0.3), 0.1).U16s(kKelvin + 22, 0.01).U8(st.sid);
      break;
    case kWaterDepth: {
      priority = 3;
      const double depth = 12 + 6 * std::sin(2 * kPi * s / 1300) + 2 * std::sin(2 * kPi * s / 170) +
                           st.rng.Noise(0.05);
      p.U8(st.sid).U32s(std::max(depth, 0.5), 0.01).I16s(0.5, 0.001).U8(10);  // range 100 m
      break;
    }
    case kPositionRapid:
      p.I32s(st.lat, 1e-7).I32s(st.lon, 1e-7);
      break;
    case kCogSogRapid:
      p.U8(st.sid).U8(0xFC | 0).U16s(st.cog, 1e-4).U16s(st.sog + st.rng.Noise(0.03), 0.01).Fill(2);
      break;
    case kGnssPosition: {
      priority = 3;
      const int64_t day_us = 86'400'000'000;
      const int64_t days = t >= 0 ? t / day_us : (t - day_us + 1) / day_us;
      const int64_t in_day = t - days * day_us;
      p.U8(st.sid).U16(static_cast<uint64_t>(days)).U32(static_cast<uint64_t>(in_day / 100));
      p.I64s(st.lat, 1e-16).I64s(st.lon, 1e-16).I64s(12.3 + st.rng.Noise(0.5), 1e-6);
      p.U8(0x3 << 4 | 0x0)  // method 3 = precise GNSS (high nibble), type 0 = GPS
          .U8(0xFC | 0)     // integrity: no checking
          .U8(11)
          .I16s(0.8 + st.rng.Noise(0.05), 0.01)
          .I16s(1.4 + st.rng.Noise(0.05), 0.01)
          .I32s(-32.4, 0.01)
          .U8(0);
      break;
    }
    case kAisClassA:
    case kAisClassB: {
      priority = 4;
      const AisTarget& a = st.ais[target];
      const double lat = a.lat0 + a.sog * std::cos(a.cog) * s / kMetresPerDegLat;
      const double lon = a.lon0 + a.sog * std::sin(a.cog) * s / (kMetresPerDegLat * std::cos(a.lat0 * kDeg));
      const uint8_t msg_id = pgn == kAisClassA ? 1 : 18;
      const auto utc_second = static_cast<uint8_t>((t / 1'000'000) % 60);
      p.U8(msg_id).U32(a.mmsi).I32s(lon, 1e-7).I32s(lat, 1e-7);
      p.U8(static_cast<uint64_t>(1 | utc_second << 2));  // accuracy high, RAIM off, time stamp
      p.U16s(a.cog, 1e-4).U16s(a.sog, 0.01).U24(0x00'0000 | (pgn == kAisClassA ? 0u : 1u) << 19);
      p.U16s(a.cog, 1e-4);  // heading = course over ground for the simulated vessels
      if (pgn == kAisClassA) {
        p.I16s(0, 3.125e-5).U8(0xC0 | a.nav_status).U8(0xFF).U8(0xFF);
      } else {
        p.U8(0).U8(0x0C | 0x20).U8(0x01).U8(0xFF);  // CS unit, integrated display off, DSC, whole band
      }
      break;
    }
    case kWindData:
      st.wind_speed = std::clamp(st.wind_speed + st.rng.Noise(0.15) + (7.5 - st.wind_speed) * 0.01, 0.5, 25.0);
      st.wind_angle += st.rng.Noise(0.01) + (0.7 - st.wind_angle) * 0.01;
      p.U8(st.sid).U16s(st.wind_speed, 0.01).U16s(std::fmod(st.wind_angle + 2 * kPi, 2 * kPi), 1e-4);
      p.U8(0xF8 | 2).Fill(2);  // apparent
      break;
    case kTemperatureExt:
      priority = 5;
      p.U8(st.sid).U8(0).U8(0).U24s(kKelvin + 18.4 + 0.3 * std::sin(2 * kPi * s / 1800), 0.001).U16(0xFFFF);
      break;
    default:
      return;
  }
  if (pgn == kPositionRapid) st.sid = static_cast<uint8_t>((st.sid + 1) % 253);
  Enqueue(priority, pgn, dev.source, can::kBroadcast, p.data(), p.size(), t, &fp_counters_[device]);
}

}  // namespace lplex::sources
