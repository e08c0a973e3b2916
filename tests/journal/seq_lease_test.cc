// SeqLease: seqs reserved on disk ahead of the broker, so a crash never leads
// to a seq being handed out twice (spec/cloud.md P2).
#include "journal/seq_lease.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "journal/seq_recovery.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

using ::testing::HasSubstr;
using lplex::testing::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(SeqLease, MissingLeaseFileReadsAsNone) {
  TempDir dir;
  auto r = ReadSeqLease(dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST(SeqLease, WrittenCeilingReadsBack) {
  TempDir dir;
  ASSERT_TRUE(WriteSeqLease(dir.path(), 123456789).ok());
  auto r = ReadSeqLease(dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->value(), 123456789u);
  EXPECT_FALSE(std::filesystem::exists(SeqLeasePath(dir.path()) + ".tmp"));
}

TEST(SeqLease, DamagedLeaseFileIsAnErrorNamingIt) {
  TempDir dir;
  for (const std::string text : {"", "garbage\n", "lplex-seq-lease v1 next=12x\n", "lplex-seq-lease v1 next=12",
                                 "lplex-seq-lease v1 next=0\n"}) {
    WriteText(SeqLeasePath(dir.path()), text);
    auto r = ReadSeqLease(dir.path());
    ASSERT_FALSE(r.ok()) << "accepted: " << text;
    EXPECT_TRUE(r.status().IsCorruption());
    EXPECT_THAT(r.status().message(), HasSubstr(SeqLeasePath(dir.path())));
    EXPECT_THAT(r.status().message(), HasSubstr("remove the file"));
  }
}

TEST(SeqLease, StaleTempFileFromACrashIsReplaced) {
  TempDir dir;
  WriteText(SeqLeasePath(dir.path()) + ".tmp", "half");
  ASSERT_TRUE(WriteSeqLease(dir.path(), 77).ok());
  EXPECT_EQ(ReadSeqLease(dir.path())->value(), 77u);
}

TEST(SeqLease, AcquireReservesAChunkBeforeTheFirstSeq) {
  TempDir dir;
  auto lease = SeqLease::Acquire({dir.path(), 1000, nullptr, nullptr}, 500);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(ReadSeqLease(dir.path())->value(), 1500u);
  EXPECT_EQ((*lease)->ceiling(), 1500u);
}

TEST(SeqLease, SeqNeverPassesTheDurableCeiling) {
  TempDir dir;
  auto lease = SeqLease::Acquire({dir.path(), 64, nullptr, nullptr}, 1);
  ASSERT_TRUE(lease.ok());
  for (uint64_t seq = 1; seq <= 10'000; ++seq) {
    // What a crash right now would find on disk must be above every seq
    // handed out so far, and above the next one once Assigned returned.
    (*lease)->Assigned(seq);
    const uint64_t on_disk = ReadSeqLease(dir.path())->value();
    ASSERT_GT(on_disk, seq + 1) << "seq " << seq;
  }
}

TEST(SeqLease, CleanReleaseStoresTheExactNextSeq) {
  TempDir dir;
  auto lease = SeqLease::Acquire({dir.path(), 65536, nullptr, nullptr}, 10);
  ASSERT_TRUE(lease.ok());
  for (uint64_t seq = 10; seq < 100; ++seq) (*lease)->Assigned(seq);
  ASSERT_TRUE((*lease)->Release(100).ok());
  EXPECT_EQ(ReadSeqLease(dir.path())->value(), 100u);
}

TEST(SeqLease, LeaseFileIsNotAJournalForSeqRecovery) {
  TempDir dir;
  ASSERT_TRUE(WriteSeqLease(dir.path(), 99999).ok());
  auto r = RecoverNextSeq(dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->next_seq, 1u);
  EXPECT_TRUE(r->skipped.empty());
}

}  // namespace
}  // namespace lplex::journal
