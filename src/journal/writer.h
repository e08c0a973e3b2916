// JournalWriter: records NMEA 2000 frames into rotating .lpj v2 files.
//
// Frames are packed into fixed-size blocks (docs/format.md). A block is
// written to disk when the next frame does not fit, when the next frame's seq
// does not follow on (so every frame's seq can be derived from BaseSeq), when
// time steps back by more than 1 ms (smaller steps are clamped, as the format
// requires; a larger one would shift every later frame of the block), when
// Tick() finds it older than flush_interval (bounded loss on a quiet bus), at
// rotation, and at Close().
//
// Files: `{dir}/{prefix}-{YYYYMMDDTHHMMSS.mmmZ}.lpj`, named after the first
// frame they hold (UTC). A file is created (exclusively — an existing file is
// never truncated; on a name collision the millisecond field is advanced)
// when its first block is written, so a writer that never saw a frame
// creates nothing. When a file is finished — by rotation, by Close(), or
// because a write to it failed — its index is appended (compressed files),
// it is fsynced and closed, on_open_change(path, false) is called, and only
// then on_rotate(path) (OutputFile holds this sequence; BlockWriter shares it).
//
// Rotation: after any block is written, when the file reached rotate_size
// bytes or rotate_count frames; before a frame whose timestamp is
// rotate_duration past the file's first frame; and from Tick() when
// rotate_duration of wall time passed since the file was started. RotateCount
// follows the reference rule: the frame that caused a count/size rotation is
// carried into the next file but does not count toward its total.
//
// The device table of each block comes from a DeviceRegistry the writer owns
// and feeds with the frames it records (address claims 60928 and product
// information 126996), so a table never mentions a device whose claim is not
// in the journal.
//
// Not thread-safe, except SetPaused()/paused(), which another thread (the
// keeper) may call at any time. Driving the writer from a queue and a timer is
// the caller's job; the writer itself never blocks on anything but the disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "can/device_registry.h"
#include "can/frame.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "core/status.h"
#include "journal/block_compressor.h"
#include "journal/format.h"
#include "journal/output_file.h"
#include "journal/rotated_file.h"

namespace lplex::journal {

struct WriterOptions {
  std::string dir;                       // created (with parents) on first use
  std::string prefix = "nmea2k";
  uint32_t block_size = kDefaultBlockSize;  // checked by journal::ValidateBlockSize
  Compression compression = Compression::kZstd;
  int zstd_level = 3;                    // 1..19
  int64_t rotate_duration_us = 0;        // 0 = no limit
  uint64_t rotate_size = 0;              // bytes incl. header, excl. index; 0 = no limit
  uint64_t rotate_count = 0;             // frames; 0 = no limit
  int64_t flush_interval_us = 60'000'000;  // 0 = only flush full blocks
  std::function<void(const RotatedFile&)> on_rotate;  // may be empty
  // Hears (path, true) before a file is created and (path, false) once it is
  // finished (just before on_rotate) or could not be created. A keeper uses
  // it to know which files it must not touch yet. May be empty.
  std::function<void(const std::string& path, bool open)> on_open_change;
  // Hears every block the file system accepted: its frames carry seqs
  // [base_seq, base_seq + frame_count) (base_seq 0 = a stream without seqs).
  // Runs on the thread that wrote the block, right after the write returned:
  // from then on a crash of this process no longer loses those frames (the
  // bytes are the kernel's; fsync follows when the file is finished). The
  // cloud acknowledges a boat's seqs only once they were heard here. May be
  // empty; must not call back into the writer.
  std::function<void(uint64_t base_seq, uint64_t frame_count)> on_block_written;
  FileSystem* fs = nullptr;              // null = FileSystem::Default()
  Clock* clock = nullptr;                // null = Clock::Real(); used by Tick bookkeeping
};

struct WriterStats {
  uint64_t frames_written = 0;    // appended into blocks (some may still be in memory)
  uint64_t frames_on_disk = 0;    // in blocks the file system accepted (what a reader finds)
  uint64_t frames_paused = 0;     // discarded while paused
  uint64_t frames_refused = 0;    // too large for an empty block, or a time outside years 0001..9999
  uint64_t blocks_written = 0;
  uint64_t files_finished = 0;
  uint64_t bytes_written = 0;     // file bytes, headers and indexes included
  uint64_t seq_break_blocks = 0;  // blocks ended early because seq jumped
  uint64_t time_break_blocks = 0; // blocks ended early because time went back > 1 ms
  uint64_t timed_flushes = 0;     // blocks ended early by flush_interval
  uint64_t write_errors = 0;
};

class JournalWriter {
 public:
  // Validates the options (block size, level, prefix); the error names the bad value.
  static Result<std::unique_ptr<JournalWriter>> Create(WriterOptions options);

  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Calls Close() if the owner did not.
  ~JournalWriter();

