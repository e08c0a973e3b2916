// `ydraw+tcp://HOST:PORT` and `ydraw+udp://[HOST]:PORT`: Yacht Devices
// gateways (YDWG-02, YDEN-02) in RAW mode, the usual way onto the bus for
// boats without SocketCAN.
//
// The gateway sends one line per CAN frame, "hh:mm:ss.ddd R 19F51323 01 02 …"
// (parsed by the capture reader's line parser, text_lines.h). Lines may
// arrive split across reads or several to a datagram; malformed ones are
// counted and skipped. The time of day is the gateway's: it becomes a full
// timestamp on the date that puts it nearest to the source clock's now
// (YdTimeOfDayToTimestamp), so a frame stamped 23:59:59.900 and received at
// 00:00:00.050 keeps yesterday's date.
//
// TCP: the source is the client and reconnects after a refused connection or
// a closed one, waiting initial_backoff (doubling after each failure up to
// max_backoff; a connection that delivered anything resets it). Send() writes
// "19F51323 01 02 …\r\n" lines, fragmenting fast-packet messages; it fails
// with IOError while not connected. UDP: the source binds PORT (0 = any free
// port; local_port() tells which) on HOST (empty = every address) and cannot
// send.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "can/fast_packet.h"
#include "sources/frame_source.h"

namespace lplex::sources {

struct YdRawOptions {
  bool tcp = true;
  std::string host;
  uint16_t port = 0;
  int64_t initial_backoff_us = 500'000;
  int64_t max_backoff_us = 30'000'000;
};

// A gateway's time of day (µs since midnight) as µs since the Unix epoch:
// on the UTC day before, of, or after `now_us`, whichever is nearest to now.
int64_t YdTimeOfDayToTimestamp(int64_t time_of_day_us, int64_t now_us);

// "19F51323 01 02 03\r\n": the line a gateway accepts for transmission.
std::string FormatYdRawTxLine(const can::RawFrame& frame);

class YdRawSource final : public ThreadedSource {
 public:
  YdRawSource(std::string uri, uint8_t bus, YdRawOptions options, std::unique_ptr<Pacer> pacer);
  ~YdRawSource() override;

  bool can_send() const override { return options_.tcp; }
  Status Send(const can::Frame& frame) override;

  // UDP: the bound port (after Start). TCP: 0.
  uint16_t local_port() const { return local_port_; }
  // TCP connections made so far.
  uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
  // Lines that did not parse.
  uint64_t malformed_lines() const { return malformed_.load(std::memory_order_relaxed); }

 private:
  Status Open() override;
  Status Run() override;
  void Interrupt() override;

  // Connects to host:port; -1 (and *error) on failure or when stopping.
  int Connect(Status* error);
  // Reads lines from fd until it closes, fails, or Stop. Returns whether any line arrived.
  bool ReadStream(int fd);
  void HandleBytes(const char* p, size_t n);
  void HandleLine(std::string_view line);
  // Waits for fd to be readable (or writable when `out`); false on Stop.
  bool WaitFd(int fd, bool out, int timeout_ms);

  YdRawOptions options_;
  int wake_fd_ = -1;        // eventfd: Stop() makes every poll return
  int udp_fd_ = -1;
  uint16_t local_port_ = 0;
  std::string line_;        // a line still being received
  BusAssembler assembler_;
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> malformed_{0};

  std::mutex tx_mu_;        // guards tx_fd_ and fragmenter_
  int tx_fd_ = -1;          // the connected TCP socket, -1 when not connected
  can::FastPacketFragmenter fragmenter_;
};

}  // namespace lplex::sources
