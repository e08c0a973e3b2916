#include "journal_paths.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "commands.h"
#include "core/time.h"

namespace lplex::cli {

std::vector<std::string> ExpandJournalPaths(const std::vector<std::string>& paths, std::string_view command,
                                            std::FILE* err) {
  namespace fs = std::filesystem;
  const std::string cmd(command);
  std::vector<std::string> listed;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      listed.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      if (e.path().extension() == ".lpj") found.push_back(e.path().string());
    }
    if (ec) std::fprintf(err, "%s: cannot list %s: %s\n", cmd.c_str(), p.c_str(), ec.message().c_str());
    if (found.empty()) std::fprintf(err, "%s: no .lpj files in %s\n", cmd.c_str(), p.c_str());
    auto key = [](const std::string& path) {
      auto t = timefmt::TimeFromJournalName(fs::path(path).filename().string());
      return std::make_pair(t.value_or(INT64_MIN), path);
    };
    std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    listed.insert(listed.end(), found.begin(), found.end());
  }
  // Reading a file twice would print (or count) every frame twice. The same
  // file can hide behind different names (DIR/F and DIR//F, a symlink), so
  // files are compared by device and inode; a path that cannot be stat'ed
  // (it will fail to open with its own message) by its text.
  std::set<std::pair<dev_t, ino_t>> seen_inodes;
  std::set<std::string> seen_paths;
  std::set<std::string> warned;
  std::vector<std::string> out;
  for (const std::string& p : listed) {
    struct stat st;
    const bool fresh = ::stat(p.c_str(), &st) == 0 ? seen_inodes.insert({st.st_dev, st.st_ino}).second
                                                   : seen_paths.insert(p).second;
    if (fresh) {
      out.push_back(p);
    } else if (warned.insert(p).second) {
      std::fprintf(err, "%s: %s: given more than once; read once\n", cmd.c_str(), p.c_str());
    }
  }
  return out;
}

std::string WriteErrorReason(int saved_errno) {
  return saved_errno != 0 ? std::strerror(saved_errno) : "write error";
}

int FinishOutput(std::FILE* out, std::string_view command, std::FILE* err, int rc, int earlier_errno) {
  errno = 0;
  const bool flush_failed = std::fflush(out) != 0;
  const int saved = earlier_errno != 0 ? earlier_errno : errno;
  if (!flush_failed && !std::ferror(out) && earlier_errno == 0) return rc;
  std::fprintf(err, "%.*s: writing output: %s\n", static_cast<int>(command.size()), command.data(),
               WriteErrorReason(saved).c_str());
  return rc != 0 ? rc : 1;
}

}  // namespace lplex::cli
