// pgngen: turns canboat's PGN database and lplex's profile into the C++
// tables of src/pgn/definition.h.
//
//   pgngen <canboat.json> <lplex_profile.json> <canboat_fixes.json> <package version> <out.cc>
//
// Runs at build time (src/pgn/CMakeLists.txt). The database stays outside the
// repository (scripts/fetch-canboat.sh puts it in a cache); only what this
// program writes into the build tree is compiled. Any construct it does not
// understand stops the build with the PGN and field named, so a new database
// version can never be half decoded silently.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

// A C++ string literal. Octal escapes (always three digits) so no following
// character can extend an escape.
std::string Literal(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f || c == '?') {  // '?' avoids trigraph-looking runs
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A double as a literal that reads back to the same double.
std::string Double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// canboat's camelCase Id → snake_case JSON key ("windSpeed" → "wind_speed",
// "aisRaim" → "ais_raim", "dGnssAge" → "d_gnss_age").
std::string SnakeCase(const std::string& id) {
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper) {
      const bool prev_lower_or_digit =
          i > 0 && ((id[i - 1] >= 'a' && id[i - 1] <= 'z') || (id[i - 1] >= '0' && id[i - 1] <= '9'));
      const bool prev_upper = i > 0 && id[i - 1] >= 'A' && id[i - 1] <= 'Z';
      const bool next_lower = i + 1 < id.size() && id[i + 1] >= 'a' && id[i + 1] <= 'z';
      if (prev_lower_or_digit || (prev_upper && next_lower)) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string FieldTypeEnum(const std::string& t, const std::string& where) {
  static const std::map<std::string, std::string> kTypes = {
      {"NUMBER", "kNumber"},       {"FLOAT", "kFloat"},
      {"DECIMAL", "kDecimal"},     {"LOOKUP", "kLookup"},
      {"INDIRECT_LOOKUP", "kIndirectLookup"}, {"BITLOOKUP", "kBitLookup"},
      {"DYNAMIC_FIELD_KEY", "kDynamicKey"},   {"DYNAMIC_FIELD_LENGTH", "kDynamicLength"},
      {"DYNAMIC_FIELD_VALUE", "kDynamicValue"}, {"TIME", "kTime"},
      {"DURATION", "kDuration"},   {"DATE", "kDate"},
      {"PGN", "kPgn"},             {"ISO_NAME", "kIsoName"},
      {"STRING_FIX", "kStringFix"}, {"STRING_LZ", "kStringLz"},
      {"STRING_LAU", "kStringLau"}, {"BINARY", "kBinary"},
      {"RESERVED", "kReserved"},   {"SPARE", "kSpare"},
      {"MMSI", "kMmsi"},           {"VARIABLE", "kVariable"},
      {"FIELD_INDEX", "kFieldIndex"},
  };
  auto it = kTypes.find(t);
  if (it == kTypes.end()) Fail(where + ": unknown FieldType " + t);
  return "FieldType::" + it->second;
}

// One field as it will be written into the table.
struct FieldOut {
  std::string key, name, unit, type, trim;
  std::vector<std::string> flags;
  int bit_length = 0;
  double resolution = 1, offset = 0, tolerance = -1;
  long long raw_offset = 0, match = 0;
  int lookup = -1, related = -1, repeat = 0;
};

struct MatchOut {
  int bit_offset, bit_length;
  long long value;
};

struct DefOut {
  unsigned pgn = 0;
  std::string id, description, transport = "kSingle";
  std::vector<FieldOut> fields;
  std::vector<MatchOut> matches;
  int set_start[2] = {-1, -1}, set_size[2] = {0, 0}, set_count[2] = {-1, -1};
  std::string set_key[2] = {"", ""};
  int length = 0, min_length = 0;
  unsigned interval_ms = 0;
  bool fallback = false, lplex = false, omit_unavailable = false;
};

// All lookup tables, canboat's first, then lplex's enums and lookups.
struct Lookups {
  struct Table {
    std::string name;
    std::vector<std::pair<unsigned long long, std::string>> values;
  };
  std::vector<Table> plain, bits;
  struct Indirect {
    std::string name;
    std::vector<std::tuple<unsigned, unsigned, std::string>> values;
  };
  std::vector<Indirect> indirect;
  struct Dyn {
    unsigned key;
    std::string label, type, unit;
    int bits;
    bool is_signed;
    double resolution;
    int lookup;
  };
  struct DynSet {
    std::string name;
    std::vector<Dyn> values;
  };
  std::vector<DynSet> dynamic;
  std::map<std::string, int> plain_index, bit_index, indirect_index, dynamic_index;
};

int Find(const std::map<std::string, int>& m, const std::string& name, const std::string& where) {
  auto it = m.find(name);
  if (it == m.end()) Fail(where + ": unknown lookup " + name);
  return it->second;
}

// `fixes`: src/pgn/canboat_fixes.json, facts the pinned database leaves out.
void ReadCanboatLookups(const json& db, const json& fixes, Lookups& lk) {
  for (const auto& e : db.at("LookupEnumerations")) {
    Lookups::Table t{e.at("Name").get<std::string>(), {}};
    std::set<unsigned long long> seen;
    for (const auto& v : e.at("EnumValues")) {
      const auto value = v.at("Value").get<unsigned long long>();
      if (!seen.insert(value).second) continue;  // the first label of a value wins
      t.values.emplace_back(value, v.at("Name").get<std::string>());
    }
    std::sort(t.values.begin(), t.values.end());
    lk.plain_index[t.name] = static_cast<int>(lk.plain.size());
    lk.plain.push_back(std::move(t));
  }
  for (const auto& e : db.at("LookupBitEnumerations")) {
    Lookups::Table t{e.at("Name").get<std::string>(), {}};
    for (const auto& v : e.at("EnumBitValues")) t.values.emplace_back(v.at("Bit").get<unsigned long long>(), v.at("Name").get<std::string>());
    std::sort(t.values.begin(), t.values.end());
    lk.bit_index[t.name] = static_cast<int>(lk.bits.size());
    lk.bits.push_back(std::move(t));
  }
  for (const auto& e : db.at("LookupIndirectEnumerations")) {
    Lookups::Indirect t{e.at("Name").get<std::string>(), {}};
    for (const auto& v : e.at("EnumValues")) {
      t.values.emplace_back(v.at("Value1").get<unsigned>(), v.at("Value2").get<unsigned>(), v.at("Name").get<std::string>());
    }
    std::sort(t.values.begin(), t.values.end());
    lk.indirect_index[t.name] = static_cast<int>(lk.indirect.size());
    lk.indirect.push_back(std::move(t));
  }
  for (const auto& e : db.at("LookupFieldTypeEnumerations")) {
    Lookups::DynSet t{e.at("Name").get<std::string>(), {}};
    for (const auto& v : e.at("EnumFieldTypeValues")) {
      const std::string where = t.name + " key " + std::to_string(v.at("value").get<unsigned>());
      Lookups::Dyn d;
      d.key = v.at("value").get<unsigned>();
      d.label = v.at("name").get<std::string>();
      d.type = FieldTypeEnum(v.at("FieldType").get<std::string>(), where);
      d.bits = v.contains("Bits") ? std::stoi(v.at("Bits").get<std::string>()) : 0;
      // The database (6.2.0) does not say whether a key's value is signed;
      // canboat_fixes.json lists the unsigned keys of each enumeration
      // (taken from later canboat releases). A `Signed` in the database wins.
      const bool numeric = v.at("FieldType") == "NUMBER" || v.at("FieldType") == "DURATION";
      bool listed_unsigned = false;
      if (fixes.contains("dynamic_unsigned_keys") && fixes.at("dynamic_unsigned_keys").contains(t.name)) {
        for (const auto& k : fixes.at("dynamic_unsigned_keys").at(t.name)) listed_unsigned |= k.get<unsigned>() == d.key;
      }
      d.is_signed = v.contains("Signed") ? v.at("Signed").get<bool>() : (numeric && !listed_unsigned);
      d.resolution = v.value("Resolution", 1.0);
      d.unit = v.value("Unit", "");
      d.lookup = -1;
      if (v.contains("LookupEnumeration")) d.lookup = Find(lk.plain_index, v.at("LookupEnumeration"), where);
      if (v.contains("LookupBitEnumeration")) d.lookup = Find(lk.bit_index, v.at("LookupBitEnumeration"), where);
      t.values.push_back(d);
    }
    std::sort(t.values.begin(), t.values.end(), [](const Lookups::Dyn& a, const Lookups::Dyn& b) { return a.key < b.key; });
    lk.dynamic_index[t.name] = static_cast<int>(lk.dynamic.size());
    lk.dynamic.push_back(std::move(t));
  }
}

// Index (0-based) of the field whose canboat Order is `order`.
int IndexOfOrder(const json& fields, int order, const std::string& where) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].at("Order").get<int>() == order) return static_cast<int>(i);
  }
  Fail(where + ": no field with Order " + std::to_string(order));
}

