// Fuzzes the --where parser with arbitrary bytes and checks what a user
// relies on:
//  - Parse never crashes, hangs or recurses without bound (deep nesting is
//    an error, not a stack overflow);
//  - an expression that parses evaluates against any frame, decoded or not;
//  - ToString parses back (when within the length limit), to an expression
//    with the same ToString and the same verdict and NeedsDecode on every
//    subject.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "where/where.h"

using namespace lplex::where;

namespace {

// A decoded message with a number, a string and an enum with a label; the
// names are ones a fuzzer finds quickly.
class Fields : public FieldSource {
 public:
  std::optional<FieldScalar> Field(std::string_view name) const override {
    if (name == "a") return FieldScalar{FieldScalar::Kind::kNumber, 2.5, {}};
    if (name == "b") return FieldScalar{FieldScalar::Kind::kString, 0, "State of Charge"};
    if (name == "e") return FieldScalar{FieldScalar::Kind::kNumber, 2, {}};
    return std::nullopt;
  }
  std::optional<std::string_view> LookupLabel(std::string_view name) const override {
    if (name == "e") return "Apparent";
    return std::nullopt;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  lplex::Result<Expression> e = Expression::Parse(text);
  if (!e.ok()) {
    if (e.status().message().empty()) std::abort();
    return 0;
  }
  static const Fields fields;
  const Subject subjects[] = {
      {0, 0, 0, 0, nullptr},
      {130306, 35, 255, 2, &fields},
      {61184, 255, 0, 7, &fields},
      {0xFFFFFFFF, 1, 2, 3, nullptr},
  };
  std::string printed = e->ToString();
  // The canonical form adds spaces and parentheses; past the length limit
  // it is refused like any other text that long.
  if (printed.size() > Expression::kMaxLength) return 0;
  lplex::Result<Expression> again = Expression::Parse(printed);
  if (!again.ok() || again->ToString() != printed) std::abort();
  if (again->NeedsDecode() != e->NeedsDecode()) std::abort();
  for (const Subject& s : subjects) {
    if (e->Matches(s) != again->Matches(s)) std::abort();
    // Without decoded fields only header comparisons can decide; an
    // expression that does not need decoding must not care whether it has them.
    if (!e->NeedsDecode()) {
      Subject bare = s;
      bare.fields = nullptr;
      if (e->Matches(bare) != e->Matches(s)) std::abort();
    }
  }
  return 0;
}
