#include "config/settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "config/hocon_reader.h"
#include "core/duration.h"

namespace lplex::config {
namespace {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
// A config file larger than this is not a config file (e.g. -config /dev/sda).
constexpr uint64_t kMaxConfigFileSize = 4u << 20;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep`, trims each piece and drops the empty ones.
std::vector<std::string> SplitTrimmed(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view piece = Trim(s.substr(start, end - start));
    if (!piece.empty()) out.emplace_back(piece);
    start = end + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string RangeText(int64_t min, int64_t max) {
  if (min == kInt64Min && max == kInt64Max) return "";
  if (max == kInt64Max) return fmt::format(" >= {}", min);
  return fmt::format(" in {}..{}", min, max);
}

// What a valid value of this setting looks like, for "(valid: ...)".
std::string ValidText(const SettingSpec& spec) {
  switch (spec.kind) {
    case SettingKind::kString:
      return "any string";
    case SettingKind::kPath:
      return "a path without control characters";
    case SettingKind::kEnum: {
      std::vector<std::string> shown;
      for (const std::string& c : spec.choices) shown.push_back(c.empty() ? "\"\"" : c);
      return Join(shown, ", ");
    }
    case SettingKind::kBool:
      return "true, false";
    case SettingKind::kInt:
      return "a whole number" + RangeText(spec.min, spec.max) + (spec.power_of_two ? ", a power of two" : "");
    case SettingKind::kByteSize:
      return "a whole number of bytes" + RangeText(spec.min, spec.max) + (spec.power_of_two ? ", a power of two" : "") +
             ", without a unit suffix: 512 MiB is 536870912";
    case SettingKind::kNumber:
      return fmt::format("a decimal number in {}..{}", spec.number_min, spec.number_max);
    case SettingKind::kDuration:
      return std::string("an ISO 8601 duration such as PT30S, PT5M, PT1H, P1DT12H, P1W") +
             (spec.optional ? ", or \"\" for none" : "");
    case SettingKind::kStringList:
      return spec.separator != 0 ? fmt::format("a list of strings, or one string separated by '{}'", spec.separator)
                                 : "a list of strings";
    case SettingKind::kSendRules:
      return "send-rule strings such as \"pgn:59904\" or \"! pgn:65280-65535\", separated by ';', or "
             "objects {deny, pgn, name}";
  }
  return "";
}

Status NotValid(const SettingSpec& spec, std::string_view value) {
  return Status::InvalidArgument(fmt::format("{} is not valid (valid: {})", Quote(value), ValidText(spec)));
}

Result<int64_t> ParseWholeNumber(const SettingSpec& spec, std::string_view text) {
  // Digits only (and a '-' where negatives are allowed): from_chars alone
  // would accept "512" out of "512MB".
  int64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (text.empty() || (text[0] == '-' && spec.min >= 0)) return NotValid(spec, text);
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr != end) return NotValid(spec, text);
  if (n < spec.min || n > spec.max) return NotValid(spec, text);
  if (spec.power_of_two && (n <= 0 || (n & (n - 1)) != 0)) return NotValid(spec, text);
  return n;
}

Result<bool> ParseBool(const SettingSpec& spec, std::string_view text) {
  // The spellings Go's strconv.ParseBool accepts, so old command lines work.
  static const std::set<std::string_view> kTrue = {"true", "True", "TRUE", "t", "T", "1"};
  static const std::set<std::string_view> kFalse = {"false", "False", "FALSE", "f", "F", "0"};
  if (kTrue.count(text) != 0) return true;
  if (kFalse.count(text) != 0) return false;
  return NotValid(spec, text);
}

// Parses one value as typed on the command line (or a scalar in the file).
// A list setting gets the pieces of this one value.
Result<SettingValue> ParseText(const SettingSpec& spec, std::string_view text) {
  SettingValue v;
  switch (spec.kind) {
    case SettingKind::kString:
      v.text = std::string(text);
      break;
    case SettingKind::kPath:
      if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        return NotValid(spec, text);
      }
      v.text = std::string(text);
      break;
    case SettingKind::kEnum:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        return NotValid(spec, text);
      }
      v.text = std::string(text);
      break;
    case SettingKind::kBool: {
      LPLEX_ASSIGN_OR_RETURN(v.boolean, ParseBool(spec, text));
      break;
    }
    case SettingKind::kInt:
    case SettingKind::kByteSize: {
      LPLEX_ASSIGN_OR_RETURN(v.integer, ParseWholeNumber(spec, text));
      break;
    }
    case SettingKind::kNumber: {
      double d = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(d) ||
          d < spec.number_min || d > spec.number_max) {
        return NotValid(spec, text);
      }
      v.number = d;
      break;
    }
    case SettingKind::kDuration: {
      if (text.empty()) {
        if (spec.optional) break;
        return NotValid(spec, text);
      }
      // duration.h's message quotes the value, says what is wrong and lists
      // valid examples.
      LPLEX_ASSIGN_OR_RETURN(v.duration, ParseIso8601Duration(text));
      break;
    }
    case SettingKind::kStringList:
      if (spec.separator != 0) {
        v.list = SplitTrimmed(text, spec.separator);
      } else if (!text.empty()) {
        v.list.emplace_back(text);
      }
      break;
    case SettingKind::kSendRules:
      v.list = SplitTrimmed(text, ';');
      break;
  }
  return v;
}

// "a list", "an object", ...
std::string Article(HoconValue::Type type) {
  return std::string(type == HoconValue::Type::kObject ? "an " : "a ") + std::string(HoconTypeName(type));
}

bool IsScalar(const HoconValue& h) {
  return h.type != HoconValue::Type::kList && h.type != HoconValue::Type::kObject;
}

Status WrongType(const SettingSpec& spec, const HoconValue& h) {
  return Status::InvalidArgument(
      fmt::format("expected a single value, got {} (valid: {})", Article(h.type), ValidText(spec)));
}

// One send.rules object, {deny = true, pgn = "65280-65535", name = [...]},
// as a DSL string: "! pgn:65280-65535 name:a,b".
Result<std::string> RuleFromObject(const HoconValue& object, size_t index) {
  const std::string where = fmt::format("send.rules[{}]", index);
  bool deny = false;
  std::string pgn;
  std::vector<std::string> names;
  for (size_t i = 0; i < object.field_names.size(); ++i) {
    const std::string& field = object.field_names[i];
    const HoconValue& value = object.field_values[i];
    if (field == "deny") {
      if (!IsScalar(value) || (value.text != "true" && value.text != "false")) {
        return Status::InvalidArgument(fmt::format("{}: deny must be true or false, got {}", where, Quote(value.text)));
      }
      deny = value.text == "true";
    } else if (field == "pgn") {
      if (!IsScalar(value) || value.text.empty()) {
        return Status::InvalidArgument(
            fmt::format("{}: pgn must be a PGN list such as \"59904\" or \"65280-65535\"", where));
      }
      pgn = value.text;
    } else if (field == "name") {
      if (value.type == HoconValue::Type::kList) {
        for (const HoconValue& n : value.elements) {
          if (!IsScalar(n) || n.text.empty()) {
            return Status::InvalidArgument(fmt::format("{}: name must be a hex NAME or a list of them", where));
          }
          names.push_back(n.text);
        }
      } else if (IsScalar(value) && !value.text.empty()) {
        names.push_back(value.text);
      } else {
        return Status::InvalidArgument(fmt::format("{}: name must be a hex NAME or a list of them", where));
      }
    } else {
      // Ignoring a field could widen what a rule allows: refuse it.
      return Status::InvalidArgument(
          fmt::format("{}: unknown field {} (valid: deny, pgn, name)", where, Quote(field)));
    }
  }
  std::vector<std::string> parts;
  if (deny) parts.emplace_back("!");
  if (!pgn.empty()) parts.push_back("pgn:" + pgn);
  if (!names.empty()) parts.push_back("name:" + Join(names, ","));
  if (parts.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: a rule object needs deny = true, pgn or name (valid: deny, pgn, name)", where));
  }
  return Join(parts, " ");
}

// Parses a value from the config file. Scalars of any HOCON type are read
// as text (so `port = "8089"` and `enabled = "true"` work).
Result<SettingValue> ParseHoconValue(const SettingSpec& spec, const HoconValue& h) {
  if (spec.kind == SettingKind::kSendRules && h.type == HoconValue::Type::kList) {
    SettingValue v;
    for (size_t i = 0; i < h.elements.size(); ++i) {
      const HoconValue& e = h.elements[i];
      if (e.type == HoconValue::Type::kObject) {
        LPLEX_ASSIGN_OR_RETURN(std::string rule, RuleFromObject(e, i));
        v.list.push_back(std::move(rule));
      } else if (e.type == HoconValue::Type::kString) {
        // A string may itself hold several rules separated by ';', as the
        // flag does.
        for (std::string& rule : SplitTrimmed(e.text, ';')) v.list.push_back(std::move(rule));
      } else {
        return Status::InvalidArgument(
            fmt::format("send.rules[{}]: expected string or object, got {}", i, Article(e.type)));
      }
    }
    return v;
  }
  if (spec.kind == SettingKind::kStringList && h.type == HoconValue::Type::kList) {
    SettingValue v;
    for (size_t i = 0; i < h.elements.size(); ++i) {
      const HoconValue& e = h.elements[i];
      if (!IsScalar(e)) {
        return Status::InvalidArgument(
            fmt::format("element {}: expected a string, got {} (valid: {})", i, Article(e.type), ValidText(spec)));
      }
      if (!e.text.empty()) v.list.push_back(e.text);
    }
    return v;
  }
  if (!IsScalar(h)) return WrongType(spec, h);
  return ParseText(spec, h.text);
}

Status Checked(const SettingSpec& spec, const SettingValue& v) {
  if (!spec.check) return Status::Ok();
  return spec.check(v);
}

std::string Render(const SettingSpec& spec, const SettingValue& v) {
  switch (spec.kind) {
    case SettingKind::kString:
    case SettingKind::kPath:
    case SettingKind::kEnum:
      if (spec.secret && !v.text.empty()) return Quote("<redacted>");
      return Quote(v.text);
    case SettingKind::kBool:
      return v.boolean ? "true" : "false";
    case SettingKind::kInt:
    case SettingKind::kByteSize:
      return std::to_string(v.integer);
    case SettingKind::kNumber:
      return fmt::format("{}", v.number);
    case SettingKind::kDuration:
      return v.duration ? Quote(FormatIso8601Duration(*v.duration)) : "\"\"";
    case SettingKind::kStringList:
    case SettingKind::kSendRules: {
      std::vector<std::string> quoted;
      for (const std::string& s : v.list) quoted.push_back(Quote(s));
      return "[" + Join(quoted, ", ") + "]";
    }
  }
  return "";
}

// Keys compared with '-' and '.' as the same character: a cloud-style
// "journal.rotate-duration" in a boat file is a near miss of
// "journal.rotate.duration".
std::string Fold(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '-', '.');
  return out;
}

// Levenshtein distance, for "did you mean": "prot" is one edit from "port".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string UnknownKeyWarning(const std::string& path, const std::string& key, const std::vector<SettingSpec>& specs) {
  std::string hint;
  std::vector<std::string> children;
  std::string nearest;  // a key at most 2 edits away, for short typos
  size_t best = 3;
  for (const SettingSpec& s : specs) {
    if (s.key.empty()) continue;
    if (key.size() >= 3) {
      if (const size_t d = EditDistance(Fold(s.key), Fold(key)); d < best) {
        best = d;
        nearest = s.key;
      }
    }
    if (Fold(s.key) == Fold(key)) hint = fmt::format(" (did you mean \"{}\"?)", s.key);
    if (s.key.size() > key.size() && s.key.compare(0, key.size(), key) == 0 && s.key[key.size()] == '.') {
      children.push_back(s.key.substr(key.size() + 1));
    }
  }
  if (hint.empty() && !children.empty()) {
    hint = fmt::format(" (it is a block; valid keys in it: {})", Join(children, ", "));
  }
  if (hint.empty() && !nearest.empty()) hint = fmt::format(" (did you mean \"{}\"?)", nearest);
  return fmt::format("{}: unknown config key \"{}\" ignored{}", path, key, hint);
}

// A key that is not a setting but collides with the shape of one: a value
// given to a block ("journal = /var/lib/lplex") or a block given to a value
// ("journal { dir { a = 1 } }"). Ignoring these with a warning would silently
// drop the setting the user meant (journaling off), so they are errors.
std::optional<Status> ShapeMismatch(const std::string& path, const std::string& key,
                                    const std::vector<SettingSpec>& specs) {
  std::vector<std::string> children;
  for (const SettingSpec& s : specs) {
    if (s.key.empty()) continue;
    if (s.key.size() > key.size() && s.key.compare(0, key.size(), key) == 0 && s.key[key.size()] == '.') {
      children.push_back(s.key.substr(key.size() + 1));
    }
    if (key.size() > s.key.size() && key.compare(0, s.key.size(), s.key) == 0 && key[s.key.size()] == '.') {
      return Status::InvalidArgument(
          fmt::format("{}: config key \"{}\": expected a single value, got a block (with \"{}\")", path, s.key,
                      key.substr(s.key.size() + 1)));
    }
  }
  if (children.empty()) return std::nullopt;
  return Status::InvalidArgument(fmt::format("{}: config key \"{}\": expected a block (keys: {}), got a single value",
                                             path, key, Join(children, ", ")));
}

bool IsDirectory(FileSystem* fs, const std::string& path) { return fs->ListDir(path).ok(); }

Result<std::string> ReadWholeFile(FileSystem* fs, const std::string& path) {
  LPLEX_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  LPLEX_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > kMaxConfigFileSize) {
    return Status::InvalidArgument(
        fmt::format("config file {} is {} bytes (valid: at most {})", path, size, kMaxConfigFileSize));
  }
  std::string text(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    LPLEX_ASSIGN_OR_RETURN(size_t n, file->Read(done, text.size() - done, reinterpret_cast<uint8_t*>(text.data() + done)));
    if (n == 0) break;
    done += n;
  }
  text.resize(done);
  return text;
}

struct FlagValue {
  bool given = false;
  SettingValue value;
};

Status UnknownFlag(std::string_view name) {
  return Status::InvalidArgument(fmt::format("unknown flag -{} (run with -help to list the flags)", name));
}

// Parses the command line into per-setting values.
Result<std::vector<FlagValue>> ParseFlags(const std::vector<SettingSpec>& specs, const std::vector<std::string>& args) {
  std::vector<FlagValue> out(specs.size());
  std::map<std::string_view, size_t> by_name;
  for (size_t i = 0; i < specs.size(); ++i) by_name[specs[i].flag] = i;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return Status::InvalidArgument(
            fmt::format("unexpected argument \"{}\" (this program takes flags only)", args[i + 1]));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return Status::InvalidArgument(
          fmt::format("unexpected argument \"{}\" (this program takes flags only; they start with -)", arg));
    }
    // Go style "-name" and GNU style "--name" are the same flag.
    std::string_view body = std::string_view(arg).substr(arg[1] == '-' ? 2 : 1);
    const size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    auto it = by_name.find(name);
    if (it == by_name.end() && name == "h") it = by_name.find("help");
    if (name.empty() || name[0] == '-' || it == by_name.end()) return UnknownFlag(name);
    const SettingSpec& spec = specs[it->second];
    std::string text;
    if (eq != std::string_view::npos) {
      text = std::string(body.substr(eq + 1));
    } else if (spec.kind == SettingKind::kBool) {
      text = "true";  // a bare bool flag; like Go, "-flag false" is not a value
    } else if (i + 1 < args.size()) {
      text = args[++i];
    } else {
      return Status::InvalidArgument(fmt::format("flag -{} needs a value (valid: {})", spec.flag, ValidText(spec)));
    }
    auto parsed = ParseText(spec, text);
    if (!parsed.ok()) return parsed.status().WithContext("flag -" + spec.flag);
    FlagValue& slot = out[it->second];
    if (spec.repeatable && slot.given) {
      for (std::string& s : parsed->list) slot.value.list.push_back(std::move(s));
    } else {
      slot.value = std::move(parsed).value();  // last one wins, as in Go
    }
    slot.given = true;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!out[i].given) continue;
    Status s = Checked(specs[i], out[i].value);
    if (!s.ok()) return s.WithContext("flag -" + specs[i].flag);
  }
  return out;
}

// The file to read: the config flag's (which must exist), else the first
// search path that exists and is a file, else "".
Result<std::string> FindConfigFile(const LoadOptions& options, const std::string& explicit_path) {
  FileSystem* fs = options.fs;
  if (!explicit_path.empty()) {
    if (!fs->Exists(explicit_path)) return Status::NotFound("config file not found: " + explicit_path);
    if (IsDirectory(fs, explicit_path)) {
      return Status::InvalidArgument("config path is a directory: " + explicit_path);
    }
    return explicit_path;
  }
  for (const std::string& p : options.search_paths) {
    if (fs->Exists(p) && !IsDirectory(fs, p)) return p;
  }
  return std::string();
}

}  // namespace

std::string_view OriginName(Origin origin) {
  switch (origin) {
    case Origin::kDefault: return "default";
    case Origin::kFile: return "file";
    case Origin::kFlag: return "flag";
  }
  return "default";
}

Origin LoadReport::OriginOf(std::string_view flag) const {
  for (const EffectiveSetting& s : settings) {
    if (s.flag == flag) return s.origin;
  }
  return Origin::kDefault;
}

Result<Resolution> ResolveSettings(const std::vector<SettingSpec>& specs, const std::vector<std::string>& args,
                                   const LoadOptions& options) {
  LPLEX_ASSIGN_OR_RETURN(std::vector<FlagValue> flags, ParseFlags(specs, args));

  std::string explicit_path;
  bool skip_file = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!flags[i].given) continue;
    if (specs[i].flag == options.config_flag) explicit_path = flags[i].value.text;
    if (specs[i].immediate && flags[i].value.boolean) skip_file = true;
  }

  Resolution r;
  std::map<std::string, HoconValue> file;
  if (!skip_file) {
    LPLEX_ASSIGN_OR_RETURN(r.report.config_path, FindConfigFile(options, explicit_path));
    if (!r.report.config_path.empty()) {
      LPLEX_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(options.fs, r.report.config_path));
      LPLEX_ASSIGN_OR_RETURN(file, ReadHocon(text, r.report.config_path));
    }
  }

  std::set<std::string> used;
  r.values.resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const SettingSpec& spec = specs[i];
    EffectiveSetting effective{spec.flag, spec.key, "", Origin::kDefault};
    if (!spec.key.empty()) used.insert(spec.key);
    auto in_file = spec.key.empty() ? file.end() : file.find(spec.key);
    if (flags[i].given) {
      r.values[i] = std::move(flags[i].value);
      effective.origin = Origin::kFlag;
    } else if (in_file != file.end()) {
      const std::string where =
          fmt::format("{}: config key \"{}\" (flag -{})", r.report.config_path, spec.key, spec.flag);
      auto parsed = ParseHoconValue(spec, in_file->second);
      if (!parsed.ok()) return parsed.status().WithContext(where);
      Status s = Checked(spec, *parsed);
      if (!s.ok()) return s.WithContext(where);
      r.values[i] = std::move(parsed).value();
      effective.origin = Origin::kFile;
    } else {
      auto parsed = ParseText(spec, spec.default_text);
      Status s = parsed.ok() ? Checked(spec, *parsed) : parsed.status();
      if (!s.ok()) return s.WithContext("default of flag -" + spec.flag + " (a bug in the settings table)");
      r.values[i] = std::move(parsed).value();
    }
    effective.value = Render(spec, r.values[i]);
    r.report.settings.push_back(std::move(effective));
  }

  for (const auto& [key, value] : file) {
    if (used.count(key) != 0) continue;
    if (std::optional<Status> e = ShapeMismatch(r.report.config_path, key, specs)) return *e;
    r.report.unknown_keys.push_back(key);
    r.report.warnings.push_back(UnknownKeyWarning(r.report.config_path, key, specs));
  }
  return r;
}

std::string DescribeEffectiveConfig(const LoadReport& report) {
  std::string out;
  out += report.config_path.empty() ? "# config file: none\n" : fmt::format("# config file: {}\n", report.config_path);
  for (const std::string& w : report.warnings) out += "# warning: " + w + "\n";
  size_t width = 0;
  for (const EffectiveSetting& s : report.settings) {
    if (!s.key.empty()) width = std::max(width, s.key.size() + 3 + s.value.size());
  }
  for (const EffectiveSetting& s : report.settings) {
    if (s.key.empty()) continue;
    const std::string line = s.key + " = " + s.value;
    const std::string origin = s.origin == Origin::kFlag ? "flag -" + s.flag : std::string(OriginName(s.origin));
    out += fmt::format("{:<{}}  # {}\n", line, width, origin);
  }
  return out;
}

std::string Usage(const std::vector<SettingSpec>& specs, std::string_view program) {
  std::string out = fmt::format("Usage: {} [flags]\n\nFlags (-name value, -name=value or --name value):\n", program);
  for (const SettingSpec& s : specs) {
    std::string type;
    switch (s.kind) {
      case SettingKind::kString: type = "string"; break;
      case SettingKind::kPath: type = "path"; break;
      case SettingKind::kEnum: type = Join(s.choices, "|"); break;
      case SettingKind::kBool: type = ""; break;
      case SettingKind::kInt: type = "int"; break;
      case SettingKind::kByteSize: type = "bytes"; break;
      case SettingKind::kNumber: type = "number"; break;
      case SettingKind::kDuration: type = "ISO8601-duration"; break;
      case SettingKind::kStringList: type = s.repeatable ? "string (repeatable)" : "list"; break;
      case SettingKind::kSendRules: type = "rules"; break;
    }
    std::vector<std::string> notes;
    if (!s.default_text.empty() && s.default_text != "false" && !s.secret) notes.push_back("default " + s.default_text);
    if (!s.key.empty()) notes.push_back("key " + s.key);
    out += fmt::format("  -{}{}{}\n", s.flag, type.empty() ? "" : " " + type,
                       notes.empty() ? "" : "  (" + Join(notes, "; ") + ")");
    if (!s.help.empty()) out += fmt::format("        {}\n", s.help);
  }
  return out;
}

}  // namespace lplex::config
