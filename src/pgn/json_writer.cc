#include "pgn/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>
#include <string_view>
#include <vector>

#include "core/json_string.h"

namespace lplex::pgn {

void AppendGoFloat(double v, std::string* out) {
  if (std::isnan(v) || std::isinf(v)) {
    out->append("null");
    return;
  }
  char buf[64];
  const double abs = std::fabs(v);
  if (abs == 0 || (abs >= 1e-6 && abs < 1e21)) {
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out->append(buf, r.ptr);
    return;
  }
  // Shortest digits in exponent form, then Go's exponent: "e-07" -> "e-7",
  // "e+21" stays.
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  const size_t e = s.find('e');
  out->append(s.substr(0, e + 2));  // mantissa, 'e', sign
  std::string_view exp = s.substr(e + 2);
  while (exp.size() > 1 && exp.front() == '0') exp.remove_prefix(1);
  out->append(exp);
}

namespace {

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendKey(const Node& n, std::string* out) {
  if (n.key != nullptr) {
    AppendJsonString(n.key, out);
  } else {
    out->push_back('"');
    AppendInt(n.index, out);
    out->push_back('"');
  }
  out->push_back(':');
}

void AppendValue(const DecodedMessage& msg, const Node& n, std::string* out, const JsonStyle& style) {
  switch (n.kind) {
    case NodeKind::kNull:
      out->append("null");
      return;
    case NodeKind::kInt:
      AppendInt(n.number, out);
      return;
    case NodeKind::kDouble:
      AppendGoFloat(n.real, out);
      return;
    case NodeKind::kString:
      AppendJsonString(msg.Text(n), out);
      return;
    case NodeKind::kLookup: {
      const bool lplex_lookup = n.field != nullptr && (n.field->flags & kLplexLookup);
      if (lplex_lookup && style.wrap_lookups) {
        out->append("{\"id\":");
        AppendInt(n.number, out);
        if (n.label != nullptr) {
          out->append(",\"name\":");
          AppendJsonString(n.label, out);
        }
        out->push_back('}');
      } else if (n.label != nullptr && !lplex_lookup) {
        AppendJsonString(n.label, out);
      } else {
        AppendInt(n.number, out);
      }
      return;
    }
    default:
      return;  // containers are handled by the caller
  }
}

}  // namespace

namespace {

// Writes the value starting at nodes[i] (a scalar, or a container up to its
// kEnd) and returns the index after it.
size_t AppendElement(const DecodedMessage& msg, std::span<const Node> nodes, size_t i, std::string* out,
                     const JsonStyle& style) {
  const Node& n = nodes[i];
  if (n.kind != NodeKind::kBeginArray && n.kind != NodeKind::kBeginObject) {
    AppendValue(msg, n, out, style);
    return i + 1;
  }
  const bool array = n.kind == NodeKind::kBeginArray;
  out->push_back(array ? '[' : '{');
  ++i;
  bool first = true;
  while (i < nodes.size() && nodes[i].kind != NodeKind::kEnd) {
    if (!first) out->push_back(',');
    first = false;
    if (!array) AppendKey(nodes[i], out);
    i = AppendElement(msg, nodes, i, out, style);
  }
  out->push_back(array ? ']' : '}');
  return i < nodes.size() ? i + 1 : i;  // past the kEnd
}

}  // namespace

void AppendFieldsJson(const DecodedMessage& msg, std::string* out, JsonStyle style) {
  const std::span<const Node> nodes = msg.nodes();
  // The top-level entries: index of each one's first node.
  struct Entry {
    const Node* node;
    size_t index;
  };
  thread_local std::vector<Entry> entries;
  entries.clear();
  bool has_lookup = false;
  for (size_t i = 0; i < nodes.size();) {
    entries.push_back({&nodes[i], i});
    if (nodes[i].field != nullptr && (nodes[i].field->flags & kLplexLookup)) has_lookup = true;
    // Skip to the next top-level entry.
    int depth = 0;
    do {
      if (nodes[i].kind == NodeKind::kBeginArray || nodes[i].kind == NodeKind::kBeginObject) ++depth;
      if (nodes[i].kind == NodeKind::kEnd) --depth;
      ++i;
    } while (i < nodes.size() && depth > 0);
  }
  // lplexdump re-serializes a message with wrapped lookups through a map,
  // which sorts its keys (spec/boat.md §5.4).
  if (style.wrap_lookups && has_lookup) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::string_view(a.node->key ? a.node->key : "") < std::string_view(b.node->key ? b.node->key : "");
    });
  }
  out->push_back('{');
  for (size_t k = 0; k < entries.size(); ++k) {
    if (k > 0) out->push_back(',');
    AppendKey(*entries[k].node, out);
    AppendElement(msg, nodes, entries[k].index, out, style);
  }
  out->push_back('}');
}

}  // namespace lplex::pgn
