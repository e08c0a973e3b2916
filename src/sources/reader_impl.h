// The concrete CaptureReaders, one per format. Internal to src/sources:
// everyone else goes through CaptureReader::Open / FromBytes, which detect
// the format and call these.
#pragma once

#include <memory>
#include <string>

#include "sources/buffered_input.h"
#include "sources/capture_reader.h"
#include "sources/text_lines.h"

namespace lplex::sources::internal {

// Checks the pcap file header already in `input` (magic, version, link type 227).
Result<std::unique_ptr<CaptureReader>> NewPcapReader(std::string name, std::unique_ptr<BufferedInput> input);

// `style` is the style seen in the first lines, or kUnknown to decide at the
// first line that parses as any style.
std::unique_ptr<CaptureReader> NewCandumpReader(std::string name, std::unique_ptr<BufferedInput> input,
                                                text::CandumpStyle style, const CaptureOptions& options);

std::unique_ptr<CaptureReader> NewYdRawReader(std::string name, std::unique_ptr<BufferedInput> input,
                                              const CaptureOptions& options);

// a + b with two's-complement wrap-around: caller-chosen base times may be
// anything, and overflow must not be undefined behaviour.
inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t WrapMul(int64_t a, uint64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * b); }

}  // namespace lplex::sources::internal
