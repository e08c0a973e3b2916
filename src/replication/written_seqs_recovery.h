// Recovering what an instance's journal files hold beyond its saved state.
//
// state.json is saved every few seconds while a boat streams (and every few
// backfill blocks), but blocks reach the instance's files in between. A
// cloud killed after a block write and before the next save restarts with
// a state that does not know those seqs: its handshake would list them as
// a hole, backfill would write them again, and the instance would hold
// them twice (found by killing a streaming cloud with kill -9).
//
// RecoverWrittenSeqs closes that gap the first time a cloud process touches
// an instance: it reads the seqs the files hold where the state says
// nothing is held — inside its holes and above seen_through — and reports
// them to the progress as written (ReplicaProgress::OnLiveSeqsWritten: a
// hole seq is filled, a seq above seen_through raises it, a gap before it
// becomes a hole). Only blocks whose seq range can reach those ranges are
// decoded (block base seqs come from the index or the outer headers); a
// file whose tail was cut by the crash is read up to its last whole block.
#pragma once

#include <cstdint>
#include <string>

#include "core/file_system.h"
#include "core/status.h"
#include "replication/replica_progress.h"

namespace lplex::replication {

struct RecoveredSeqs {
  uint64_t files_read = 0;    // files whose blocks were looked at
  uint64_t blocks_read = 0;   // blocks decoded
  uint64_t seqs_found = 0;    // seqs found in holes or above seen_through
  uint64_t files_skipped = 0; // files that could not be opened (logged by the caller via `skipped`)
};

// Reads every *.lpj in `journal_dir` (a missing directory holds nothing) and
// reports to `progress` the seqs found where it holds nothing. `skipped`
// (may be null) collects one line per file that could not be read and why.
// Errors: the directory cannot be listed.
Result<RecoveredSeqs> RecoverWrittenSeqs(const std::string& journal_dir, ReplicaProgress* progress,
                                         FileSystem* fs = nullptr, std::vector<std::string>* skipped = nullptr);

}  // namespace lplex::replication
