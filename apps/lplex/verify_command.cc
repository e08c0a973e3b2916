// lplex verify: reads every block and frame record of every file; lists problems.
//
// A file is OK only when nothing in it is damaged. Damage that loses no
// frame still fails it (a damaged block index, an outer header whose base
// time disagrees with its block): the data reads back, but the file is not
// what the writer wrote, and seeking or a reader without a forward scan
// could go wrong on it.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "commands.h"
#include "journal/reader.h"
#include "journal_paths.h"

namespace lplex::cli {
namespace {

// Collects the problems of one file, in the order they are found. Messages
// start with the file name, which the FAIL line already shows, so it is cut.
class ProblemList : public journal::JournalReader::Reporter {
 public:
  explicit ProblemList(std::string path) : prefix_(std::move(path) + ": ") {}
  void Corruption(uint64_t /*dropped_bytes*/, const Status& problem) override { Add(problem.message()); }
  // A problem already listed is not listed again (reading on from a block
  // that ends early can meet the next block's damage before its turn).
  void Add(std::string_view message) {
    if (message.starts_with(prefix_)) message.remove_prefix(prefix_.size());
    if (std::find(problems_.begin(), problems_.end(), message) == problems_.end()) problems_.emplace_back(message);
  }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::string prefix_;
  std::vector<std::string> problems_;
};

// Returns the number of problems found in one file.
int VerifyFile(const std::string& path, std::FILE* out) {
  ProblemList problems(path);
  auto opened = journal::JournalReader::OpenPath(path, nullptr, &problems);
  if (!opened.ok()) {
    problems.Add(opened.status().message());
    std::fprintf(out, "%s: FAIL %s\n", path.c_str(), problems.problems().back().c_str());
    return 1;
  }
  journal::JournalReader& r = **opened;
  uint64_t frames = 0;
  for (uint64_t n = 0; n < r.block_count(); ++n) {
    auto info = r.InspectBlock(n);  // loads and checks the block
    if (!info.ok()) {
      problems.Add(info.status().message());
      continue;
    }
    if (auto devices = r.BlockDevices(); !devices.ok()) problems.Add(devices.status().message());
    // Every frame record of the block: one that is cut off or malformed ends
    // the block early although its CRC is good; the reporter hears of it.
    uint32_t readable = 0;
    while (readable < info->frame_count && r.Next() && r.current_block() == static_cast<int64_t>(n)) ++readable;
    frames += readable;
  }
  std::vector<std::string> notes;
  if (r.compression() != journal::Compression::kNone && !r.has_block_index()) {
    notes.push_back(
        "blocks located by forward scan (no usable block index: the file was not closed, is still being written, "
        "or its index is damaged)");
  }
  const size_t n = problems.problems().size();
  if (n == 0) {
    std::fprintf(out, "%s: OK (%llu blocks, %llu frames)\n", path.c_str(),
                 static_cast<unsigned long long>(r.block_count()), static_cast<unsigned long long>(frames));
  } else {
    std::fprintf(out, "%s: FAIL (%zu problem%s; %llu frames readable)\n", path.c_str(), n, n == 1 ? "" : "s",
                 static_cast<unsigned long long>(frames));
  }
  for (const auto& p : problems.problems()) std::fprintf(out, "  problem: %s\n", p.c_str());
  for (const auto& note : notes) std::fprintf(out, "  note: %s\n", note.c_str());
  return static_cast<int>(n);
}

}  // namespace

int RunVerify(const std::vector<std::string>& paths, std::FILE* out, std::FILE* err) {
  std::vector<std::string> files = ExpandJournalPaths(paths, "lplex verify", err);
  if (files.empty()) {
    std::fprintf(err, "lplex verify: no journal files given\n");
    return 2;
  }
  int bad = 0;
  for (const std::string& f : files) {
    if (VerifyFile(f, out) > 0) ++bad;
    // A report nobody can read is no verification: stop at a write error.
    if (std::ferror(out)) return FinishOutput(out, "lplex verify", err, 1, errno != 0 ? errno : EIO);
  }
  if (files.size() > 1) std::fprintf(out, "%zu files, %d with problems\n", files.size(), bad);
  return FinishOutput(out, "lplex verify", err, bad == 0 ? 0 : 1);
}

}  // namespace lplex::cli