bool HasDynamicValueAfter(const json& fields, int order) {
  for (const auto& f : fields) {
    if (f.at("Order").get<int>() > order && f.at("FieldType") == "DYNAMIC_FIELD_VALUE") return true;
  }
  return false;
}

DefOut ReadCanboatDefinition(const json& p, const Lookups& lk) {
  DefOut d;
  d.pgn = p.at("PGN").get<unsigned>();
  d.id = p.at("Id").get<std::string>();
  d.description = p.at("Description").get<std::string>();
  const std::string type = p.value("Type", "Single");
  d.transport = type == "Fast" ? "kFast" : type == "ISO" ? "kIso" : type == "Mixed" ? "kMixed" : "kSingle";
  if (type != "Fast" && type != "Single" && type != "ISO" && type != "Mixed") Fail(d.id + ": unknown Type " + type);
  d.length = p.value("Length", 0);
  d.interval_ms = p.contains("TransmissionInterval") ? p.at("TransmissionInterval").get<unsigned>() : 0;
  d.fallback = p.value("Fallback", false);
  const json& fields = p.at("Fields");
  const std::string where0 = std::to_string(d.pgn) + " " + d.id;
  for (int s = 0; s < 2; ++s) {
    const std::string prefix = "RepeatingFieldSet" + std::to_string(s + 1);
    if (!p.contains(prefix + "Size")) continue;
    d.set_size[s] = p.at(prefix + "Size").get<int>();
    if (d.set_size[s] == 0) continue;
    d.set_start[s] = IndexOfOrder(fields, p.at(prefix + "StartField").get<int>(), where0);
    if (p.contains(prefix + "CountField")) d.set_count[s] = IndexOfOrder(fields, p.at(prefix + "CountField").get<int>(), where0);
    d.set_key[s] = s == 0 ? "list" : "list2";
  }
  int bit_pos = 0;
  bool fixed_position = true;  // every earlier field has a fixed length (and no repeat set began)
  for (const auto& f : fields) {
    const std::string where = where0 + " field " + f.at("Id").get<std::string>();
    FieldOut o;
    const std::string ft = f.at("FieldType").get<std::string>();
    o.type = FieldTypeEnum(ft, where);
    o.key = (ft == "RESERVED" || ft == "SPARE") ? "" : SnakeCase(f.at("Id").get<std::string>());
    o.name = f.at("Name").get<std::string>();
    o.unit = f.value("Unit", "");
    o.bit_length = f.value("BitLength", 0);
    if (f.value("BitLengthVariable", false)) o.bit_length = 0;
    o.resolution = f.value("Resolution", 1.0);
    if (o.resolution == 0) o.resolution = 1;
    o.raw_offset = f.value("Offset", 0LL);
    if (f.value("Signed", false)) o.flags.push_back("kSigned");
    if ((ft == "NUMBER" || ft == "TIME" || ft == "DURATION") && (o.resolution != 1 || o.raw_offset != 0)) {
      o.flags.push_back("kScaled");
    }
    if (f.contains("RangeMax") && o.bit_length >= 2 && o.bit_length <= 64 &&
        (ft == "NUMBER" || ft == "LOOKUP" || ft == "DURATION" || ft == "TIME") && o.raw_offset == 0) {
      // canboat treats every raw value as valid when the field's documented
      // range reaches the raw maximum (e.g. 60928's 3-bit device instance).
      const bool is_signed = f.value("Signed", false);
      const long double max_raw = is_signed ? std::ldexp(1.0L, o.bit_length - 1) - 1 : std::ldexp(1.0L, o.bit_length) - 1;
      const long double range = std::llroundl(static_cast<long double>(f.at("RangeMax").get<double>()) / o.resolution);
      if (range == max_raw) o.flags.push_back("kAllValuesValid");
    }
    if (f.contains("Condition")) {
      if (f.at("Condition") != "PGNIsProprietary") Fail(where + ": unknown Condition");
      o.flags.push_back("kProprietaryOnly");
    }
    if (f.contains("LookupEnumeration")) o.lookup = Find(lk.plain_index, f.at("LookupEnumeration"), where);
    if (f.contains("LookupBitEnumeration")) o.lookup = Find(lk.bit_index, f.at("LookupBitEnumeration"), where);
    if (f.contains("LookupIndirectEnumeration")) {
      o.lookup = Find(lk.indirect_index, f.at("LookupIndirectEnumeration"), where);
      o.related = IndexOfOrder(fields, f.at("LookupIndirectEnumerationFieldOrder").get<int>(), where);
    }
    if (f.contains("LookupFieldTypeEnumeration")) o.lookup = Find(lk.dynamic_index, f.at("LookupFieldTypeEnumeration"), where);
    if (f.contains("BitLengthField")) o.related = IndexOfOrder(fields, f.at("BitLengthField").get<int>(), where);
    if ((ft == "LOOKUP" || ft == "BITLOOKUP" || ft == "INDIRECT_LOOKUP" || ft == "DYNAMIC_FIELD_KEY") && o.lookup < 0) {
      Fail(where + ": " + ft + " without its enumeration");
    }
    // A plain number named "Length" sizes the next dynamic value (130846).
    if (ft == "NUMBER" && o.name == "Length" && HasDynamicValueAfter(fields, f.at("Order").get<int>())) {
      o.type = "FieldType::kDynamicLength";
    }
    const int index = static_cast<int>(d.fields.size());
    if (index == d.set_start[0] || index == d.set_start[1]) fixed_position = false;
    if (f.contains("Match")) {
      if (!fixed_position || o.bit_length == 0 || o.bit_length > 64) Fail(where + ": Match on a field without a fixed position");
      o.flags.push_back("kHasMatch");
      o.match = f.at("Match").get<long long>();
      d.matches.push_back({bit_pos, o.bit_length, o.match});
    }
    if (f.contains("BitOffset") && fixed_position && f.at("BitOffset").get<int>() != bit_pos) {
      Fail(where + ": BitOffset " + std::to_string(f.at("BitOffset").get<int>()) + " is not after the previous field (" +
           std::to_string(bit_pos) + ")");
    }
    if (o.bit_length == 0 || o.flags.end() != std::find(o.flags.begin(), o.flags.end(), "kProprietaryOnly")) {
      fixed_position = false;
    }
    bit_pos += o.bit_length;
    d.fields.push_back(std::move(o));
  }
  return d;
}

