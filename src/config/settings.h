// Settings: one declarative table per program (lplex-server now, lplex-cloud
// next) turns command-line flags, a HOCON config file and defaults into a
// plain struct, with precedence flag > file > default.
//
// Each setting is declared once, with its flag name ("journal-rotate-size"),
// its HOCON key ("journal.rotate.size"), its default, its help text and its
// type; the type comes from the struct member it fills:
//
//   std::string                 string (refine: .Path(), .Choices({...}))
//   bool                        true/false; a bare "-flag" means true
//   int, int64_t                whole number within .Range(min, max)
//   uint64_t                    byte count: a plain integer, no unit suffix
//   double                      decimal number within .NumberRange(min, max)
//   std::chrono::seconds        ISO 8601 duration (core/duration.h), required
//   std::optional<seconds>      ISO 8601 duration, "" = not set
//   std::vector<std::string>    list (refine: .Repeatable(), .Separator(','),
//                               .SendRules())
//
// Flags are accepted Go style and GNU style: "-port 8089", "-port=8089",
// "--port 8089", "--port=8089". A bool takes a value only after '='.
// Every bad value fails, naming the flag or key, the value, and what is
// valid. Keys in the file that no setting declares are reported as warnings.
// cpp-hocon stays inside settings.cc/hocon_reader.cc: this header is cheap.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"

namespace lplex::config {

enum class SettingKind {
  kString,
  kPath,         // a string that names a file or directory (no control characters)
  kEnum,         // a string from SettingSpec::choices
  kBool,
  kInt,          // int64 within [min, max]
  kByteSize,     // int64 >= 0 within [min, max], digits only ("512MB" is refused)
  kNumber,       // double within [number_min, number_max]
  kDuration,     // ISO 8601 subset; "" allowed only when optional
  kStringList,
  kSendRules,    // send-rules DSL strings; the file may also hold rule objects
};

// Where the effective value of a setting came from.
enum class Origin { kDefault, kFile, kFlag };
std::string_view OriginName(Origin origin);  // "default", "file", "flag"

// A parsed value. Only the member that matches the setting's kind is set.
struct SettingValue {
  std::string text;                          // kString, kPath, kEnum
  bool boolean = false;                      // kBool
  int64_t integer = 0;                       // kInt, kByteSize
  double number = 0;                         // kNumber
  std::optional<std::chrono::seconds> duration;  // kDuration; nullopt = ""
  std::vector<std::string> list;             // kStringList, kSendRules
};

// Checks a value beyond its kind (e.g. an archive URL). Returns OK or
// InvalidArgument whose message quotes the value and says what is valid;
// the caller prefixes which flag or key it came from.
using ValueCheck = std::function<Status(const SettingValue& value)>;

// The declaration of one setting. Built through SettingTable::Add and the
// chainable setters below.
struct SettingSpec {
  std::string flag;          // without dashes: "journal-dir"
  std::string key;           // HOCON path: "journal.dir"; "" = command line only
  SettingKind kind = SettingKind::kString;
  std::string default_text;  // as typed on the command line; must itself be valid
  std::string help;
  int64_t min = std::numeric_limits<int64_t>::min();  // kInt, kByteSize
  int64_t max = std::numeric_limits<int64_t>::max();
  bool power_of_two = false;                          // kInt, kByteSize
  double number_min = std::numeric_limits<double>::lowest();  // kNumber
  double number_max = std::numeric_limits<double>::max();
  std::vector<std::string> choices;  // kEnum
  bool optional = false;     // kDuration: "" is allowed and means "not set"
  bool repeatable = false;   // kStringList: every occurrence of the flag appends
  char separator = 0;        // kStringList: also split each value on this
  bool secret = false;       // never printed (DescribeEffectiveConfig shows it as set or not)
  bool immediate = false;    // kBool: when given on the command line, no config file is read
  ValueCheck check;

  SettingSpec& Default(std::string text) { default_text = std::move(text); return *this; }
  SettingSpec& Help(std::string text) { help = std::move(text); return *this; }
  SettingSpec& Range(int64_t lo, int64_t hi) { min = lo; max = hi; return *this; }
  SettingSpec& PowerOfTwo() { power_of_two = true; return *this; }
  SettingSpec& NumberRange(double lo, double hi) { number_min = lo; number_max = hi; return *this; }
  SettingSpec& Choices(std::vector<std::string> valid) { kind = SettingKind::kEnum; choices = std::move(valid); return *this; }
  SettingSpec& Path() { kind = SettingKind::kPath; return *this; }
  SettingSpec& Repeatable() { repeatable = true; return *this; }
  SettingSpec& Separator(char c) { separator = c; return *this; }
  SettingSpec& SendRules() { kind = SettingKind::kSendRules; return *this; }
  SettingSpec& Secret() { secret = true; return *this; }
  SettingSpec& Immediate() { immediate = true; return *this; }
  SettingSpec& Check(ValueCheck c) { check = std::move(c); return *this; }
};

// How a program finds its config file. Injectable so that tests never touch
// /etc or the working directory.
struct LoadOptions {
  FileSystem* fs = FileSystem::Default();
  // Tried in order when the config flag is not given; the first that exists
  // and is not a directory is read. None existing is fine (defaults apply).
  std::vector<std::string> search_paths;
  // The flag that names the config file explicitly. That file must exist.
  std::string config_flag = "config";
};

// One line of the effective configuration.
struct EffectiveSetting {
  std::string flag;
  std::string key;
  std::string value;  // HOCON text: "can0" (quoted), 8089, true, ["a", "b"]; secrets redacted
  Origin origin = Origin::kDefault;
};

// What loading found, besides the values themselves.
struct LoadReport {
  std::string config_path;                   // the file read; "" = none
  std::vector<EffectiveSetting> settings;    // in table order, every setting
  std::vector<std::string> unknown_keys;     // keys in the file no setting declares, sorted
  std::vector<std::string> warnings;         // ready to log: one per unknown key

