// `sim:`: the simulated boat (sim_boat.h) as a live source. Frames are due at
// their simulated times on the source's Clock, which starts the simulation at
// Start(); they pass through fast-packet reassembly like a real bus's.
// Send() puts a message on the simulated bus: it is echoed back as received
// (as SocketCAN's loopback does) and ISO requests for 60928/126996 are
// answered by the devices they address.
#pragma once

#include <memory>
#include <mutex>

#include "sources/frame_source.h"
#include "sources/sim_boat.h"

namespace lplex::sources {

class SimSource final : public ThreadedSource {
 public:
  SimSource(std::string uri, uint8_t bus, SimOptions options, std::unique_ptr<Pacer> pacer);
  ~SimSource() override;

  bool can_send() const override { return true; }
  // Errors: the source has not started; the message cannot be framed.
  Status Send(const can::Frame& frame) override;

 private:
  Status Open() override;
  Status Run() override;

  SimOptions options_;
  std::mutex mu_;
  std::unique_ptr<SimBoat> boat_;  // guarded by mu_ once the thread runs
  BusAssembler assembler_;         // the thread's only
};

}  // namespace lplex::sources
