// Diff methods of change tracking (spec/boat.md §5.6): whether a payload
// differs significantly from the previous one, and the compact encoding of
// the difference.
//
// There is one encoding, the byte mask:
//   payloads of <= 8 bytes: [mask:1][changed bytes...]
//     (bit i of the mask set = byte i changed)
//   payloads of > 8 bytes:  [mask length:2 LE][mask: ceil(n/8) bytes][changed bytes...]
// A diff only exists between payloads of the same length; a change of length
// is significant and has no diff (the tracker sends a new Snapshot instead).
// docs/changes.md shows worked examples.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "pgn/decoded_message.h"

namespace lplex::changes {

// How one PGN's payloads are compared. Implementations may keep scratch
// state, so one instance must not be used from two threads at once.
class DiffMethod {
 public:
  virtual ~DiffMethod() = default;

  // Returns whether `curr` differs significantly from `prev`. *diff is
  // cleared, and when the change is significant and both payloads have the
  // same length it receives the byte-mask diff (never empty then). A
  // significant change with an empty *diff means "cannot be diffed": the
  // caller sends the full payload.
  virtual bool Diff(std::span<const uint8_t> prev, std::span<const uint8_t> curr, std::vector<uint8_t>* diff) = 0;

  // Rebuilds the payload `diff` was computed to: `prev` with the changed
  // bytes put back. Any bytes are safe input; a diff that does not fit
  // `prev` (wrong mask length, mask bits past the payload, too few or too
  // many changed bytes) is an InvalidArgument error naming what is wrong.
  virtual Result<std::vector<uint8_t>> Apply(std::span<const uint8_t> prev, std::span<const uint8_t> diff) const = 0;
};

// The byte-mask diff of `prev` → `curr` into *diff (cleared first). Returns
// false (and leaves *diff empty) when the payloads are identical; true with
// an empty *diff when their lengths differ, or when a payload is too long
// for a 16-bit mask length (over 524280 bytes, far past any NMEA 2000
// message).
bool ByteMaskDiffOf(std::span<const uint8_t> prev, std::span<const uint8_t> curr, std::vector<uint8_t>* diff);

// `prev` with a byte-mask diff applied; errors as DiffMethod::Apply.
Result<std::vector<uint8_t>> ApplyByteMaskDiff(std::span<const uint8_t> prev, std::span<const uint8_t> diff);

// The default method: any changed byte is significant.
class ByteMaskDiff final : public DiffMethod {
 public:
  bool Diff(std::span<const uint8_t> prev, std::span<const uint8_t> curr, std::vector<uint8_t>* diff) override {
    return ByteMaskDiffOf(prev, curr, diff);
  }
  Result<std::vector<uint8_t>> Apply(std::span<const uint8_t> prev, std::span<const uint8_t> diff) const override {
    return ApplyByteMaskDiff(prev, diff);
  }
};

// A field compared with a tolerance: `key` is the top-level key of the
// decoded JSON ("heading", "wind_speed").
struct FieldTolerance {
  std::string key;
  double tolerance = 0;
};

// Significance decided on decoded values, so sensor noise does not count as
// a change. Both payloads are decoded (pgn::Decode, lplex's definitions
// first) and only the fields that have a tolerance are compared:
//   - numeric fields (integers, scaled values, enumerations by their raw
//     number) are significant when |curr - prev| > tolerance;
//   - any other value (text, nested sets, null) on any change;
//   - a field present in one payload and absent or null in the other is a
//     change;
//   - fields without a tolerance (SIDs, reserved bits) are ignored.
// Falls back to the byte comparison (any changed byte) when the length
// differs, a payload does not decode, the two decode with different
// definitions (variants), or the definition has no field with a tolerance
// (none declared, or none of the explicit keys is one of its fields).
// The diff is always the byte-mask one, so Apply is ApplyByteMaskDiff.
class FieldToleranceDiff final : public DiffMethod {
 public:
  // Uses the tolerances the decoding definition declares (lplex's profile:
  // pgn::Field::tolerance >= 0).
  explicit FieldToleranceDiff(uint32_t pgn);
  // Uses exactly `tolerances` (by top-level key) instead of the definition's.
  FieldToleranceDiff(uint32_t pgn, std::vector<FieldTolerance> tolerances);

  bool Diff(std::span<const uint8_t> prev, std::span<const uint8_t> curr, std::vector<uint8_t>* diff) override;
  Result<std::vector<uint8_t>> Apply(std::span<const uint8_t> prev, std::span<const uint8_t> diff) const override {
    return ApplyByteMaskDiff(prev, diff);
  }

 private:
  // True when some compared field moved past its tolerance; nullopt when
  // the decoded values cannot decide (the caller falls back to bytes).
  std::optional<bool> FieldsChanged(std::span<const uint8_t> prev, std::span<const uint8_t> curr);

  const uint32_t pgn_;
  const bool explicit_;  // tolerances_ replaces the definition's
  const std::vector<FieldTolerance> tolerances_;
  // Reused across calls so steady-state diffs allocate nothing.
  pgn::DecodedMessage prev_msg_;
  pgn::DecodedMessage curr_msg_;
};

// True when one of lplex's definitions of `pgn` declares a field tolerance:
// the PGNs the tracker compares with FieldToleranceDiff by default.
bool HasFieldTolerances(uint32_t pgn);

// The PGNs for which HasFieldTolerances is true, ascending.
std::vector<uint32_t> PgnsWithFieldTolerances();

}  // namespace lplex::changes