// lplex's profile (src/pgn/lplex_profile.json, schema in docs/decoding.md).
void ReadLplexLookups(const json& prof, Lookups& lk, std::map<std::string, int>& enum_index,
                      std::map<std::string, int>& lookup_index) {
  auto read = [&](const json& obj, std::map<std::string, int>& index, const char* prefix) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      Lookups::Table t{std::string(prefix) + it.key(), {}};
      for (const auto& v : it.value().at("values")) t.values.emplace_back(v.at(0).get<unsigned long long>(), v.at(1).get<std::string>());
      std::sort(t.values.begin(), t.values.end());
      for (size_t i = 1; i < t.values.size(); ++i) {
        if (t.values[i].first == t.values[i - 1].first) Fail("lplex profile: " + t.name + " lists value " + std::to_string(t.values[i].first) + " twice");
      }
      index[it.key()] = static_cast<int>(lk.plain.size());
      lk.plain.push_back(std::move(t));
    }
  };
  if (prof.contains("enums")) read(prof.at("enums"), enum_index, "lplex.");
  if (prof.contains("lookups")) read(prof.at("lookups"), lookup_index, "lplex.");
}

FieldOut ReadLplexField(const json& f, const std::map<std::string, int>& enum_index,
                        const std::map<std::string, int>& lookup_index, const std::string& where0) {
  FieldOut o;
  o.bit_length = f.at("bits").get<int>();
  if (f.value("reserved", false) || f.value("unknown", false)) {
    o.type = "FieldType::kReserved";
    return o;
  }
  o.key = f.at("name").get<std::string>();
  const std::string where = where0 + " field " + o.key;
  const std::string type = f.at("type").get<std::string>();
  o.unit = f.value("unit", "");
  o.resolution = f.value("scale", 1.0);
  o.offset = f.value("offset", 0.0);
  o.tolerance = f.value("tolerance", -1.0);
  o.trim = f.value("trim", "");
  o.repeat = f.value("repeat", 0);
  if (f.value("group", "") == "map") o.flags.push_back("kMapRepeat");
  if (type.rfind("uint", 0) == 0 || type.rfind("int", 0) == 0) {
    o.type = "FieldType::kNumber";
    if (type[0] == 'i') o.flags.push_back("kSigned");
    if (f.contains("scale") || f.contains("offset")) o.flags.push_back("kScaled");
  } else if (type == "float32" || type == "float64") {
    o.type = "FieldType::kFloat";
  } else if (type == "string") {
    o.type = "FieldType::kStringFix";
  } else if (type == "enum") {
    o.type = "FieldType::kLookup";
    o.lookup = Find(enum_index, f.at("enum"), where);
  } else if (type == "lookup") {
    o.type = "FieldType::kLookup";
    o.flags.push_back("kLplexLookup");
    o.flags.push_back("kNeverUnavailable");
    o.lookup = Find(lookup_index, f.at("lookup"), where);
  } else {
    Fail(where + ": unknown type " + type);
  }
  if (o.repeat > 0) o.flags.push_back("kNeverUnavailable");
  if (f.contains("value")) {
    o.flags.push_back("kNeverUnavailable");
    o.flags.push_back("kHasMatch");
    o.match = f.at("value").get<long long>();
  }
  return o;
}

