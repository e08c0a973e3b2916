#include "http/send_policy.h"

#include <charconv>

#include <fmt/format.h>

#include "broker/filter.h"

namespace lplex::http {
namespace {

constexpr uint32_t kMaxPgn = 0x1FFFF;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == s.npos ? s.npos : p - start));
    if (p == s.npos) break;
    start = p + 1;
  }
  return out;
}

bool ParsePgn(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v > kMaxPgn) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

Status ParsePgnSpec(std::string_view spec, SendRule* rule) {
  if (spec.empty()) return Status::InvalidArgument("empty pgn spec (valid: pgn:59904 or pgn:129025-129029,59904)");
  for (std::string_view part : Split(spec, ',')) {
    const size_t dash = part.find('-');
    uint32_t lo, hi;
    if (dash == part.npos) {
      if (!ParsePgn(part, &lo)) {
        return Status::InvalidArgument(fmt::format("invalid pgn \"{}\" (valid: 0..{})", part, kMaxPgn));
      }
      hi = lo;
    } else {
      const std::string_view a = part.substr(0, dash), b = part.substr(dash + 1);
      if (!ParsePgn(a, &lo) || !ParsePgn(b, &hi)) {
        return Status::InvalidArgument(
            fmt::format("invalid pgn range \"{}\" (valid: lo-hi, each 0..{})", part, kMaxPgn));
      }
      if (lo > hi) return Status::InvalidArgument(fmt::format("invalid pgn range \"{}\": {} > {}", part, lo, hi));
    }
    rule->pgn.emplace_back(lo, hi);
  }
  return Status::Ok();
}

}  // namespace

Result<SendRule> ParseSendRule(std::string_view text) {
  SendRule rule;
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) tokens.push_back(text.substr(i, j - i));
    i = j;
  }
  if (tokens.empty()) return Status::InvalidArgument("empty rule");
  if (tokens[0].starts_with('!')) {
    rule.deny = true;
    tokens[0].remove_prefix(1);
    if (tokens[0].empty()) tokens.erase(tokens.begin());
  }
  for (std::string_view tok : tokens) {
    const size_t colon = tok.find(':');
    if (colon == tok.npos) {
      return Status::InvalidArgument(fmt::format("invalid token \"{}\": expected key:value", tok));
    }
    const std::string_view key = tok.substr(0, colon), value = tok.substr(colon + 1);
    if (key == "pgn") {
      LPLEX_RETURN_IF_ERROR(ParsePgnSpec(value, &rule));
    } else if (key == "name") {
      if (value.empty()) return Status::InvalidArgument("empty name list (valid: name:<hex>[,<hex>...])");
      for (std::string_view n : Split(value, ',')) {
        auto v = broker::ParseNameHex(n);
        if (!v) return Status::InvalidArgument(fmt::format("invalid name \"{}\": must be hex (1..16 digits)", n));
        rule.name.push_back(*v);
      }
    } else {
      return Status::InvalidArgument(fmt::format("unknown key \"{}\" (valid: pgn, name)", key));
    }
  }
  return rule;
}

Result<std::vector<SendRule>> ParseSendRules(const std::vector<std::string>& rules) {
  std::vector<SendRule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    auto r = ParseSendRule(rules[i]);
    if (!r.ok()) return Status::InvalidArgument(fmt::format("rule {}: {}", i + 1, r.status().message()));
    out.push_back(std::move(r).value());
  }
  return out;
}

bool SendPolicy::needs_name() const {
  for (const auto& r : rules_) {
    if (!r.name.empty()) return true;
  }
  return false;
}

Status SendPolicy::Check(uint32_t pgn, uint8_t dst, std::optional<uint64_t> dst_name) const {
  if (!enabled_) return Status::InvalidArgument("send is disabled");
  if (rules_.empty()) return Status::Ok();
  for (const auto& r : rules_) {
    if (!r.pgn.empty()) {
      bool any = false;
      for (auto [lo, hi] : r.pgn) any = any || (pgn >= lo && pgn <= hi);
      if (!any) continue;
    }
    if (!r.name.empty()) {
      if (!dst_name) continue;
      bool any = false;
      for (uint64_t n : r.name) any = any || n == *dst_name;
      if (!any) continue;
    }
    if (r.deny) return Status::InvalidArgument(fmt::format("send denied by rule (pgn={}, dst={})", pgn, dst));
    return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format("no send rule matched (pgn={}, dst={})", pgn, dst));
}

}  // namespace lplex::http
