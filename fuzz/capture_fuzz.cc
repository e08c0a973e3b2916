// Feeds arbitrary bytes to every capture reader (each format, and detection)
// and reads every frame. Besides crashes and sanitizer reports, it checks the
// promises callers rely on: frames are well-formed CAN frames, progress never
// passes the total, and the stored problems stay capped.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sources/capture_reader.h"

namespace {

using lplex::sources::CaptureFormat;
using lplex::sources::CaptureOptions;
using lplex::sources::CaptureReader;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void ReadEverything(const uint8_t* data, size_t size, const CaptureOptions& options) {
  auto opened = CaptureReader::FromBytes("fuzz", std::vector<uint8_t>(data, data + size), options);
  if (!opened.ok()) return;
  CaptureReader& r = **opened;
  Check(r.format() != CaptureFormat::kAuto);
  lplex::can::RawFrame f;
  uint64_t frames = 0;
  while (r.Next(&f)) {
    ++frames;
    Check(f.length <= 8);
    Check(f.id <= 0x1FFFFFFF);
    Check(f.extended || f.id <= 0x7FF);
    Check(r.bytes_read() <= r.total_bytes());
  }
  Check(frames == r.frames());
  Check(r.problems().size() <= CaptureReader::kMaxStoredProblems);
  Check(r.problems().size() <= r.problem_count());
  // A stopped reader stays stopped.
  Check(!r.Next(&f));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (CaptureFormat format :
       {CaptureFormat::kAuto, CaptureFormat::kPcap, CaptureFormat::kCandump, CaptureFormat::kYdRaw}) {
    CaptureOptions o;
    o.format = format;
    o.base_time_us = 1'600'000'000'000'000;
    ReadEverything(data, size, o);
  }
  // Extreme base times must wrap, not overflow (UBSan would trap).
  CaptureOptions extreme;
  extreme.base_time_us = std::numeric_limits<int64_t>::max();
  extreme.frame_interval_us = std::numeric_limits<int64_t>::max();
  ReadEverything(data, size, extreme);
  extreme.format = CaptureFormat::kYdRaw;
  extreme.base_time_us = std::numeric_limits<int64_t>::min();
  ReadEverything(data, size, extreme);
  return 0;
}