std::vector<DefOut> ReadLplexDefinitions(const json& prof, Lookups& lk) {
  std::map<std::string, int> enum_index, lookup_index;
  ReadLplexLookups(prof, lk, enum_index, lookup_index);
  std::vector<DefOut> out;
  for (const auto& p : prof.at("pgns")) {
    DefOut d;
    d.lplex = true;
    d.pgn = p.at("pgn").get<unsigned>();
    d.description = p.at("description").get<std::string>();
    d.id = p.value("id", "");
    if (d.id.empty()) {
      // PascalCase of the description, as lplex names its types.
      bool up = true;
      for (char c : d.description) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
          d.id += up && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
          up = false;
        } else {
          up = true;
        }
      }
    }
    d.transport = p.value("fast_packet", false) ? "kFast" : "kSingle";
    d.interval_ms = p.contains("interval_ms") && !p.at("interval_ms").is_null() ? p.at("interval_ms").get<unsigned>() : 0;
    d.min_length = p.value("min_bytes", 0);
    d.omit_unavailable = p.value("not_available_output", "omit") == "omit";
    const std::string where0 = "lplex profile " + std::to_string(d.pgn) + " " + d.description;
    if (p.at("fields").is_null()) {
      d.fallback = true;  // name only: a description, no layout
      out.push_back(std::move(d));
      continue;
    }
    int bit_pos = 0;
    for (const auto& f : p.at("fields")) {
      if (f.contains("repeat_set")) {
        const json& rs = f.at("repeat_set");
        d.set_start[0] = static_cast<int>(d.fields.size());
        d.set_key[0] = rs.at("name").get<std::string>();
        const std::string count = rs.value("count_field", "");
        if (!count.empty()) {
          for (size_t i = 0; i < d.fields.size(); ++i) {
            if (d.fields[i].key == count) d.set_count[0] = static_cast<int>(i);
          }
          if (d.set_count[0] < 0) Fail(where0 + ": repeat_set count_field " + count + " is not an earlier field");
          d.fields[d.set_count[0]].flags.push_back("kNeverUnavailable");
        }
        for (const auto& sf : rs.at("fields")) d.fields.push_back(ReadLplexField(sf, enum_index, lookup_index, where0));
        d.set_size[0] = static_cast<int>(d.fields.size()) - d.set_start[0];
        continue;
      }
      FieldOut o = ReadLplexField(f, enum_index, lookup_index, where0);
      if (std::find(o.flags.begin(), o.flags.end(), "kHasMatch") != o.flags.end()) {
        d.matches.push_back({bit_pos, o.bit_length, o.match});
      }
      bit_pos += o.bit_length * (o.repeat > 0 ? o.repeat : 1);
      d.fields.push_back(std::move(o));
    }
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const DefOut& a, const DefOut& b) { return a.pgn < b.pgn; });
  return out;
}

