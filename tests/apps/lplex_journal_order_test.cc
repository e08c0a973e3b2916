// The order in which `lplex dump` / `lplex verify` take a directory's files
// (spec/cloud.md P15): by first seq when every file carries seqs, so a cloud
// instance's `backfill-*` files fall where their seqs belong among its
// `nmea2k-*` files; by the time in the name otherwise.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "can/frame.h"
#include "commands.h"
#include "journal/writer.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::TempDir;

constexpr int64_t kT0 = 1'764'460'800'000'000;  // 2025-11-30T00:00:00Z

// Writes `count` frames into one file `{dir}/{prefix}-<time of the first
// frame>.lpj`, 1 ms apart from `start_us`, with seqs first_seq.. (all 0 when
// first_seq is 0: a stream without seqs). Returns the file's path.
std::string WriteJournal(const std::string& dir, const std::string& prefix, uint64_t first_seq, int count,
                         int64_t start_us) {
  journal::WriterOptions o;
  o.dir = dir;
  o.prefix = prefix;
  o.block_size = 4096;
  o.compression = journal::Compression::kNone;
  std::string path;
  o.on_rotate = [&](const journal::RotatedFile& f) { path = f.path; };
  auto w = journal::JournalWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  const std::array<uint8_t, 8> data = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < count; ++i) {
    can::Frame f;
    f.timestamp_us = start_us + int64_t{i} * 1000;
    f.header = can::CanHeader{2, 129025, 10, 0xFF};
    f.data = data;
    f.seq = first_seq == 0 ? 0 : first_seq + static_cast<uint64_t>(i);
    EXPECT_TRUE((*w)->Append(f).ok());
  }
  EXPECT_TRUE((*w)->Close().ok());
  EXPECT_FALSE(path.empty());
  return path;
}

// The files `lplex verify` reports, in its output order.
std::vector<std::string> VerifiedFiles(const std::string& dir) {
  const Captured v = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({dir}, out, err); });
  EXPECT_EQ(v.rc, 0) << v.out << v.err;
  std::vector<std::string> files;
  for (size_t at = 0; at < v.out.size();) {
    const size_t nl = v.out.find('\n', at);
    const std::string line = v.out.substr(at, nl - at);
    const size_t ok = line.find(": OK");
    if (ok != std::string::npos) files.push_back(line.substr(0, ok));
    at = nl + 1;
  }
  return files;
}

// A cloud instance directory after the boat's clock was set back 2 s (GPS
// or NTP correcting it): the boat recorded seqs 1..100 while 2 s ahead,
// the cloud got them later by backfill, into `backfill-<later time>.lpj`;
// seqs 101..200 came live into `nmea2k-<earlier time>.lpj`. By name the
// backfill file comes second; by seq it comes first.
TEST(LplexJournalOrder, VerifyOfACloudInstanceDirTakesBackfillFilesBySeqNotByName) {
  TempDir dir;
  const std::string live = WriteJournal(dir.path(), "nmea2k", 101, 100, kT0);
  const std::string backfill = WriteJournal(dir.path(), "backfill", 1, 100, kT0 + 2'000'000);
  ASSERT_NE(live.find("nmea2k-20251130T000000.000Z.lpj"), std::string::npos) << live;
  ASSERT_NE(backfill.find("backfill-20251130T000002.000Z.lpj"), std::string::npos) << backfill;
  EXPECT_EQ(VerifiedFiles(dir.path()), (std::vector<std::string>{backfill, live}));
}

// The same directory, but the live file's frames carry no seqs (recorded
// without a broker). Not every file has seqs, so the name order stays, and
// the file without seqs is not left out.
TEST(LplexJournalOrder, VerifyOfADirWithAFileWithoutSeqsKeepsNameOrder) {
  TempDir dir;
  const std::string live = WriteJournal(dir.path(), "nmea2k", 0, 100, kT0);
  const std::string backfill = WriteJournal(dir.path(), "backfill", 1, 100, kT0 + 2'000'000);
  EXPECT_EQ(VerifiedFiles(dir.path()), (std::vector<std::string>{live, backfill}));
}

// Two files that both start at seq 1 (two captures imported into one
// directory, each numbered from 1): the tie goes to the older name.
TEST(LplexJournalOrder, VerifyOfADirWhoseFilesShareTheirFirstSeqTakesOlderNameFirst) {
  TempDir dir;
  const std::string later = WriteJournal(dir.path(), "a-later", 1, 10, kT0 + 60'000'000);
  const std::string earlier = WriteJournal(dir.path(), "b-earlier", 1, 10, kT0);
  EXPECT_EQ(VerifiedFiles(dir.path()), (std::vector<std::string>{earlier, later}));
}

}  // namespace
}  // namespace lplex::cli
