// The result of decoding one message: a flat list of nodes in output order.
//
// Nesting (repeating sets, lplex repeats, bit lookups) is written as begin
// and end nodes, so writing JSON, evaluating a filter or comparing two
// messages is one pass over a vector, and a DecodedMessage reused across
// messages allocates nothing once it has grown to the largest one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgn/definition.h"

namespace lplex::pgn {

enum class NodeKind : uint8_t {
  kNull,         // not available / error / reserved raw value
  kInt,          // integer: `number`
  kDouble,       // scaled or floating point: `real`
  kString,       // text (also dates, times, hex): DecodedMessage::Text()
  kLookup,       // enumeration: raw `number`, `label` (nullptr when the value has no label)
  kBeginArray,   // children until the matching kEnd
  kBeginObject,  // children until the matching kEnd
  kEnd,
};

// Why a value is null.
enum class NullReason : uint8_t { kNone, kNotAvailable, kError, kReserved, kMissing };

struct Node {
  NodeKind kind = NodeKind::kNull;
  NullReason null_reason = NullReason::kNone;
  // Key of the node inside an object; nullptr inside an array, or when the
  // key is the 1-based `index` (lplex `group=map` repeats).
  const char* key = nullptr;
  uint32_t index = 0;
  int64_t number = 0;
  double real = 0;
  const char* label = nullptr;
  uint32_t text_begin = 0;
  uint32_t text_size = 0;
  const Field* field = nullptr;  // the definition's field; nullptr for containers it did not declare
};

class DecodedMessage {
 public:
  DecodedMessage() = default;
  DecodedMessage(const DecodedMessage&) = delete;
  DecodedMessage& operator=(const DecodedMessage&) = delete;
  DecodedMessage(DecodedMessage&&) = default;
  DecodedMessage& operator=(DecodedMessage&&) = default;

  // The definition that decoded the message; nullptr before a decode.
  const Definition* definition() const { return definition_; }
  std::span<const Node> nodes() const { return nodes_; }
  std::string_view Text(const Node& n) const { return std::string_view(text_).substr(n.text_begin, n.text_size); }

  // The top-level node with `key` (not inside an array or object), or
  // nullptr when the message has none.
  const Node* TopLevel(std::string_view key) const;

  // Why the definition could not decode the payload; empty when it did.
  const std::string& error() const { return error_; }

  // Used by the decoder.
  void Reset(const Definition* def) {
    definition_ = def;
    nodes_.clear();
    text_.clear();
    error_.clear();
  }
  void SetError(std::string error) { error_ = std::move(error); }
  Node& Add(NodeKind kind, const char* key, const Field* field) {
    Node& n = nodes_.emplace_back();
    n.kind = kind;
    n.key = key;
    n.field = field;
    return n;
  }
  // Appends text and points `n` at it.
  void SetText(Node& n, std::string_view text) {
    n.kind = NodeKind::kString;
    n.text_begin = static_cast<uint32_t>(text_.size());
    n.text_size = static_cast<uint32_t>(text.size());
    text_.append(text);
  }
  std::string& text_buffer() { return text_; }
  size_t node_count() const { return nodes_.size(); }
  void Truncate(size_t node_count) { nodes_.resize(node_count); }

 private:
  const Definition* definition_ = nullptr;
  std::vector<Node> nodes_;
  std::string text_;
  std::string error_;
};

}  // namespace lplex::pgn
