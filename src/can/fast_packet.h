// NMEA 2000 fast-packet transport: reassembly of received frames into
// messages (FastPacketAssembler) and splitting of outgoing messages into
// frames (FragmentFastPacket, FastPacketFragmenter).
//
// Wire format (every frame of a fast-packet PGN):
//   byte 0     = sequence counter (top 3 bits) | frame number (low 5 bits)
//   frame 0    : byte 1 = total payload length, bytes 2..7 = first 6 bytes
//   frame n > 0: bytes 1..7 = next 7 bytes
// With a 5-bit frame number the largest payload that can complete is
// 6 + 31 * 7 = 223 bytes.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "can/fast_packet_pgns.h"
#include "can/frame.h"
#include "core/status.h"

namespace lplex::can {

inline constexpr int kMaxFastPacketPayload = 223;
inline constexpr int kMaxFastPacketFrames = 32;
inline constexpr std::chrono::microseconds kDefaultFastPacketTimeout{750'000};

// What happened to the frames given to a FastPacketAssembler. Every frame
// lands in exactly one of the per-frame counters below `frames`; the transfer
// counters (`completed` .. `purged`) count transfers, not frames.
struct FastPacketStats {
  uint64_t frames = 0;            // every call to Process

  // Per-frame outcomes that produce or feed a message.
  uint64_t single_frame = 0;      // non-fast-packet frames passed straight through
  uint64_t fragments = 0;         // fast-packet frames accepted into a transfer (incl. frame 0)

  // Per-frame rejections.
  uint64_t standard_frames = 0;   // 11-bit identifiers: not NMEA 2000
  uint64_t invalid_length = 0;    // a RawFrame claiming more than 8 bytes
  uint64_t too_short = 0;         // fast-packet frame with fewer than 2 bytes
  uint64_t zero_total = 0;        // frame 0 announcing a total length of 0
  uint64_t orphans = 0;           // frame n > 0 with no transfer in progress
  uint64_t sequence_mismatch = 0; // frame n > 0 whose counter differs (its transfer is dropped)
  uint64_t out_of_order = 0;      // frame n > 0 that is not the next one (its transfer is dropped)
  uint64_t late = 0;              // frame n > 0 arriving after the timeout (its transfer is dropped)

  // Per-transfer outcomes.
  uint64_t completed = 0;         // reassembled messages emitted
  uint64_t replaced = 0;          // in-progress transfers dropped by a new frame 0 for the same key
  uint64_t purged = 0;            // in-progress transfers dropped by PurgeStale
  uint64_t unfinished = 0;        // in-progress transfers dropped by Flush (input ended mid-transfer)

  // Frames that had been accepted into a transfer (counted in `fragments`)
  // whose transfer was then dropped: fragments - discarded_fragments frames
  // went into emitted messages or are still waiting.
  uint64_t discarded_fragments = 0;

  // Transfers that were started but never emitted.
  uint64_t discarded() const { return sequence_mismatch + out_of_order + late + replaced + purged + unfinished; }
};

// Turns received CAN frames (RawFrame) into NMEA 2000 messages (Frame).
//
// Transfers are keyed by (PGN, source); the destination is not part of the
// key and only one transfer per key can be in progress. Rules (spec/boat.md
// §3.2): frame 0 starts a transfer and replaces any in progress for its key;
// frame n > 0 must carry the same sequence counter and the expected next frame
// number, otherwise the transfer is dropped (no resync); the timeout runs from
// frame 0 over the whole transfer. A partial payload is never emitted. The
// emitted message carries the last fragment's timestamp and header.
//
// Memory: a 37 KB key index plus a pool of 240-byte slots that grows to the
// peak number of simultaneous transfers (slots are recycled; the bound is
// 74 PGNs x 256 sources). No allocation happens on the steady-state path.
//
// Not thread-safe: one assembler per reader.
class FastPacketAssembler {
 public:
  explicit FastPacketAssembler(std::chrono::microseconds timeout = kDefaultFastPacketTimeout);
  FastPacketAssembler(const FastPacketAssembler&) = delete;
  FastPacketAssembler& operator=(const FastPacketAssembler&) = delete;

  // Feeds one frame. Returns true and fills *out when a message is complete:
  // a non-fast-packet extended frame is a message by itself; a fast-packet
  // frame completes a message when it delivers the last byte of the announced
  // total. Standard (11-bit) frames are not NMEA 2000 and return false.
  // out->data points into the assembler and stays valid until the next call
  // to Process or PurgeStale, or the assembler's destruction. Only
  // timestamp_us, header and data are written: out->seq and out->bus keep
  // what the caller put there (a source sets its bus once; the broker
  // assigns seq).
  bool Process(const RawFrame& frame, Frame* out);

  // Drops every transfer whose frame 0 is more than the timeout older than
  // now_us. Returns how many were dropped. Call it now and then (the reference
  // does every 5 s) so abandoned transfers do not hold slots forever.
  size_t PurgeStale(int64_t now_us);

  // Drops every transfer still in progress and returns how many were dropped
  // (counted in stats().unfinished, their frames in discarded_fragments).
  // Call it at the end of the input: a transfer cut off there can never
  // complete, and without this its frames would vanish from every count.
  size_t Flush();

  // Transfers currently waiting for more frames.
  size_t in_progress() const { return in_progress_; }

  const FastPacketStats& stats() const { return stats_; }
  std::chrono::microseconds timeout() const { return std::chrono::microseconds(timeout_us_); }

 private:
  struct Transfer {
    int64_t started_us = 0;   // timestamp of frame 0
    uint32_t key = 0;         // FastPacketIndex(pgn) * 256 + source
    uint8_t seq = 0;          // 3-bit sequence counter
    uint8_t total = 0;        // announced length (may exceed 223: such a transfer never completes)
    uint8_t next_frame = 1;   // frame number expected next
    uint8_t filled = 0;       // bytes collected so far (<= 223)
    bool active = false;
    std::array<uint8_t, kMaxFastPacketPayload> bytes;
  };

  bool HandleFirstFrame(const RawFrame& frame, uint32_t key, std::span<const uint8_t> data, Frame* out);
  bool HandleContinuation(const RawFrame& frame, uint32_t key, std::span<const uint8_t> data, Frame* out);
  Transfer* Find(uint32_t key);
  Transfer* Acquire(uint32_t key);
  void Release(Transfer* t);
  // Releases a transfer that will never be emitted, counting its frames.
  void Discard(Transfer* t);

  const int64_t timeout_us_;
  std::vector<uint16_t> slot_of_;   // key -> slot index + 1, 0 = no transfer
  std::vector<Transfer> slots_;     // grows to the peak number of concurrent transfers
  std::vector<uint16_t> free_;      // released slot indexes
  size_t in_progress_ = 0;
  std::array<uint8_t, 8> single_{}; // payload of the last single-frame (or one-frame fast-packet) message
  FastPacketStats stats_;
};

// The 8-byte frames of one fast-packet transfer, in transmission order.
struct FastPacketFrames {
  std::array<std::array<uint8_t, 8>, kMaxFastPacketFrames> frames{};
  int count = 0;
};

// Splits `payload` (1..223 bytes) into fast-packet frames using the low three
// bits of `seq_counter`. Frame 0 is [seq<<5, total, 6 bytes] with unused bytes
// 0x00; frame n is [seq<<5 | n, 7 bytes] with unused bytes 0xFF. Any length
// gets fast-packet framing here, even one that would fit a single frame; the
// choice between raw and fragmented belongs to FastPacketFragmenter.
// Errors: an empty payload (receivers ignore a total of 0) or one over 223
// bytes (a 5-bit frame number cannot carry it) gives InvalidArgument naming
// the size; *out is then left with count 0.
Status FragmentFastPacket(std::span<const uint8_t> payload, uint8_t seq_counter, FastPacketFrames* out);

// The CAN frames to transmit for one message.
struct TxFrames {
  std::array<RawFrame, kMaxFastPacketFrames> frames{};
  int count = 0;

  std::span<const RawFrame> view() const { return {frames.data(), static_cast<size_t>(count)}; }
};

// Turns outgoing messages into CAN frames for one writer (spec/boat.md §3.3).
//
// A fast-packet PGN with more than 8 bytes is fragmented, every fragment with
// DLC 8; anything else goes out as one frame whose DLC is the payload length
// (so a fast-packet PGN with <= 8 bytes is sent raw, without fast-packet
// framing). The 3-bit sequence counter is shared by all PGNs of this writer
// and advances after each fragmented transfer.
//
// Not thread-safe: one per writer.
class FastPacketFragmenter {
 public:
  FastPacketFragmenter() = default;
  FastPacketFragmenter(const FastPacketFragmenter&) = delete;
  FastPacketFragmenter& operator=(const FastPacketFragmenter&) = delete;

  // Fills *out with the frames for `payload` sent with `header` (identifier
  // from BuildCanId, extended, timestamp 0). Errors (nothing is produced and
  // the counter does not move): a fast-packet payload over 223 bytes, or a
  // non-fast-packet payload over 8 bytes (ISO transport is not implemented);
  // both name the PGN and the size.
  Status Fragment(const CanHeader& header, std::span<const uint8_t> payload, TxFrames* out);

  // The counter the next fragmented transfer will use (0..7).
  uint8_t next_seq_counter() const { return seq_; }

 private:
  uint8_t seq_ = 0;
};

}  // namespace lplex::can
