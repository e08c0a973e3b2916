#include "replication/written_seqs_recovery.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "cloud/cloud_test_util.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

namespace lplex::replication {
namespace {

using Ranges = std::vector<SeqRange>;

// Writes seqs [first, last] into `dir` as one file of 4 KiB blocks
// (`prefix`), the blocks in the order given by the runs.
void WriteRuns(const std::string& dir, const std::string& prefix, const std::vector<SeqRange>& runs,
               bool finish = true) {
  journal::WriterOptions o;
  o.dir = dir;
  o.prefix = prefix;
  o.block_size = 4096;
  o.compression = journal::Compression::kZstd;
  auto w = journal::JournalWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (const SeqRange& r : runs) {
    for (uint64_t s = r.start; s < r.end; ++s) {
      ASSERT_TRUE((*w)->Append(cloud::testing::Replica(s, cloud::testing::kT0 + static_cast<int64_t>(s))).ok());
    }
  }
  if (finish) {
    ASSERT_TRUE((*w)->Close().ok());
  } else {
    ASSERT_TRUE((*w)->WriteOpenBlock().ok());  // on disk, never finished: a crashed cloud's file
    // No Close, as a kill -9 leaves it: the writer is leaked on purpose.
    static std::vector<std::unique_ptr<journal::JournalWriter>> crashed;
    crashed.push_back(std::move(*w));
  }
}

// The saved state says 1..3; the live file holds 1..10 (blocks written
// after the last save, then kill -9).
TEST(RecoverWrittenSeqs, SeqsAboveTheSavedStateAreCountedAsHeld) {
  lplex::testing::TempDir dir;
  WriteRuns(dir.path(), "nmea2k", {{1, 11}}, /*finish=*/false);
  ReplicaProgress p = ReplicaProgress::Restore(3, 3, {});
  auto r = RecoverWrittenSeqs(dir.path(), &p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs_found, 7u);
  EXPECT_EQ(p.cursor(), 10u);
  EXPECT_EQ(p.seen_through(), 10u);
  EXPECT_EQ(p.OnHandshake(20).holes, (Ranges{{11, 20}})) << "not [4, 20): 4..10 would be journaled twice";
}

// Backfill blocks written after the last save fill the saved holes.
TEST(RecoverWrittenSeqs, BackfilledSeqsInsideSavedHolesAreFilled) {
  lplex::testing::TempDir dir;
  WriteRuns(dir.path(), "nmea2k", {{1, 4}, {10, 13}});
  WriteRuns(dir.path(), "backfill", {{6, 8}, {4, 6}});  // newest first, as a boat sends
  ReplicaProgress p = ReplicaProgress::Restore(3, 12, {{4, 10}});
  auto r = RecoverWrittenSeqs(dir.path(), &p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seqs_found, 4u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{8, 10}}));
  EXPECT_EQ(p.cursor(), 7u);
}

// A gap in what the files hold above the saved state is a hole, not held.
TEST(RecoverWrittenSeqs, AGapAboveTheSavedStateBecomesAHole) {
  lplex::testing::TempDir dir;
  WriteRuns(dir.path(), "nmea2k", {{1, 6}, {9, 12}});
  ReplicaProgress p = ReplicaProgress::Restore(3, 3, {});
  ASSERT_TRUE(RecoverWrittenSeqs(dir.path(), &p).ok());
  EXPECT_EQ(p.cursor(), 5u);
  EXPECT_EQ(p.seen_through(), 11u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{6, 9}}));
}

TEST(RecoverWrittenSeqs, FilesTheStateAlreadyAccountsForChangeNothingAndDecodeNoBlock) {
  lplex::testing::TempDir dir;
  WriteRuns(dir.path(), "nmea2k", {{1, 2000}});
  ReplicaProgress p = ReplicaProgress::Restore(1999, 1999, {});
  auto r = RecoverWrittenSeqs(dir.path(), &p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seqs_found, 0u);
  // ~8 blocks of ~250 frames; a block can hold up to ~680, so only the last
  // two or three can reach past seq 1999 by their base seq alone.
  EXPECT_LE(r->blocks_read, 3u) << "only blocks that can reach past seq 1999 are decoded";
  EXPECT_EQ(p.cursor(), 1999u);
}

TEST(RecoverWrittenSeqs, MissingDirectoryHoldsNothingAndGarbageFilesAreSkippedWithTheirName) {
  lplex::testing::TempDir dir;
  ReplicaProgress p = ReplicaProgress::Restore(3, 3, {});
  auto none = RecoverWrittenSeqs(dir.path() + "/nope", &p);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->files_read, 0u);
  std::ofstream(dir.path() + "/nmea2k-garbage.lpj") << "not a journal at all";
  std::vector<std::string> skipped;
  auto r = RecoverWrittenSeqs(dir.path(), &p, nullptr, &skipped);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->files_skipped, 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("nmea2k-garbage.lpj"), std::string::npos) << skipped[0];
  EXPECT_EQ(p.cursor(), 3u);
}

}  // namespace
}  // namespace lplex::replication
