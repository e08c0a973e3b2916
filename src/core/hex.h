// Hex encoding of byte strings and integers (lowercase by default, uppercase
// on request), and the strict inverse for byte strings. The one hex encoder
// of the project: digests, URI escapes, JSON \u escapes and NAME fields all
// come through here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::hex {

enum class Case { kLower, kUpper };

// "0aff" for {0x0a, 0xff} ("0AFF" with Case::kUpper).
std::string Encode(std::span<const uint8_t> bytes, Case letters = Case::kLower);

// Appends the encoding to *out (no allocation when *out has capacity).
void AppendEncoded(std::span<const uint8_t> bytes, std::string* out, Case letters = Case::kLower);

// Appends the two digits of one byte: AppendByte(0x2f, &s, kUpper) adds "2F".
void AppendByte(uint8_t byte, std::string* out, Case letters = Case::kLower);

// Writes the low 4 * out.size() bits of `value` into `out`, most significant
// digit first and zero-padded, without allocating: a 16-char span holds a
// full uint64_t ("00000000deadbeef"). Higher bits that do not fit are dropped.
void FormatUint(uint64_t value, std::span<char> out, Case letters = Case::kLower);

// Decodes an even-length string of hex digits (either case). The error names
// the offending character and its position.
Result<std::vector<uint8_t>> Decode(std::string_view text);

}  // namespace lplex::hex
