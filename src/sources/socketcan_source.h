// `socketcan:IFACE`: a Linux CAN interface, read and written through two raw
// CAN sockets, as lplex does (spec/boat.md §3.4): one bound for reception,
// one for transmission, so the frames the server sends come back on the
// reception socket through the kernel's loopback, like any other device's.
//
// Reception skips error frames, remote requests and standard 11-bit frames
// (not NMEA 2000). A frame's time is the kernel's receive timestamp
// (SO_TIMESTAMP) when the kernel gives one, else the Clock's now at receipt.
// A read error ends the source with that error; the owner decides whether
// the server goes on.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "can/fast_packet.h"
#include "sources/frame_source.h"

namespace lplex::sources {

// True when this kernel can open CAN sockets (socket(PF_CAN, SOCK_RAW,
// CAN_RAW) succeeds). *why gets the reason when it cannot.
bool SocketCanAvailable(std::string* why);

class SocketCanSource final : public ThreadedSource {
 public:
  SocketCanSource(std::string uri, uint8_t bus, std::string interface, Clock* clock);
  ~SocketCanSource() override;

  bool can_send() const override { return true; }
  Status Send(const can::Frame& frame) override;

  // Frames skipped on reception: error frames, remote requests, 11-bit ids.
  uint64_t skipped_frames() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  // Opens and binds both sockets. Errors name the interface: no CAN support
  // in the kernel, no such interface, permission.
  Status Open() override;
  Status Run() override;
  void Interrupt() override;

  std::string interface_;
  int rx_fd_ = -1;
  int wake_fd_ = -1;
  BusAssembler assembler_;
  std::atomic<uint64_t> skipped_{0};

  std::mutex tx_mu_;
  int tx_fd_ = -1;
  can::FastPacketFragmenter fragmenter_;
};

}  // namespace lplex::sources