std::string Flags(const std::vector<std::string>& flags) {
  if (flags.empty()) return "0";
  std::string s;
  for (const auto& f : flags) s += (s.empty() ? "" : " | ") + f;
  return s;
}

// What the decoder relies on (src/pgn/decoder.cc keeps 64 raw values per
// walk, indexed by `related` and a set's count field).
void CheckDefinition(const DefOut& d) {
  const std::string where = std::to_string(d.pgn) + " " + d.id;
  if (d.fields.size() > 64) Fail(where + ": more than 64 fields");
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const int related = d.fields[i].related;
    if (related < 0) continue;
    if (d.fields[i].type == "FieldType::kIndirectLookup") {
      // Read from the payload at the other field's position (it may come
      // later, as 60928's device class does): that position must be fixed.
      for (int k = 0; k <= related; ++k) {
        if (d.fields[static_cast<size_t>(k)].bit_length == 0) Fail(where + ": indirect lookup on a field without a fixed position");
      }
    } else if (related >= static_cast<int>(i)) {
      Fail(where + " field " + d.fields[i].key + ": depends on a later field");
    }
  }
  for (int s = 0; s < 2; ++s) {
    if (d.set_count[s] >= 0 && d.set_count[s] >= d.set_start[s]) Fail(where + ": a set's count field is inside or after it");
  }
}

