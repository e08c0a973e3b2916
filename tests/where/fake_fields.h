// A FieldSource over fixed maps, standing in for a decoded message.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "where/where.h"

namespace lplex::where {

class FakeFields : public FieldSource {
 public:
  // Chainable setters: FakeFields().Number("sid", 1).Label("register", "x").
  FakeFields& Number(std::string name, double v) { fields_[std::move(name)] = v; return *this; }
  FakeFields& Text(std::string name, std::string v) { fields_[std::move(name)] = std::move(v); return *this; }
  FakeFields& Label(std::string name, std::string v) { labels_[std::move(name)] = std::move(v); return *this; }

  std::optional<FieldScalar> Field(std::string_view name) const override {
    auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    if (const double* d = std::get_if<double>(&it->second)) return FieldScalar{FieldScalar::Kind::kNumber, *d, {}};
    return FieldScalar{FieldScalar::Kind::kString, 0, std::get<std::string>(it->second)};
  }
  std::optional<std::string_view> LookupLabel(std::string_view name) const override {
    auto it = labels_.find(name);
    if (it == labels_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::string, std::variant<double, std::string>, std::less<>> fields_;
  std::map<std::string, std::string, std::less<>> labels_;
};

// Parses `expr` (a test failure if it does not parse) and evaluates it.
inline bool Match(std::string_view expr, const Subject& s) {
  Result<Expression> e = Expression::Parse(expr);
  EXPECT_TRUE(e.ok()) << expr << ": " << e.status().ToString();
  return e.ok() && e->Matches(s);
}

// The message Parse gives for `expr`, or "<parsed>" when it parses.
inline std::string ParseError(std::string_view expr) {
  Result<Expression> e = Expression::Parse(expr);
  if (e.ok()) return "<parsed>";
  EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument);
  return e.status().message();
}

// ToString of `expr`, or its error message.
inline std::string Canonical(std::string_view expr) {
  Result<Expression> e = Expression::Parse(expr);
  return e.ok() ? e->ToString() : "error: " + e.status().message();
}

}  // namespace lplex::where
