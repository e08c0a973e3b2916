// What the decoder knows about a PGN: plain constant tables.
//
// Two sets of definitions exist, both produced at build time by tools/pgngen
// and never written by hand:
//   - canboat's database (the npm package @canboat/ts-pgns at the version
//     pinned in scripts/fetch-canboat.sh): every PGN and variant it knows;
//   - lplex's profile (src/pgn/lplex_profile.json): the ~50 PGNs lplex itself
//     decodes, whose JSON (keys, labels, numbers) must equal lplex's.
// docs/decoding.md describes both and how a definition is chosen.
//
// Every table is immutable and lives for the whole program; pointers into it
// never dangle. Fields are laid out back to back from bit 0 of the payload,
// least significant bit first within little-endian bytes (NMEA 2000 order).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace lplex::pgn {

// How a field's bits are turned into a value (canboat's FieldType names).
enum class FieldType : uint8_t {
  kNumber,           // integer, optionally scaled: (raw + raw_offset) * resolution + offset
  kFloat,            // IEEE 754 single (32 bits) or double (64 bits)
  kDecimal,          // binary-coded decimal, two digits a byte
  kLookup,           // enumeration: label of the raw value
  kIndirectLookup,   // label chosen by this value and an earlier field's value
  kBitLookup,        // set of flags: one label per bit set
  kDynamicKey,       // key of a key/value pair; its lookup gives the value's type
  kDynamicLength,    // length in bytes of the following dynamic value
  kDynamicValue,     // value whose type the preceding dynamic key chose
  kTime,             // time of day, seconds since midnight × resolution
  kDuration,         // a duration, seconds × resolution
  kDate,             // days since 1970-01-01
  kPgn,              // a PGN number (24 bits)
  kIsoName,          // a 64-bit ISO NAME (layout of PGN 60928)
  kStringFix,        // fixed-length string, padded with 0x00, 0xFF, '@' or ' '
  kStringLz,         // length byte, bytes, terminating 0x00
  kStringLau,        // length byte (counting itself and the next), encoding byte, bytes
  kBinary,           // opaque bits, printed as hex
  kReserved,         // must be ones; never printed
  kSpare,            // must be zeros; never printed
  kMmsi,             // 32-bit MMSI, printed as 9 digits
  kVariable,         // a field of another PGN, named by earlier kPgn and kFieldIndex fields
  kFieldIndex,       // 1-based field number within another PGN
};

// Field flags.
enum FieldFlag : uint16_t {
  kSigned = 1 << 0,      // two's complement, sign-extended from bit_length
  kHasMatch = 1 << 1,    // the field selects the definition: raw must equal `match`
  kScaled = 1 << 2,      // the value is printed as a double (resolution or offset applies)
  kMapRepeat = 1 << 3,   // lplex `repeat=N group=map`: an object keyed "1".."N", not an array
  kLplexLookup = 1 << 4, // lplex `lookup=` field: `lplex dump --decode` wraps it as {"id","name"}
  kProprietaryOnly = 1 << 5,  // present only when the PGN is proprietary (canboat Condition)
  kAllValuesValid = 1 << 6,   // no raw value means "not available" (canboat: RangeMax is the raw maximum)
  kNeverUnavailable = 1 << 7, // lplex: exempt from lplex's not-available rule (counts, discriminators, lookups)
};

struct LookupValue {
  uint32_t value;
  const char* label;
};
// Values sorted by `value`, each once.
struct Lookup {
  const char* name;
  const LookupValue* values;
  uint32_t count;
};

struct BitLookupValue {
  uint32_t bit;  // bit number, 0 = least significant
  const char* label;
};
struct BitLookup {
  const char* name;
  const BitLookupValue* values;  // sorted by bit
  uint32_t count;
};

struct IndirectValue {
  uint32_t value1;  // the earlier field's value
  uint32_t value2;  // this field's value
  const char* label;
};
struct IndirectLookup {
  const char* name;
  const IndirectValue* values;  // sorted by (value1, value2)
  uint32_t count;
};