void WriteDefinitions(std::ostream& out, const std::string& name, const std::vector<DefOut>& defs) {
  for (size_t i = 0; i < defs.size(); ++i) {
    const DefOut& d = defs[i];
    if (!d.fields.empty()) {
      out << "constexpr Field k" << name << "Fields" << i << "[] = {\n";
      for (const auto& f : d.fields) {
        out << "  {" << Literal(f.key) << ", " << Literal(f.name) << ", " << Literal(f.unit) << ", " << f.type << ", "
            << "static_cast<uint16_t>(" << Flags(f.flags) << "), " << f.bit_length << ", " << Double(f.resolution) << ", "
            << Double(f.offset) << ", " << f.raw_offset << "LL, " << f.match << "LL, " << f.lookup << ", " << f.related << ", "
            << f.repeat << ", " << Double(f.tolerance) << ", " << Literal(f.trim) << "},\n";
      }
      out << "};\n";
    }
    if (!d.matches.empty()) {
      out << "constexpr MatchRule k" << name << "Matches" << i << "[] = {";
      for (const auto& m : d.matches) out << "{" << m.bit_offset << ", " << m.bit_length << ", " << m.value << "LL}, ";
      out << "};\n";
    }
  }
  out << "constexpr Definition k" << name << "[] = {\n";
  for (size_t i = 0; i < defs.size(); ++i) {
    const DefOut& d = defs[i];
    out << "  {" << d.pgn << ", " << Literal(d.id) << ", " << Literal(d.description) << ", "
        << (d.fields.empty() ? std::string("nullptr") : "k" + name + "Fields" + std::to_string(i)) << ", " << d.fields.size()
        << ", {";
    for (int s = 0; s < 2; ++s) {
      out << "{" << d.set_start[s] << ", " << d.set_size[s] << ", " << d.set_count[s] << ", " << Literal(d.set_key[s]) << "}, ";
    }
    out << "}, " << (d.matches.empty() ? std::string("nullptr") : "k" + name + "Matches" + std::to_string(i)) << ", "
        << d.matches.size() << ", Transport::" << d.transport << ", " << d.length << ", " << d.min_length << ", "
        << d.interval_ms << ", " << (d.fallback ? "true" : "false") << ", " << (d.lplex ? "true" : "false") << ", "
        << (d.omit_unavailable ? "true" : "false") << "},\n";
  }
  out << "};\n\n";
}

