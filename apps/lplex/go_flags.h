// lplex users type Go-style flags: one dash for long names ("-out DIR",
// "-block-size=4096"). CLI11 reads one dash as a short flag, so arguments are
// rewritten first.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace lplex::cli {

// Returns argv with every "-name" / "-name=value" whose name is in
// `long_names` rewritten as "--name" / "--name=value". Stops at "--";
// leaves single-letter flags, values and unknown names alone.
std::vector<std::string> NormalizeGoStyleFlags(const std::vector<std::string>& args,
                                               const std::set<std::string>& long_names);

// What FindFlagMisuse needs to know about one long option of a subcommand.
struct LongOption {
  bool takes_value = true;  // false for switches such as --json
  std::string valid;        // "4096..16777216, a power of two", or "" when not worth saying
};

// Looks through one subcommand's arguments (after NormalizeGoStyleFlags) for
// the mistakes CLI11 reports in its own terms ("At Most 1 required but
// received 2", "1 required INT missing"), and returns the first as a message
// that names the flag, or "" when there is none:
//   "--block-size given twice (give each flag once)"
//   "--block-size has no value (valid: 4096..16777216, a power of two)"
// `options` is keyed by long name without dashes. Stops at "--".
std::string FindFlagMisuse(const std::vector<std::string>& args, const std::map<std::string, LongOption>& options);

}  // namespace lplex::cli
