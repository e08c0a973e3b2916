// lplex users type Go-style flags: one dash for long names ("-out DIR",
// "-block-size=4096"). CLI11 reads one dash as a short flag, so arguments are
// rewritten first.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace lplex::cli {

// Returns argv with every "-name" / "-name=value" whose name is in
// `long_names` rewritten as "--name" / "--name=value". Stops at "--";
// leaves single-letter flags, values and unknown names alone.
std::vector<std::string> NormalizeGoStyleFlags(const std::vector<std::string>& args,
                                               const std::set<std::string>& long_names);

}  // namespace lplex::cli
