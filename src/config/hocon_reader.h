// HoconReader: a HOCON document as plain values, so nothing outside
// hocon_reader.cc sees cpp-hocon or Boost (both are slow to compile and
// would leak into every file that includes a config header).
//
// Internal to src/config; the settings layer (settings.h) is the interface.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::config {

// One HOCON value. Scalars keep their text with quotes removed: `dir =
// /var/log/lplex` and `dir = "/var/log/lplex"` both give "/var/log/lplex".
struct HoconValue {
  enum class Type { kString, kNumber, kBool, kList, kObject };
  Type type = Type::kString;
  std::string text;                       // kString, kNumber ("8089"), kBool ("true"/"false")
  std::vector<HoconValue> elements;       // kList, in order
  std::vector<std::string> field_names;   // kObject (inside a list only), sorted
  std::vector<HoconValue> field_values;   // parallel to field_names
};

// "string", "number", "boolean", "list", "object": for error messages.
std::string_view HoconTypeName(HoconValue::Type type);

// Parses a HOCON document and resolves its substitutions. Returns every leaf
// by its full dotted path: `journal { rotate { size = 5 } }` gives
// "journal.rotate.size". Lists are leaves (their elements, objects included,
// stay inside). A path segment that is not [A-Za-z0-9_-]+ is quoted
// ("\"bad key\""), so it cannot collide with a real key. null values are
// left out, as if the key were absent. Errors (InvalidArgument) start with
// `origin` (the file name) and carry cpp-hocon's description of the syntax
// error.
Result<std::map<std::string, HoconValue>> ReadHocon(const std::string& text, const std::string& origin);

}  // namespace lplex::config
