#include "go_flags.h"

namespace lplex::cli {

std::vector<std::string> NormalizeGoStyleFlags(const std::vector<std::string>& args,
                                               const std::set<std::string>& long_names) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool passthrough = false;
  for (const std::string& a : args) {
    if (passthrough || a == "--") {
      passthrough = true;
      out.push_back(a);
      continue;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name = a.substr(1, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 1);
      if (long_names.count(name) != 0) {
        out.push_back("-" + a);
        continue;
      }
    }
    out.push_back(a);
  }
  return out;
}

std::string FindFlagMisuse(const std::vector<std::string>& args, const std::map<std::string, LongOption>& options) {
  std::set<std::string> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 3 || a[0] != '-' || a[1] != '-') continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto it = options.find(name);
    if (it == options.end()) continue;  // CLI11 names unknown flags well enough
    const LongOption& opt = it->second;
    const std::string valid = opt.valid.empty() ? "" : " (valid: " + opt.valid + ")";
    if (!seen.insert(name).second) return "--" + name + " given twice (give each flag once)";
    if (!opt.takes_value) continue;
    if (eq != std::string::npos) {
      if (eq + 1 == a.size()) return "--" + name + " has no value" + valid;
      continue;
    }
    if (i + 1 == args.size()) return "--" + name + " has no value" + valid;
    ++i;  // its value, whatever it looks like
  }
  return "";
}

}  // namespace lplex::cli