void WriteLookups(std::ostream& out, const Lookups& lk) {
  for (size_t i = 0; i < lk.plain.size(); ++i) {
    out << "constexpr LookupValue kLookup" << i << "[] = {";
    for (const auto& [v, l] : lk.plain[i].values) out << "{" << v << "u, " << Literal(l) << "}, ";
    out << "};\n";
  }
  out << "constexpr Lookup kLookups[] = {\n";
  for (size_t i = 0; i < lk.plain.size(); ++i) {
    out << "  {" << Literal(lk.plain[i].name) << ", kLookup" << i << ", " << lk.plain[i].values.size() << "},\n";
  }
  out << "};\n";
  for (size_t i = 0; i < lk.bits.size(); ++i) {
    out << "constexpr BitLookupValue kBitLookup" << i << "[] = {";
    for (const auto& [v, l] : lk.bits[i].values) out << "{" << v << "u, " << Literal(l) << "}, ";
    out << "};\n";
  }
  out << "constexpr BitLookup kBitLookups[] = {\n";
  for (size_t i = 0; i < lk.bits.size(); ++i) {
    out << "  {" << Literal(lk.bits[i].name) << ", kBitLookup" << i << ", " << lk.bits[i].values.size() << "},\n";
  }
  out << "};\n";
  for (size_t i = 0; i < lk.indirect.size(); ++i) {
    out << "constexpr IndirectValue kIndirect" << i << "[] = {";
    for (const auto& [a, b, l] : lk.indirect[i].values) out << "{" << a << "u, " << b << "u, " << Literal(l) << "}, ";
    out << "};\n";
  }
  out << "constexpr IndirectLookup kIndirectLookups[] = {\n";
  for (size_t i = 0; i < lk.indirect.size(); ++i) {
    out << "  {" << Literal(lk.indirect[i].name) << ", kIndirect" << i << ", " << lk.indirect[i].values.size() << "},\n";
  }
  out << "};\n";
  for (size_t i = 0; i < lk.dynamic.size(); ++i) {
    out << "constexpr DynamicType kDynamic" << i << "[] = {\n";
    for (const auto& d : lk.dynamic[i].values) {
      out << "  {" << d.key << "u, " << Literal(d.label) << ", " << d.type << ", " << d.bits << ", "
          << (d.is_signed ? "true" : "false") << ", " << Double(d.resolution) << ", " << Literal(d.unit) << ", " << d.lookup << "},\n";
    }
    out << "};\n";
  }
  out << "constexpr DynamicTypes kDynamicTypeSets[] = {\n";
  for (size_t i = 0; i < lk.dynamic.size(); ++i) {
    out << "  {" << Literal(lk.dynamic[i].name) << ", kDynamic" << i << ", " << lk.dynamic[i].values.size() << "},\n";
  }
  out << "};\n\n";
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot open " + path + " (scripts/fetch-canboat.sh puts canboat.json into the cache)");
  return json::parse(in);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: pgngen <canboat.json> <lplex_profile.json> <canboat_fixes.json> <package version> <out.cc>\n";
    return 2;
  }
  try {
    const json db = ReadJson(argv[1]);
    const json prof = ReadJson(argv[2]);
    const json fixes = ReadJson(argv[3]);
    Lookups lk;
    ReadCanboatLookups(db, fixes, lk);
    std::vector<DefOut> canboat;
    for (const auto& p : db.at("PGNs")) canboat.push_back(ReadCanboatDefinition(p, lk));
    for (const DefOut& d : canboat) CheckDefinition(d);
    std::stable_sort(canboat.begin(), canboat.end(), [](const DefOut& a, const DefOut& b) { return a.pgn < b.pgn; });
    std::vector<DefOut> lplex = ReadLplexDefinitions(prof, lk);
    for (const DefOut& d : lplex) CheckDefinition(d);

    std::ostringstream out;
    out << "// Generated by tools/pgngen from canboat's database (@canboat/ts-pgns " << argv[4]
        << ", Apache-2.0) and src/pgn/lplex_profile.json. Do not edit.\n"
        << "#include \"pgn/definition.h\"\n\nnamespace lplex::pgn {\nnamespace {\n\n";
    WriteLookups(out, lk);
    WriteDefinitions(out, "Canboat", canboat);
    WriteDefinitions(out, "Lplex", lplex);
    out << "}  // namespace\n\n"
        << "std::span<const Definition> CanboatDefinitions() { return kCanboat; }\n"
        << "std::span<const Definition> LplexDefinitions() { return kLplex; }\n"
        << "std::span<const Lookup> Lookups() { return kLookups; }\n"
        << "std::span<const BitLookup> BitLookups() { return kBitLookups; }\n"
        << "std::span<const IndirectLookup> IndirectLookups() { return kIndirectLookups; }\n"
        << "std::span<const DynamicTypes> DynamicTypeSets() { return kDynamicTypeSets; }\n"
        << "std::string_view CanboatPackageVersion() { return " << Literal(argv[4]) << "; }\n"
        << "std::string_view CanboatDataVersion() { return " << Literal(db.value("Version", "")) << "; }\n"
        << "\n}  // namespace lplex::pgn\n";
    // Written whole and renamed, so an interrupted build never leaves half a table.
    const std::string path = argv[5], tmp = path + ".tmp";
    {
      std::ofstream f(tmp);
      f << out.str();
      if (!f) Fail("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) Fail("cannot rename " + tmp + " to " + path);
  } catch (const std::exception& e) {
    std::cerr << "pgngen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
