// lplex verify: loads and checks every block of every file; lists problems.
#include <fmt/format.h>

#include "commands.h"
#include "core/file_system.h"
#include "journal/reader.h"

namespace lplex::cli {
namespace {

// Returns the number of problems found in one file.
int VerifyFile(const std::string& path, std::FILE* out) {
  auto opened = journal::JournalReader::OpenPath(path);
  if (!opened.ok()) {
    std::fprintf(out, "%s: FAIL %s\n", path.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  journal::JournalReader& r = **opened;
  std::vector<std::string> problems;
  std::vector<std::string> notes;
  uint64_t frames = 0;
  uint64_t end_of_blocks = journal::kFileHeaderSize;
  for (uint64_t n = 0; n < r.block_count(); ++n) {
    auto info = r.InspectBlock(n);
    if (!info.ok()) {
      problems.push_back(info.status().message());
      continue;
    }
    end_of_blocks = info->offset + info->stored_len;
    // Read every frame record of the block: a record that runs past the
    // device table ends the block early even though its CRC is good.
    uint32_t readable = 0;
    Status s = r.SeekBlock(n);
    while (s.ok() && r.Next() && r.current_block() == static_cast<int64_t>(n)) ++readable;
    if (readable != info->frame_count) {
      problems.push_back(fmt::format("block {} at offset {}: frame records end after {} of {} frames", n,
                                     info->offset, readable, info->frame_count));
    }
    frames += readable;
  }
  auto size = FileSystem::Default()->FileSize(path);
  if (size.ok()) {
    uint64_t expected_end = end_of_blocks;
    if (r.has_block_index()) expected_end += 8 * r.block_count() + 8;
    if (*size > expected_end && problems.empty()) {
      problems.push_back(fmt::format("truncated tail: {} bytes after the last whole block at offset {}",
                                     *size - expected_end, end_of_blocks));
    }
  }
  if (r.compression() != journal::Compression::kNone && !r.has_block_index()) {
    notes.push_back("no block index (the file was not closed, or is still being written); blocks found by scan");
  }
  if (problems.empty()) {
    std::fprintf(out, "%s: OK (%llu blocks, %llu frames)\n", path.c_str(),
                 static_cast<unsigned long long>(r.block_count()), static_cast<unsigned long long>(frames));
  } else {
    std::fprintf(out, "%s: FAIL (%zu problems)\n", path.c_str(), problems.size());
  }
  for (const auto& p : problems) std::fprintf(out, "  problem: %s\n", p.c_str());
  for (const auto& n : notes) std::fprintf(out, "  note: %s\n", n.c_str());
  return static_cast<int>(problems.size());
}

}  // namespace

int RunVerify(const std::vector<std::string>& paths, std::FILE* out, std::FILE* err) {
  std::vector<std::string> files = ExpandJournalPaths(paths, err);
  if (files.empty()) {
    std::fprintf(err, "lplex verify: no journal files given\n");
    return 2;
  }
  int bad = 0;
  for (const std::string& f : files) {
    if (VerifyFile(f, out) > 0) ++bad;
  }
  if (files.size() > 1) std::fprintf(out, "%zu files, %d with problems\n", files.size(), bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace lplex::cli
