#include "journal/journal_spans.h"

#include <fmt/format.h>

#include <algorithm>

#include "journal/reader.h"
#include "journal/stored_blocks.h"

namespace lplex::journal {
namespace {

void Note(std::vector<std::string>* skipped, std::string msg) {
  if (skipped != nullptr) skipped->push_back(std::move(msg));
}

// Base seq of block n, or 0 when it cannot be read (noted).
uint64_t SeqOrZero(JournalReader& rd, uint64_t n, std::vector<std::string>* skipped) {
  Result<uint64_t> seq = rd.BlockBaseSeq(n);
  if (seq.ok()) return *seq;
  Note(skipped, seq.status().message());
  return 0;
}

}  // namespace

uint64_t JournalSpan::end_seq_bound() const {
  const uint64_t most = MaxFramesPerBlock(block_size);
  return last_base_seq > UINT64_MAX - most ? UINT64_MAX : last_base_seq + most;
}

Result<std::vector<JournalSpan>> ListJournalSpans(const std::string& dir, std::string_view prefix, FileSystem* fs,
                                                  std::vector<std::string>* skipped) {
  if (fs == nullptr) fs = FileSystem::Default();
  std::vector<JournalSpan> out;
  if (!fs->Exists(dir)) return out;
  auto entries = fs->ListDir(dir);
  if (!entries.ok()) return entries.status().WithContext(fmt::format("listing journal directory {}", dir));
  const std::string want = prefix.empty() ? std::string() : std::string(prefix) + "-";
  for (const DirEntry& e : *entries) {
    if (e.is_dir || e.name.size() <= 4 || !e.name.ends_with(".lpj")) continue;
    if (!want.empty() && !e.name.starts_with(want)) continue;
    const std::string path = JoinPath(dir, e.name);
    auto r = JournalReader::OpenPath(path, fs);
    if (!r.ok()) {
      Note(skipped, r.status().message());
      continue;
    }
    JournalReader& rd = **r;
    if (rd.version() < kVersion2) {
      Note(skipped, fmt::format("{}: journal v{} carries no seqs (left out)", path, rd.version()));
      continue;
    }
    const uint64_t count = rd.block_count();
    JournalSpan s{path, 0, 0, count, rd.block_size(), rd.compression()};
    for (uint64_t n = 0; n < count && s.first_seq == 0; ++n) s.first_seq = SeqOrZero(rd, n, skipped);
    for (uint64_t n = count; n-- > 0 && s.last_base_seq == 0;) s.last_base_seq = SeqOrZero(rd, n, skipped);
    if (s.first_seq == 0) {
      Note(skipped, count == 0 ? fmt::format("{}: no blocks (left out)", path)
                               : fmt::format("{}: no block carries a seq (every base seq is 0; left out)", path));
      continue;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const JournalSpan& a, const JournalSpan& b) {
    return a.first_seq != b.first_seq ? a.first_seq < b.first_seq : a.path < b.path;
  });
  return out;
}

std::vector<JournalSpan> SelectSpansForSeqRange(std::span<const JournalSpan> spans, uint64_t start, uint64_t end) {
  std::vector<JournalSpan> out;
  if (end <= start) return out;
  for (const JournalSpan& s : spans) {
    if (s.first_seq >= end) break;  // ascending by first seq: every later file starts later
    if (s.end_seq_bound() > start) out.push_back(s);
  }
  return out;
}

}  // namespace lplex::journal
