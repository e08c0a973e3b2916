// The journal files of a directory as seq spans: ordered by the base seq of
// their first block, never by name (spec/cloud.md P15: `backfill-*` sorts
// before `nmea2k-*` whatever seqs it holds), and chosen by seq range without
// reading the files outside it (P12: backfill of a hole opens only the files
// that can hold it, and finds blocks in them by binary search,
// StoredBlockReader::BlocksForSeqRange).
//
// Listing opens each file once to read its outer headers (JournalReader
// locates the blocks: index, or a forward scan); no block is decompressed.
// A backfill session lists once and selects per hole.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/format.h"

namespace lplex::journal {

// One v2 journal file whose blocks carry seqs.
struct JournalSpan {
  std::string path;
  uint64_t first_seq = 0;      // base seq of the first block that carries seqs (not 0)
  uint64_t last_base_seq = 0;  // base seq of the last block that carries seqs
  uint64_t block_count = 0;
  uint32_t block_size = 0;
  Compression compression = Compression::kNone;

  // One past the largest seq the file can hold, known without decompressing
  // its last block: last_base_seq + MaxFramesPerBlock(block_size)
  // (saturating). Seqs at or after it are certainly not in the file.
  uint64_t end_seq_bound() const;
};

// The journal files `{dir}/{prefix}-*.lpj` (every *.lpj when prefix is
// empty), ascending by first_seq, ties by path. Left out, each with a line
// naming the file and why in *skipped (when not null): files that cannot be
// opened, v1 files (no seqs), files without blocks and files whose blocks
// all have base seq 0 (a stream without seqs). A missing directory is an
// empty list; one that cannot be listed an IOError naming it.
Result<std::vector<JournalSpan>> ListJournalSpans(const std::string& dir, std::string_view prefix = "",
                                                  FileSystem* fs = nullptr,
                                                  std::vector<std::string>* skipped = nullptr);

// The spans (from ListJournalSpans, in its order) that can hold a seq in
// [start, end) (end exclusive, as the protocol's SeqRange): first_seq < end
// and end_seq_bound() > start. Nothing when end <= start. Reads nothing;
// the files are not opened.
std::vector<JournalSpan> SelectSpansForSeqRange(std::span<const JournalSpan> spans, uint64_t start, uint64_t end);

}  // namespace lplex::journal
