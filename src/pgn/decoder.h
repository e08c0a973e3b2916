// Decoding NMEA 2000 payloads into named fields.
//
// Decoding is a pure function of (pgn, the sender's manufacturer, payload):
// no state, no I/O, any bytes are safe input (nothing is read past the
// payload, whatever its length). The tables come from canboat's database and
// lplex's profile (pgn/definition.h); docs/decoding.md describes the rules.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "pgn/decoded_message.h"
#include "pgn/definition.h"

namespace lplex::pgn {

// Which definitions decode a PGN.
enum class Profile : uint8_t {
  // lplex's own definitions where lplex decodes the PGN (so the JSON equals
  // lplex's), canboat's for every other PGN. What the server and CLI use.
  kLplexFirst,
  // canboat's definitions only.
  kCanboat,
};

// The definition that decodes `payload` of `pgn`, or nullptr when none is
// known. Among several variants of a PGN the first whose match rules all
// hold wins; a generic fallback only when no other applies. `manufacturer`
// (the sender's code from its address claim) stands in for the company
// fields of proprietary PGNs whose payload does not carry them.
const Definition* FindDefinition(uint32_t pgn, std::optional<uint16_t> manufacturer,
                                 std::span<const uint8_t> payload, Profile profile = Profile::kLplexFirst);

// Decodes `payload` into `out` (reset first). Returns false when no
// definition applies (out->definition() is then null) or when the payload
// cannot be decoded by the one that does (out->error() says why).
bool Decode(uint32_t pgn, std::optional<uint16_t> manufacturer, std::span<const uint8_t> payload,
            DecodedMessage* out, Profile profile = Profile::kLplexFirst);

// Decodes with a given definition (tests, the coverage check); false as
// Decode when the payload is too short for it.
bool DecodeWith(const Definition& def, std::span<const uint8_t> payload, DecodedMessage* out);

// All definitions of `pgn` in one of the two tables, in table order.
std::span<const Definition> DefinitionsOf(std::span<const Definition> table, uint32_t pgn);

// The name of `pgn` for listings ("Wind Data"): lplex's description where
// lplex knows the PGN (its registry's), else canboat's first specific
// definition's; "" when neither knows it.
std::string_view PgnDescription(uint32_t pgn);

// The label of `value` in canboat's enumeration `lookup` (e.g.
// "DEVICE_CLASS"), or "" when the enumeration or the value is unknown.
std::string_view LookupLabel(std::string_view lookup, uint64_t value);
// The label of (value1, value2) in an indirect enumeration (e.g.
// "DEVICE_FUNCTION": device class, device function), or "".
std::string_view IndirectLookupLabel(std::string_view lookup, uint64_t value1, uint64_t value2);

// True when `pgn` is in a proprietary range (61184, 65280-65535, 126720,
// 130816-131071): its meaning depends on the manufacturer.
bool IsProprietary(uint32_t pgn);

}  // namespace lplex::pgn
