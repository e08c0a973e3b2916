// JournalTier: reads frames by seq from a journal directory, for consumers
// that fell behind the ring (spec/boat.md §1.6 "tiers").
//
// Files are ordered by the BaseSeq of their first block, not by name
// (cloud.md P15: `backfill-*` files sort before `nmea2k-*` by name but hold
// older seqs). v1 files (no seqs), empty files and files that cannot be
// opened are left out. A damaged block is skipped, the next one is read.
//
// Not thread-safe: one per consumer, used on the consumer's thread. Holds at
// most one open file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "journal/reader.h"
#include "journal/seq_recovery.h"

namespace lplex::broker {

class JournalTier {
 public:
  JournalTier(std::string dir, FileSystem* fs) : dir_(std::move(dir)), fs_(fs) {}

  enum class ReadResult {
    kFrame,    // *out holds the first frame with seq >= `from`, and its seq < limit
    kAtLimit,  // the first frame with seq >= `from` has seq >= limit (or seqs [from, limit) are missing)
    kEnd,      // the journal holds no frame with seq >= `from` (yet)
  };
  // The first journal frame with seq >= from. `out->data` stays valid until
  // the next call. Errors are I/O errors listing the directory.
  Result<ReadResult> Read(uint64_t from, uint64_t limit, can::Frame* out);

 private:
  Status Position(uint64_t seq);
  bool OpenFile(size_t idx);

  const std::string dir_;
  FileSystem* const fs_;
  std::vector<journal::JournalFileSeq> files_;  // journal::ListJournalFilesBySeq
  size_t idx_ = 0;
  std::unique_ptr<journal::JournalReader> reader_;
  uint64_t next_ = 0;  // the seq the open reader continues from (0 = not positioned)
};

}  // namespace lplex::broker
