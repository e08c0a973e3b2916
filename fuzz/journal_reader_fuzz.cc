// libFuzzer target: JournalReader over arbitrary bytes.
//
// Opens the input as a journal and drives every reading path: iteration
// (skipping blocks that fail to load), inspection, device tables, and both
// seeks. The reader must never crash, leak, hit UB or hang; the loops below
// are capped so one input costs bounded work however many blocks or frames
// its headers claim.
//
// Seeds: fuzz/corpus/journal_reader/ (hand-built v1/v2 files, none/zstd/zstd+dict).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/endian.h"
#include "core/file_system.h"
#include "journal/reader.h"

namespace {

using lplex::journal::JournalReader;

constexpr uint64_t kMaxFrames = 1 << 16;    // frames read per input, all phases together
constexpr int kMaxLoadErrors = 64;          // SkipBlock calls per iteration pass
constexpr uint64_t kMaxInspected = 16;      // blocks inspected from each end

volatile uint64_t g_sink;  // keeps the reads of frame data from being optimized away

// Reads up to `budget` frames, skipping blocks that fail to load.
void Drain(JournalReader& rd, uint64_t* budget) {
  int errors = 0;
  uint64_t sum = 0;
  while (*budget > 0) {
    if (rd.Next()) {
      --*budget;
      const auto& f = rd.frame();
      sum += static_cast<uint64_t>(f.timestamp_us) ^ f.seq ^ f.header.pgn ^ rd.frame_index();
      for (uint8_t b : f.data) sum += b;
      continue;
    }
    if (rd.status().ok() || ++errors > kMaxLoadErrors) break;
    rd.SkipBlock();
  }
  g_sink = g_sink + sum;
}

void TouchDevices(JournalReader& rd, uint32_t frame_count) {
  auto all = rd.BlockDevices();
  uint64_t sum = all.ok() ? all->size() : all.status().message().size();
  for (uint32_t i : {0u, frame_count / 2, frame_count, std::numeric_limits<uint32_t>::max()}) {
    auto at = rd.BlockDevicesAt(i);
    if (!at.ok()) continue;
    for (const auto& d : *at) sum += d.source + d.name + d.model_serial.size();
  }
  g_sink = g_sink + sum;
}

void Inspect(JournalReader& rd, uint64_t n) {
  auto info = rd.InspectBlock(n);
  if (info.ok()) TouchDevices(rd, info->frame_count);
  (void)rd.BlockBaseTime(n);
  (void)rd.BlockBaseSeq(n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Seek targets come from the input's last bytes so the fuzzer can steer them.
  int64_t t = 0;
  uint64_t seq = 0;
  if (size >= 16) {
    t = static_cast<int64_t>(lplex::le::Load64(data + size - 16));
    seq = lplex::le::Load64(data + size - 8);
  }
  auto opened = JournalReader::Open(std::make_unique<lplex::MemoryFile>(std::vector<uint8_t>(data, data + size)),
                                    "fuzz.lpj");
  if (!opened.ok()) return 0;
  JournalReader& rd = **opened;
  uint64_t budget = kMaxFrames;

  Drain(rd, &budget);

  const uint64_t n = rd.block_count();
  for (uint64_t b = 0; b < n && b < kMaxInspected; ++b) Inspect(rd, b);
  for (uint64_t b = n > kMaxInspected ? n - kMaxInspected : kMaxInspected; b < n; ++b) Inspect(rd, b);
  Inspect(rd, n);  // out of range

  for (int64_t target : {std::numeric_limits<int64_t>::min(), int64_t{0}, t, std::numeric_limits<int64_t>::max()}) {
    if (rd.SeekToTime(target).ok()) {
      uint64_t few = std::min<uint64_t>(budget, 64);
      budget -= few;
      Drain(rd, &few);
      budget += few;
    }
  }
  for (uint64_t target : {uint64_t{0}, seq, std::numeric_limits<uint64_t>::max()}) {
    if (rd.SeekToSeq(target).ok()) TouchDevices(rd, 0);
  }
  if (rd.SeekBlock(n > 0 ? n - 1 : 0).ok()) Drain(rd, &budget);
  return 0;
}