  // The origin of the setting with this flag name (kDefault if unknown).
  Origin OriginOf(std::string_view flag) const;
};

// The values of a table's settings in table order, and the report.
struct Resolution {
  std::vector<SettingValue> values;
  LoadReport report;
};

// The engine behind SettingTable::Load: parses `args` (without the program
// name), finds and reads the config file, and resolves every setting with
// precedence flag > file > default. Errors (InvalidArgument, or NotFound for
// a missing -config file):
//   flag -port: "x" is not a whole number (valid: 0..65535)
//   /etc/lplex/lplex.conf: config key "journal.compression" (flag -journal-compression):
//     "lz4" is not valid (valid: none, zstd, zstd-dict)
//   config file not found: <path> / config path is a directory: <path>
//   unknown flag -prot (run with -help to list the flags)
Result<Resolution> ResolveSettings(const std::vector<SettingSpec>& specs, const std::vector<std::string>& args,
                                   const LoadOptions& options);

// The effective configuration as text, one setting per line, for
// -validate-config: `journal.dir = "/var/log/lplex"  # file`, with the file
// used and the warnings as leading comments. Command-line-only settings are
// left out. The output is valid HOCON.
std::string DescribeEffectiveConfig(const LoadReport& report);

// Help text: every flag, its type, key, default and help.
std::string Usage(const std::vector<SettingSpec>& specs, std::string_view program);

// The loaded struct and its report.
template <typename Config>
struct Loaded {
  Config config{};
  LoadReport report;
};

// The settings of one program, bound to the members of its Config struct.
// Not thread-safe while being built; Load is const and thread-safe.
template <typename Config>
class SettingTable {
 public:
  // Declares a setting filling `field`. The kind follows from the member's
  // type (see the top of this file). The returned spec is valid until the
  // next Add; chain its setters at once.
  SettingSpec& Add(std::string flag, std::string key, std::string Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kString,
                [field](Config& c, const SettingValue& v) { c.*field = v.text; });
  }
  SettingSpec& Add(std::string flag, std::string key, bool Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kBool,
                [field](Config& c, const SettingValue& v) { c.*field = v.boolean; }).Default("false");
  }
  SettingSpec& Add(std::string flag, std::string key, int Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kInt,
                [field](Config& c, const SettingValue& v) { c.*field = static_cast<int>(v.integer); })
        .Range(std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
  }
  SettingSpec& Add(std::string flag, std::string key, int64_t Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kInt,
                [field](Config& c, const SettingValue& v) { c.*field = v.integer; });
  }
  SettingSpec& Add(std::string flag, std::string key, uint64_t Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kByteSize,
                [field](Config& c, const SettingValue& v) { c.*field = static_cast<uint64_t>(v.integer); })
        .Range(0, std::numeric_limits<int64_t>::max())
        .Default("0");
  }
  SettingSpec& Add(std::string flag, std::string key, double Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kNumber,
                [field](Config& c, const SettingValue& v) { c.*field = v.number; });
  }
  SettingSpec& Add(std::string flag, std::string key, std::chrono::seconds Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kDuration,
                [field](Config& c, const SettingValue& v) { c.*field = v.duration.value_or(std::chrono::seconds(0)); });
  }
  SettingSpec& Add(std::string flag, std::string key, std::optional<std::chrono::seconds> Config::*field) {
    SettingSpec& spec = Push(std::move(flag), std::move(key), SettingKind::kDuration,
                             [field](Config& c, const SettingValue& v) { c.*field = v.duration; });
    spec.optional = true;
    return spec;
  }
  SettingSpec& Add(std::string flag, std::string key, std::vector<std::string> Config::*field) {
    return Push(std::move(flag), std::move(key), SettingKind::kStringList,
                [field](Config& c, const SettingValue& v) { c.*field = v.list; });
  }

  // A check across settings, run after every value is in place (e.g. "not
  // both A and B"). Returns InvalidArgument naming the settings involved.
  void AddCheck(std::function<Status(const Config&, const LoadReport&)> check) {
    checks_.push_back(std::move(check));
  }

  const std::vector<SettingSpec>& specs() const { return specs_; }

  // Parses `args` (argv without the program name) and the config file.
  Result<Loaded<Config>> Load(const std::vector<std::string>& args, const LoadOptions& options) const {
    LPLEX_ASSIGN_OR_RETURN(Resolution r, ResolveSettings(specs_, args, options));
    Loaded<Config> out;
    for (size_t i = 0; i < specs_.size(); ++i) assign_[i](out.config, r.values[i]);
    out.report = std::move(r.report);
    for (const auto& check : checks_) LPLEX_RETURN_IF_ERROR(check(out.config, out.report));
    return out;
  }

 private:
  using Assign = std::function<void(Config&, const SettingValue&)>;

  SettingSpec& Push(std::string flag, std::string key, SettingKind kind, Assign assign) {
    SettingSpec spec;
    spec.flag = std::move(flag);
    spec.key = std::move(key);
    spec.kind = kind;
    specs_.push_back(std::move(spec));
    assign_.push_back(std::move(assign));
    return specs_.back();
  }

  std::vector<SettingSpec> specs_;
  std::vector<Assign> assign_;
  std::vector<std::function<Status(const Config&, const LoadReport&)>> checks_;
};

}  // namespace lplex::config
