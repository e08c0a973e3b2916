// Send policy (spec/boat.md §2.11): which /send and /query requests may put
// a frame on the bus. The broker's own discovery requests ignore it.
//
// Rules are evaluated top to bottom; the first that matches decides (allow,
// or deny with `!`). Enabled with no rules allows everything; no matching
// rule denies. A rule's NAME list matches only when the destination's NAME
// is known: dst != 255 and a registry entry exists at dst.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace lplex::http {

struct SendRule {
  bool deny = false;
  // Inclusive ranges; empty = any PGN. A single value is {v, v}.
  std::vector<std::pair<uint32_t, uint32_t>> pgn;
  // Destination NAMEs; empty = any destination.
  std::vector<uint64_t> name;
};

// Parses one rule of the DSL `[!] [pgn:<spec>] [name:<hex>[,<hex>...]]`.
// InvalidArgument on: an empty rule ("empty rule"), a token without ':'
// ("invalid token \"x\": expected key:value"), an unknown key, an empty spec
// or NAME list, a bad number or hex value, a range with lo > hi, a PGN above
// 131071.
Result<SendRule> ParseSendRule(std::string_view text);
// Parses every rule; errors are prefixed "rule <n>: " (n from 1).
Result<std::vector<SendRule>> ParseSendRules(const std::vector<std::string>& rules);

class SendPolicy {
 public:
  SendPolicy() = default;  // disabled
  SendPolicy(bool enabled, std::vector<SendRule> rules) : enabled_(enabled), rules_(std::move(rules)) {}

  // OK when the request may go out; otherwise the exact 403 message:
  // "send is disabled", "send denied by rule (pgn=P, dst=D)" or
  // "no send rule matched (pgn=P, dst=D)". `dst_name` is the destination's
  // NAME when known (see the file comment), nullopt otherwise.
  Status Check(uint32_t pgn, uint8_t dst, std::optional<uint64_t> dst_name) const;
  // True when some rule carries a NAME list (then callers look dst up).
  bool needs_name() const;

 private:
  bool enabled_ = false;
  std::vector<SendRule> rules_;
};

}  // namespace lplex::http
