#include "journal_paths.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "commands.h"
#include "core/time.h"
#include "journal/journal_spans.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;

// Sort key of a journal file by the time in its name; a name without one
// counts as oldest.
std::pair<int64_t, std::string> NameTimeKey(const std::string& path) {
  auto t = timefmt::TimeFromJournalName(fs::path(path).filename().string());
  return {t.value_or(INT64_MIN), path};
}

// Sorts the .lpj files `found` of directory `dir`. When every one of them
// carries seqs, by the first seq each holds (spec/cloud.md P15: on the cloud
// `backfill-*` files sit beside `nmea2k-*` files and the names do not say
// which seqs come first); ties, e.g. two imports that both start at seq 1,
// by name time. Otherwise (v1 files, imports without seqs, a file that
// cannot be opened: ListJournalSpans leaves these out) by name time, so no
// file is dropped and seqless directories keep the order they always had.
void SortDirFiles(const std::string& dir, std::vector<std::string>* found) {
  std::map<std::string, uint64_t> first_seq;  // by file name
  auto spans = journal::ListJournalSpans(dir);
  if (spans.ok()) {
    for (const journal::JournalSpan& s : *spans) first_seq[fs::path(s.path).filename().string()] = s.first_seq;
  }
  const bool all_have_seqs = std::all_of(found->begin(), found->end(), [&](const std::string& p) {
    return first_seq.contains(fs::path(p).filename().string());
  });
  auto by_name = [](const std::string& a, const std::string& b) { return NameTimeKey(a) < NameTimeKey(b); };
  if (!all_have_seqs) {
    std::sort(found->begin(), found->end(), by_name);
    return;
  }
  auto seq_of = [&](const std::string& p) { return first_seq.at(fs::path(p).filename().string()); };
  std::sort(found->begin(), found->end(), [&](const std::string& a, const std::string& b) {
    const uint64_t sa = seq_of(a);
    const uint64_t sb = seq_of(b);
    return sa != sb ? sa < sb : by_name(a, b);
  });
}

}  // namespace

std::vector<std::string> ExpandJournalPaths(const std::vector<std::string>& paths, std::string_view command,
                                            std::FILE* err) {
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
    SortDirFiles(p, &found);
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
