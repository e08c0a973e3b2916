// SimBoat: the traffic of a small motor yacht's NMEA 2000 bus, generated
// frame by frame in time order — ten devices that claim their addresses and
// tell their product information, a GNSS, a depth/temperature transducer, a
// weather station, a compass, an engine gateway, a battery monitor and an
// AIS receiver reporting the vessels around (docs/sources.md, "sim:").
//
// Payloads follow the NMEA 2000 field layouts (the encoder table in
// sim_boat.cc lists each PGN's fields, resolutions and units). Values move
// plausibly: the boat follows a gently curving track at about 6 kn, depth,
// wind, engine and battery readings drift, AIS vessels hold their courses.
// Rates are the PGNs' real ones (10 Hz rapid updates, 1 Hz data, …) unless
// SimOptions::fps asks for more traffic, e.g. a full bus. Every device also
// sends a heartbeat (126993) every 60 s whatever the fps, so none is silent
// long enough for a server's device idle timeout.
//
// Deterministic: the same options and start time give the same frames, bit
// for bit (the generator uses its own PRNG, not <random>'s distributions,
// whose output differs between standard libraries).
//
// Not thread-safe; SimSource serializes access.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "can/frame.h"
#include "can/iso_name.h"
#include "core/status.h"

namespace lplex::sources {

struct SimOptions {
  uint64_t seed = 1;
  // 0: real rates (about 65 frames/s). Otherwise every periodic rate is
  // scaled so the bus carries about this many frames per second
  // (kFullBusFramesPerSecond = a full 250 kbit/s bus).
  double fps = 0;
  int ais_targets = 4;  // vessels reported by the AIS receiver (0..200)
};

// One simulated device.
struct SimDevice {
  uint8_t source = 0;
  can::IsoName name;
  uint16_t product_code = 0;
  std::string model_id;
  std::string software_version;
  std::string model_version;
  std::string serial;
};

class SimBoat {
 public:
  // The bus as it is from `start_us` on (µs since the Unix epoch): every
  // device claims its address at start and sends its product information
  // once shortly after, then the periodic traffic runs.
  SimBoat(const SimOptions& options, int64_t start_us);
  ~SimBoat();
  SimBoat(const SimBoat&) = delete;
  SimBoat& operator=(const SimBoat&) = delete;

  // Time of the frame Next() returns.
  int64_t next_due_us() const;

  // The next CAN frame on the bus (fast-packet messages come as their
  // fragments, back to back, each with the message's time).
  can::RawFrame Next();

  // A message put on the bus by someone else (the server's /send, its
  // discovery requests). It is echoed back as received traffic at `now_us`,
  // as SocketCAN's loopback does, and an ISO request (59904) for 60928 or
  // 126996, broadcast or addressed to a simulated device, is answered by
  // every device it concerns right after. Requests for other PGNs go
  // unanswered. Errors: the message cannot be framed (names PGN and size).
  Status Transmit(const can::Frame& message, int64_t now_us);

  const std::vector<SimDevice>& devices() const { return devices_; }

  // Frames per second of the periodic traffic at the chosen rates.
  double frames_per_second() const;

 private:
  struct State;
  struct Task;
  struct OneShot;

  void Emit(int device, uint32_t pgn, int target, int64_t t);
  void Enqueue(uint8_t priority, uint32_t pgn, uint8_t source, uint8_t destination, const uint8_t* data,
               size_t len, int64_t t, uint8_t* fp_counter);

  std::vector<SimDevice> devices_;
  std::vector<uint8_t> fp_counters_;  // one fast-packet sequence counter per device
  std::unique_ptr<State> state_;
  std::vector<Task> tasks_;
  std::vector<OneShot> one_shots_;    // claims, product info, answers: (time, device, pgn)
  std::deque<can::RawFrame> pending_; // frames of the message being sent
  uint8_t echo_counter_ = 0;
};

}  // namespace lplex::sources
