#include "journal/seq_recovery.h"

#include <fmt/format.h>

#include <algorithm>

#include "journal/reader.h"

namespace lplex::journal {
namespace {

bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void Note(std::vector<std::string>* skipped, std::string msg) {
  if (skipped != nullptr) skipped->push_back(std::move(msg));
}

}  // namespace

Result<std::vector<JournalFileSeq>> ListJournalFilesBySeq(const std::string& dir, std::string_view prefix,
                                                          FileSystem* fs, std::vector<std::string>* skipped) {
  if (fs == nullptr) fs = FileSystem::Default();
  std::vector<JournalFileSeq> out;
  if (!fs->Exists(dir)) return out;
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return entries.status().WithContext(fmt::format("listing journal directory {}", dir));
  const std::string want_prefix = prefix.empty() ? std::string() : std::string(prefix) + "-";
  for (const DirEntry& e : *entries) {
    if (e.is_dir || !HasSuffix(e.name, ".lpj") || e.name.size() <= 4) continue;
    if (!want_prefix.empty() && e.name.compare(0, want_prefix.size(), want_prefix) != 0) continue;
    const std::string path = dir + "/" + e.name;
    auto r = JournalReader::OpenPath(path, fs);
    if (!r.ok()) {
      Note(skipped, r.status().message());
      continue;
    }
    JournalReader& rd = **r;
    if (rd.version() < kVersion2) continue;  // v1 has no seqs
    // The first block whose BaseSeq can be read and is not 0.
    for (uint64_t n = 0; n < rd.block_count(); ++n) {
      auto seq = rd.BlockBaseSeq(n);
      if (!seq.ok()) {
        Note(skipped, seq.status().message());
        continue;
      }
      if (*seq == 0) continue;
      out.push_back({path, *seq});
      break;
    }
  }
  std::sort(out.begin(), out.end(), [](const JournalFileSeq& a, const JournalFileSeq& b) {
    return a.first_seq != b.first_seq ? a.first_seq < b.first_seq : a.path < b.path;
  });
  return out;
}

Result<RecoveredSeq> RecoverNextSeq(const std::string& dir, std::string_view prefix, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  RecoveredSeq rec;
  LPLEX_ASSIGN_OR_RETURN(auto files, ListJournalFilesBySeq(dir, prefix, fs, &rec.skipped));
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    auto r = JournalReader::OpenPath(it->path, fs);
    if (!r.ok()) {
      rec.skipped.push_back(r.status().message());
      continue;
    }
    JournalReader& rd = **r;
    // Backwards from the last block to the first that loads (InspectBlock
    // applies every check: size, zstd, CRC, trailer ranges).
    for (uint64_t n = rd.block_count(); n-- > 0;) {
      auto info = rd.InspectBlock(n);
      if (!info.ok()) {
        rec.skipped.push_back(info.status().message());
        continue;
      }
      if (info->base_seq == 0) continue;  // a block without seqs
      rec.next_seq = info->base_seq + info->frame_count;
      rec.path = it->path;
      rec.block = static_cast<int64_t>(n);
      return rec;
    }
  }
  return rec;
}

}  // namespace lplex::journal
