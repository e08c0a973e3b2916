// A decoded message as the --where filter sees it (where::FieldSource):
// top-level fields by key; lookups compare as their raw number and offer
// their label to `field.name == "..."`.
#pragma once

#include <optional>
#include <string_view>

#include "pgn/decoded_message.h"
#include "where/where.h"

namespace lplex::pgn {

class WhereFields : public where::FieldSource {
 public:
  // `msg` must outlive this object (and stay unchanged while it is used).
  explicit WhereFields(const DecodedMessage& msg) : msg_(msg) {}

  std::optional<where::FieldScalar> Field(std::string_view name) const override {
    const Node* n = msg_.TopLevel(name);
    if (n == nullptr) return std::nullopt;
    switch (n->kind) {
      case NodeKind::kInt:
      case NodeKind::kLookup:
        return where::FieldScalar{where::FieldScalar::Kind::kNumber, static_cast<double>(n->number), {}};
      case NodeKind::kDouble:
        return where::FieldScalar{where::FieldScalar::Kind::kNumber, n->real, {}};
      case NodeKind::kString:
        return where::FieldScalar{where::FieldScalar::Kind::kString, 0, msg_.Text(*n)};
      default:
        return std::nullopt;  // null, arrays, objects
    }
  }

  std::optional<std::string_view> LookupLabel(std::string_view name) const override {
    const Node* n = msg_.TopLevel(name);
    if (n == nullptr || n->kind != NodeKind::kLookup || n->label == nullptr) return std::nullopt;
    return std::string_view(n->label);
  }

 private:
  const DecodedMessage& msg_;
};

}  // namespace lplex::pgn
