// Where a boat's sequence numbers continue after a restart (spec/cloud.md
// P2): the seq after the newest journal block, so the cloud's cursor and
// holes, keyed on seq, stay meaningful across restarts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"

namespace lplex::journal {

// A journal file and the BaseSeq of its first block that carries seqs.
struct JournalFileSeq {
  std::string path;
  uint64_t first_seq = 0;
};

// The v2 journals in `dir` whose blocks carry seqs, ordered by first seq
// (not by name: `backfill-*` sorts before `nmea2k-*` whatever it holds,
// spec/cloud.md P15); ties by path. Only `{prefix}-*.lpj` files when prefix
// is not empty. Files that cannot be opened, v1 files and files whose blocks
// all have BaseSeq 0 (a stream without seqs) are left out; each leaves a
// line in *skipped when it is not null. A missing directory is an empty
// list; an unreadable one an IOError naming it.
Result<std::vector<JournalFileSeq>> ListJournalFilesBySeq(const std::string& dir, std::string_view prefix = "",
                                                          FileSystem* fs = nullptr,
                                                          std::vector<std::string>* skipped = nullptr);

struct RecoveredSeq {
  // The seq to assign next: BaseSeq + FrameCount of the last readable block
  // of the file with the highest first seq. 1 (lplex's first seq) when no
  // block in the directory carries seqs.
  uint64_t next_seq = 1;
  std::string path;    // the file it came from; "" when none
  int64_t block = -1;  // the block it came from; -1 when none
  // Damage stepped over on the way (unreadable files, blocks that failed to
  // load), one message each, naming the file and block.
  std::vector<std::string> skipped;
};

// Recovers the next seq from the journals in `dir` (see RecoveredSeq). A
// damaged last block (a crash mid-write, a bad CRC) falls back to the
// block before it; a file none of whose blocks loads falls back to the
// file before it. Errors: only an unreadable directory (IOError naming it).
Result<RecoveredSeq> RecoverNextSeq(const std::string& dir, std::string_view prefix = "", FileSystem* fs = nullptr);

}  // namespace lplex::journal
