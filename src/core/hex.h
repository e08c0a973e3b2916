// Lowercase hex encoding of byte strings, and its strict inverse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::hex {

// "0aff" for {0x0a, 0xff}.
std::string Encode(std::span<const uint8_t> bytes);

// Appends the encoding to *out (no allocation when *out has capacity).
void AppendEncoded(std::span<const uint8_t> bytes, std::string* out);

// Decodes an even-length string of hex digits (either case). The error names
// the offending character and its position.
Result<std::vector<uint8_t>> Decode(std::string_view text);

}  // namespace lplex::hex