  // Records one frame (or discards it while paused): its timestamp, header
  // (stored as can::BuildCanId(header); the reserved bit 25 is always 0),
  // seq (0 = no sequence numbers in this stream) and data, which only needs
  // to live for the call. frame.bus is not recorded (the format has no
  // field for it). Errors:
  //  - InvalidArgument: the frame can never fit an empty block, or its
  //    timestamp lies outside years 0001..9999 (kMinTimestampUs..
  //    kMaxTimestampUs, which readers refuse as corrupt). The frame is
  //    dropped, counted in frames_refused; the writer goes on;
  //  - IOError: a block could not be written. The block stays in memory and
  //    is written by a later Append/Tick/Close once the disk allows; the file
  //    that failed is finished as it stands (it ends like a crashed file) and
  //    handed to on_rotate. While a block is waiting, new frames are dropped
  //    with this error.
  Status Append(const can::Frame& frame);

  // Housekeeping for a live stream; call about once a second with the
  // wall-clock time. Writes the open block when it has been open for
  // flush_interval, and finishes the file when rotate_duration has passed
  // since it was started.
  Status Tick(int64_t now_us);

  // Writes the open block to the file now, however few frames it holds (the
  // file stays open; the next frame starts a new block). OK when no block is
  // open. Errors as Append's IOError (the block stays pending).
  Status WriteOpenBlock() { return FlushBlock(); }

  // Writes what is pending and finishes the current file (on_rotate fires).
  // The writer can be used again afterwards; a new frame starts a new file.
  Status Close();

  // While paused, Append discards frames (counted in stats().frames_paused).
  void SetPaused(bool paused) { paused_.store(paused, std::memory_order_relaxed); }
  bool paused() const { return paused_.load(std::memory_order_relaxed); }

  // Replaces rotate_duration_us and rotate_size from now on, for the file
  // already open too: a duration already past (since that file started) or
  // a size already reached rotates it at the next Tick or block. Negative
  // durations mean no limit. Like SetPaused, callable from any thread (the
  // cloud changes the rotation of writers its runners drive). options()
  // keeps the values given to Create.
  void SetRotation(int64_t rotate_duration_us, uint64_t rotate_size) {
    rotate_duration_us_.store(rotate_duration_us > 0 ? rotate_duration_us : 0, std::memory_order_relaxed);
    rotate_size_.store(rotate_size, std::memory_order_relaxed);
  }

  // Path of the file being written, or "" when none is open. Files the
  // keeper must not archive yet.
  const std::string& current_path() const;
  // Counters so far; the file totals (bytes_written, files_finished) are
  // already up to date when on_rotate runs.
  const WriterStats& stats() const;
  const WriterOptions& options() const { return opt_; }

  // The registry the writer records device tables from. Callers may seed it
  // (e.g. with devices known before recording started).
  can::DeviceRegistry& registry() { return registry_; }

 private:
  explicit JournalWriter(WriterOptions options);

  void StartBlock(const can::Frame& f);
  void SealBlock();
  Status WriteSealedBlock();
  Status FlushBlock();
  Status FinishFile(bool write_index = true);
  bool RotationDue() const;
  // Largest record an empty block can always take.
  size_t MaxRecordSize() const;

  WriterOptions opt_;
  Clock* clock_;
  can::DeviceRegistry registry_;
  BlockCompressor compressor_;
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> rotate_duration_us_;  // SetRotation; starts as opt_.rotate_duration_us
  std::atomic<uint64_t> rotate_size_;        // SetRotation; starts as opt_.rotate_size

  // The block being filled (v2 layout, block_size bytes).
  std::vector<uint8_t> block_;
  size_t data_offset_ = kBlockDataOffsetV2;
  uint32_t block_frames_ = 0;
  uint64_t base_seq_ = 0;
  int64_t last_ts_ = 0;
  int64_t block_opened_wall_us_ = 0;
  bool sealed_ = false;            // trailer written; waiting to reach the disk
  size_t sealed_frames_end_ = 0;
  std::vector<DeviceEntry> start_entries_;
  size_t start_table_size_ = 2;    // count + entries
  size_t table_cap_ = 0;           // largest device table a block may hold
  struct Claim {
    uint8_t source;
    uint64_t name;
    uint32_t frame_index;
  };
  std::vector<Claim> claims_;
  std::vector<DeviceEntry> table_scratch_;

  // The file segment: frames since the last rotation, and the file they go to.
  bool segment_open_ = false;
  int64_t segment_start_us_ = 0;     // timestamp of its first frame (names the file)
  int64_t segment_wall_start_us_ = 0;
  uint64_t segment_frames_ = 0;      // toward rotate_count
  OutputFile file_;  // opened when the segment's first block is written

  // bytes_written and files_finished are taken from file_ when read.
  mutable WriterStats stats_;
};

}  // namespace lplex::journal