// The type of a dynamic value, chosen by its key (canboat's
// LookupFieldTypeEnumerations: B&G and Simrad settings).
struct DynamicType {
  uint32_t key;
  const char* label;      // the key's name
  FieldType type;
  uint16_t bit_length;    // 0: the pair's length field gives it
  bool is_signed;
  double resolution;
  const char* unit;       // "" when none
  int16_t lookup;         // index into Lookups() / BitLookups(), -1 when none
};
struct DynamicTypes {
  const char* name;
  const DynamicType* values;  // sorted by key
  uint32_t count;
};

struct Field {
  const char* key;        // JSON key (snake_case); "" for reserved/spare
  const char* name;       // human name (canboat's Name); "" for lplex fields
  const char* unit;       // "" when none
  FieldType type;
  uint16_t flags;         // FieldFlag bits
  uint16_t bit_length;    // 0: variable (strings, binary to the end, dynamic values)
  double resolution;      // 1 when unscaled
  double offset;          // added after scaling (lplex `offset=`)
  int64_t raw_offset;     // added to the raw value before scaling (canboat `Offset`)
  int64_t match;          // the value a kHasMatch field must hold
  int16_t lookup;         // index into Lookups()/BitLookups()/IndirectLookups()/DynamicTypeSets(), -1 none
  int16_t related;        // index within the definition of a field this one depends on, -1 none:
                          // kIndirectLookup: the field holding value1; variable-length
                          // kBinary/kStringFix: the field holding the length in bits (canboat BitLengthField)
  uint16_t repeat;        // lplex `repeat=N`: N values of bit_length each; 0 = a single value
  double tolerance;       // lplex change tolerance; negative when none
  const char* trim;       // lplex string trim characters; "" when none
};

// A run of fields that repeats (canboat RepeatingFieldSet1/2).
struct RepeatSet {
  int16_t start = -1;       // index of the first field of the set; -1 when there is no set
  uint16_t size = 0;        // fields in the set
  int16_t count_field = -1; // index of the field holding the repetition count; -1: to the end
  const char* key = "";     // JSON key of the array of repetitions
};

enum class Transport : uint8_t { kSingle, kFast, kIso, kMixed };

// A test the payload must pass for a definition to apply: the field at a
// fixed position holds a fixed value (canboat `Match`, lplex `value=`).
struct MatchRule {
  uint16_t bit_offset;
  uint16_t bit_length;
  int64_t value;
};

// One definition (variant) of a PGN.
struct Definition {
  uint32_t pgn;
  const char* id;           // canboat's Id (camelCase), or lplex's description in PascalCase
  const char* description;
  const Field* fields;
  uint16_t field_count;
  RepeatSet sets[2];
  const MatchRule* matches;  // all must hold; none for a definition without variants
  uint16_t match_count;
  Transport transport;
  uint16_t length;          // expected payload bytes; 0 when unknown or variable
  uint16_t min_length;      // a shorter payload is a decode error (lplex's 129540: 3); 0 = none
  uint32_t interval_ms;     // nominal transmission interval, 0 when none or irregular
  bool fallback;            // a generic catch-all, chosen only when nothing else matches
  bool lplex;               // from lplex's profile
  // lplex: a "not available" value leaves its key out (lplex's omitempty);
  // false: the key is kept with null (canboat, and lplex's utility AC PGNs).
  bool omit_unavailable;

  std::span<const Field> Fields() const { return {fields, field_count}; }
  std::span<const MatchRule> Matches() const { return {matches, match_count}; }
};

// The tables (generated: build/.../gen/pgn_tables.cc).
std::span<const Definition> CanboatDefinitions();  // ordered by PGN, then as in the database
std::span<const Definition> LplexDefinitions();    // ordered by PGN, then as in the profile
std::span<const Lookup> Lookups();
std::span<const BitLookup> BitLookups();
std::span<const IndirectLookup> IndirectLookups();
std::span<const DynamicTypes> DynamicTypeSets();

// The database the canboat tables came from: its package version (e.g.
// "1.11.18") and canboat's own version of the data (e.g. "6.2.0").
std::string_view CanboatPackageVersion();
std::string_view CanboatDataVersion();

}  // namespace lplex::pgn
