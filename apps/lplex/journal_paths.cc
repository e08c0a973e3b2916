#include <algorithm>
#include <filesystem>

#include "commands.h"
#include "core/time.h"

namespace lplex::cli {

std::vector<std::string> ExpandJournalPaths(const std::vector<std::string>& paths, std::FILE* err) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      if (e.path().extension() == ".lpj") found.push_back(e.path().string());
    }
    if (ec) std::fprintf(err, "lplex: cannot list %s: %s\n", p.c_str(), ec.message().c_str());
    if (found.empty()) std::fprintf(err, "lplex: no .lpj files in %s\n", p.c_str());
    auto key = [](const std::string& path) {
      auto t = timefmt::TimeFromJournalName(fs::path(path).filename().string());
      return std::make_pair(t.value_or(INT64_MIN), path);
    };
    std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace lplex::cli
