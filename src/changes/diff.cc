#include "changes/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "pgn/decoder.h"

namespace lplex::changes {
namespace {

// The largest payload whose mask length fits the 16-bit prefix.
constexpr size_t kMaxDiffablePayload = size_t{0xFFFF} * 8;

// Index just past the subtree starting at nodes[i] (a value, or a begin
// node with everything up to its matching kEnd).
size_t SubtreeEnd(std::span<const pgn::Node> nodes, size_t i) {
  const pgn::NodeKind k = nodes[i].kind;
  if (k != pgn::NodeKind::kBeginArray && k != pgn::NodeKind::kBeginObject) return i + 1;
  int depth = 0;
  for (size_t j = i; j < nodes.size(); ++j) {
    const pgn::NodeKind kj = nodes[j].kind;
    if (kj == pgn::NodeKind::kBeginArray || kj == pgn::NodeKind::kBeginObject) ++depth;
    if (kj == pgn::NodeKind::kEnd && --depth == 0) return j + 1;
  }
  return nodes.size();
}

bool IsNumeric(const pgn::Node& n) {
  return n.kind == pgn::NodeKind::kInt || n.kind == pgn::NodeKind::kDouble || n.kind == pgn::NodeKind::kLookup;
}

double NumberOf(const pgn::Node& n) {
  return n.kind == pgn::NodeKind::kDouble ? n.real : static_cast<double>(n.number);
}

// Two decoded values (with their subtrees) are the same value.
bool SameValue(const pgn::DecodedMessage& a, size_t ia, const pgn::DecodedMessage& b, size_t ib) {
  const size_t ea = SubtreeEnd(a.nodes(), ia);
  const size_t eb = SubtreeEnd(b.nodes(), ib);
  if (ea - ia != eb - ib) return false;
  for (size_t k = 0; k < ea - ia; ++k) {
    const pgn::Node& x = a.nodes()[ia + k];
    const pgn::Node& y = b.nodes()[ib + k];
    if (x.kind != y.kind) return false;
    if (k > 0 && std::string_view(x.key ? x.key : "") != std::string_view(y.key ? y.key : "")) return false;
    if (x.index != y.index) return false;
    switch (x.kind) {
      case pgn::NodeKind::kNull:
        if (x.null_reason != y.null_reason) return false;
        break;
      case pgn::NodeKind::kInt:
      case pgn::NodeKind::kLookup:
        if (x.number != y.number) return false;
        break;
      case pgn::NodeKind::kDouble:
        if (!(x.real == y.real)) return false;
        break;
      case pgn::NodeKind::kString:
        if (a.Text(x) != b.Text(y)) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

// Whether the top-level field `key` moved past `tolerance` between the two
// messages.
bool FieldMoved(const pgn::DecodedMessage& prev, const pgn::DecodedMessage& curr, std::string_view key,
                double tolerance) {
  const pgn::Node* p = prev.TopLevel(key);
  const pgn::Node* c = curr.TopLevel(key);
  if (p == nullptr || c == nullptr) return (p == nullptr) != (c == nullptr);
  if (IsNumeric(*p) && IsNumeric(*c)) return std::fabs(NumberOf(*c) - NumberOf(*p)) > tolerance;
  return !SameValue(prev, static_cast<size_t>(p - prev.nodes().data()), curr,
                    static_cast<size_t>(c - curr.nodes().data()));
}

bool DeclaresKey(const pgn::Definition& def, std::string_view key) {
  for (const pgn::Field& f : def.Fields()) {
    if (key == f.key) return true;
  }
  return false;
}

}  // namespace

bool ByteMaskDiffOf(std::span<const uint8_t> prev, std::span<const uint8_t> curr, std::vector<uint8_t>* diff) {
  diff->clear();
  if (prev.size() != curr.size()) return true;
  const size_t n = curr.size();
  size_t first = 0;
  while (first < n && prev[first] == curr[first]) ++first;
  if (first == n) return false;
  if (n > kMaxDiffablePayload) return true;
  const size_t mask_len = (n + 7) / 8;
  const size_t header = n <= 8 ? 0 : 2;
  diff->assign(header + mask_len, 0);
  if (header != 0) {
    (*diff)[0] = static_cast<uint8_t>(mask_len & 0xFF);
    (*diff)[1] = static_cast<uint8_t>(mask_len >> 8);
  }
  for (size_t i = first; i < n; ++i) {
    if (prev[i] != curr[i]) {
      (*diff)[header + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
      diff->push_back(curr[i]);
    }
  }
  return true;
}

Result<std::vector<uint8_t>> ApplyByteMaskDiff(std::span<const uint8_t> prev, std::span<const uint8_t> diff) {
  const size_t n = prev.size();
  const size_t mask_len = (n + 7) / 8;
  std::span<const uint8_t> mask;
  std::span<const uint8_t> changed;
  if (n <= 8) {
    if (diff.empty()) {
      return Status::InvalidArgument(fmt::format("empty diff for a {}-byte payload (valid: a mask byte, then the "
                                                 "changed bytes)", n));
    }
    mask = diff.subspan(0, 1);
    changed = diff.subspan(1);
    if (n < 8 && (mask[0] >> n) != 0) {
      return Status::InvalidArgument(fmt::format("diff mask 0x{:02x} names bytes past the {}-byte payload", mask[0], n));
    }
  } else {
    if (diff.size() < 2) {
      return Status::InvalidArgument(fmt::format("{}-byte diff for a {}-byte payload (valid: a 2-byte mask length, "
                                                 "{} mask bytes, then the changed bytes)", diff.size(), n, mask_len));
    }
    const size_t got_len = diff[0] | (size_t{diff[1]} << 8);
    if (got_len != mask_len || diff.size() < 2 + mask_len) {
      return Status::InvalidArgument(fmt::format("diff mask length {} ({} bytes present) does not fit a {}-byte "
                                                 "payload (valid: {})", got_len, diff.size() - 2, n, mask_len));
    }
    mask = diff.subspan(2, mask_len);
    changed = diff.subspan(2 + mask_len);
    const unsigned used_bits = static_cast<unsigned>(n % 8);
    if (used_bits != 0 && (mask[mask_len - 1] >> used_bits) != 0) {
      return Status::InvalidArgument(fmt::format("diff mask byte {} (0x{:02x}) names bytes past the {}-byte payload",
                                                 mask_len - 1, mask[mask_len - 1], n));
    }
  }
  size_t bits = 0;
  for (uint8_t m : mask) bits += static_cast<size_t>(std::popcount(m));
  if (bits != changed.size()) {
    return Status::InvalidArgument(fmt::format("diff mask marks {} changed bytes but {} follow it", bits,
                                               changed.size()));
  }
  std::vector<uint8_t> out(prev.begin(), prev.end());
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (mask[i / 8] & (1u << (i % 8))) out[i] = changed[next++];
  }
  return out;
}

FieldToleranceDiff::FieldToleranceDiff(uint32_t pgn) : pgn_(pgn), explicit_(false) {}

FieldToleranceDiff::FieldToleranceDiff(uint32_t pgn, std::vector<FieldTolerance> tolerances)
    : pgn_(pgn), explicit_(true), tolerances_(std::move(tolerances)) {}

std::optional<bool> FieldToleranceDiff::FieldsChanged(std::span<const uint8_t> prev, std::span<const uint8_t> curr) {
  // The sender's manufacturer is not known here; tolerances live only in
  // lplex's standard (non-proprietary) PGNs, which do not depend on it.
  if (!pgn::Decode(pgn_, std::nullopt, prev, &prev_msg_)) return std::nullopt;
  if (!pgn::Decode(pgn_, std::nullopt, curr, &curr_msg_)) return std::nullopt;
  // Different variants have different fields: nothing to compare key by key.
  if (prev_msg_.definition() != curr_msg_.definition()) return std::nullopt;
  bool compared = false;
  if (explicit_) {
    for (const FieldTolerance& t : tolerances_) {
      // A key the definition does not have says nothing about this payload.
      if (!DeclaresKey(*prev_msg_.definition(), t.key)) continue;
      compared = true;
      if (FieldMoved(prev_msg_, curr_msg_, t.key, t.tolerance)) return true;
    }
  } else {
    for (const pgn::Field& f : prev_msg_.definition()->Fields()) {
      if (!(f.tolerance >= 0) || f.key[0] == '\0') continue;
      compared = true;
      if (FieldMoved(prev_msg_, curr_msg_, f.key, f.tolerance)) return true;
    }
  }
  if (!compared) return std::nullopt;
  return false;
}

bool FieldToleranceDiff::Diff(std::span<const uint8_t> prev, std::span<const uint8_t> curr,
                              std::vector<uint8_t>* diff) {
  diff->clear();
  // Identical payloads need no decoding; a change of length cannot be
  // diffed at all. Both are the byte method's answer.
  if (prev.size() != curr.size() || std::equal(prev.begin(), prev.end(), curr.begin())) {
    return ByteMaskDiffOf(prev, curr, diff);
  }
  const std::optional<bool> moved = FieldsChanged(prev, curr);
  if (moved.has_value() && !*moved) return false;
  return ByteMaskDiffOf(prev, curr, diff);
}

bool HasFieldTolerances(uint32_t pgn) {
  for (const pgn::Definition& d : pgn::DefinitionsOf(pgn::LplexDefinitions(), pgn)) {
    for (const pgn::Field& f : d.Fields()) {
      if (f.tolerance >= 0) return true;
    }
  }
  return false;
}

std::vector<uint32_t> PgnsWithFieldTolerances() {
  std::vector<uint32_t> out;
  for (const pgn::Definition& d : pgn::LplexDefinitions()) {
    if ((out.empty() || out.back() != d.pgn) && HasFieldTolerances(d.pgn)) out.push_back(d.pgn);
  }
  return out;
}

}  // namespace lplex::changes
