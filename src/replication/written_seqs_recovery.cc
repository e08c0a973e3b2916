#include "replication/written_seqs_recovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "journal/reader.h"
#include "journal/stored_blocks.h"

namespace lplex::replication {
namespace {

// The ranges where the progress holds nothing: its holes, and everything
// above seen_through.
std::vector<SeqRange> UnheldRanges(const ReplicaProgress& p) {
  std::vector<SeqRange> r = p.holes().Holes();
  r.push_back({p.seen_through() + 1, std::numeric_limits<uint64_t>::max()});
  return r;
}

bool Overlaps(const std::vector<SeqRange>& ranges, uint64_t start, uint64_t end) {
  for (const SeqRange& r : ranges) {
    if (r.start < end && start < r.end) return true;
  }
  return false;
}

}  // namespace

Result<RecoveredSeqs> RecoverWrittenSeqs(const std::string& journal_dir, ReplicaProgress* progress, FileSystem* fs,
                                         std::vector<std::string>* skipped) {
  if (fs == nullptr) fs = FileSystem::Default();
  RecoveredSeqs out;
  if (!fs->Exists(journal_dir)) return out;
  Result<std::vector<DirEntry>> list = fs->ListDir(journal_dir);
  if (!list.ok()) return list.status();
  std::vector<std::string> paths;
  for (const auto& e : *list) {
    if (!e.is_dir && e.name.size() > 4 && e.name.ends_with(".lpj")) paths.push_back(journal_dir + "/" + e.name);
  }
  std::sort(paths.begin(), paths.end());
  // Decided once, before anything is reported: what the saved state lacks.
  const std::vector<SeqRange> unheld = UnheldRanges(*progress);
  for (const std::string& path : paths) {
    Result<std::unique_ptr<journal::JournalReader>> opened = journal::JournalReader::OpenPath(path, fs);
    if (!opened.ok()) {
      ++out.files_skipped;
      if (skipped) skipped->push_back(fmt::format("{}: {}", path, opened.status().ToString()));
      continue;
    }
    journal::JournalReader& r = **opened;
    if (r.version() == journal::kVersion1) continue;  // no seqs
    ++out.files_read;
    const uint64_t per_block = journal::MaxFramesPerBlock(r.block_size());
    for (uint64_t n = 0; n < r.block_count(); ++n) {
      Result<uint64_t> base = r.BlockBaseSeq(n);
      if (!base.ok() || *base == 0) continue;
      const uint64_t bound = *base > std::numeric_limits<uint64_t>::max() - per_block
                                 ? std::numeric_limits<uint64_t>::max()
                                 : *base + per_block;
      if (!Overlaps(unheld, *base, bound)) continue;
      if (!r.SeekBlock(n).ok()) continue;  // damaged: what it held cannot be counted
      ++out.blocks_read;
      // The block's seqs are one run: base .. base + frames.
      uint64_t frames = 0;
      while (r.Next() && r.current_block() == static_cast<int64_t>(n)) ++frames;
      if (frames == 0) continue;
      const uint64_t end = *base + frames;
      for (const SeqRange& u : unheld) {
        const uint64_t s = std::max(u.start, *base);
        const uint64_t e = std::min(u.end, end);
        if (s < e) out.seqs_found += e - s;
      }
      progress->OnLiveSeqsWritten(*base, end);
    }
  }
  return out;
}

}  // namespace lplex::replication
