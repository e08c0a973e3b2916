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

}  // namespace lplex::cli
