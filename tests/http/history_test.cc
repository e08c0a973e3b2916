// GET /history: frames from real journal files by time range, filters and
// interval downsampling, streamed as one chunked JSON array.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_fixture.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

namespace lplex::http::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

constexpr int64_t kSec = 1'000'000;

// Writes `n` frames, one per second from kT0, alternating PGN 129025 (src 1)
// and 130306 (src 2), seqs from `first_seq`, into one file per call.
void WriteJournal(const std::string& dir, const std::string& prefix, int64_t t0, uint64_t first_seq, int n) {
  journal::WriterOptions o;
  o.dir = dir;
  o.prefix = prefix;
  auto w = journal::JournalWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < n; ++i) {
    can::Frame f;
    f.timestamp_us = t0 + i * kSec;
    f.header = can::CanHeader{.priority = 2, .pgn = i % 2 ? 130306u : 129025u, .source = uint8_t(i % 2 ? 2 : 1)};
    f.data = data;
    f.seq = first_seq + i;
    ASSERT_TRUE((*w)->Append(f).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
}

class HistoryTest : public HttpTest {
 protected:
  void LaunchWithJournal() {
    ServerOptions o;
    o.journal_dir = dir_.path();
    Launch(o);
  }
  json GetArray(const std::string& target) {
    auto r = Get(target);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    return json::parse(r.body);
  }
  lplex::testing::TempDir dir_;
};

TEST_F(HistoryTest, NoJournalConfiguredIs404) {
  Launch();
  auto r = Get("/history");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no journal configured\n");
}

TEST_F(HistoryTest, EmptyJournalIsAnEmptyArrayNeverNull) {
  LaunchWithJournal();
  EXPECT_EQ(Get("/history").body, "[]");
}

TEST_F(HistoryTest, FramesInTheRangeComeOutInTimeOrderAcrossFiles) {
  // The older file sorts after the newer one by name ("backfill" < "nmea2k"
  // would be wrong the other way round): order comes from the files' content.
  WriteJournal(dir_.path(), "zz-old", kT0, 1, 10);
  WriteJournal(dir_.path(), "aa-new", kT0 + 10 * kSec, 11, 10);
  LaunchWithJournal();
  auto all = GetArray("/history");
  ASSERT_EQ(all.size(), 20u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]["seq"], i + 1);
  // [from, to): 14:00:05 .. 14:00:12 → seqs 6..12.
  auto part = GetArray("/history?from=2026-03-02T14%3A00%3A05.000Z&to=2026-03-02T14:00:12Z");
  ASSERT_EQ(part.size(), 7u);
  EXPECT_EQ(part.front()["seq"], 6);
  EXPECT_EQ(part.back()["seq"], 12);
  EXPECT_EQ(part.front()["ts"], "2026-03-02T14:00:05Z");
}

TEST_F(HistoryTest, PgnAndSrcFiltersApply) {
  WriteJournal(dir_.path(), "nmea2k", kT0, 1, 10);
  LaunchWithJournal();
  auto p = GetArray("/history?pgn=130306");
  ASSERT_EQ(p.size(), 5u);
  for (auto& f : p) EXPECT_EQ(f["pgn"], 130306);
  auto s = GetArray("/history?src=1&src=2&exclude_pgn=130306");
  ASSERT_EQ(s.size(), 5u);
  for (auto& f : s) EXPECT_EQ(f["src"], 1);
}

TEST_F(HistoryTest, IntervalKeepsAtMostOneFramePerSourceAndPgnPerInterval) {
  WriteJournal(dir_.path(), "nmea2k", kT0, 1, 20);  // each (src, pgn) every 2 s
  LaunchWithJournal();
  auto d = GetArray("/history?interval=PT5S");
  // Per series: t = 0, 6, 12, 18 (pgn 129025) and 1, 7, 13, 19 (130306).
  ASSERT_EQ(d.size(), 8u);
  EXPECT_EQ(d[0]["seq"], 1);
  EXPECT_EQ(d[2]["seq"], 7);
}

TEST_F(HistoryTest, BadParametersAre400NamingThem) {
  LaunchWithJournal();
  auto r = Get("/history?from=yesterday");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("invalid from \"yesterday\""));
  r = Get("/history?interval=5m");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("invalid interval"));
  r = Get("/history?interval=PT0S");
  EXPECT_THAT(r.body, HasSubstr("longer than zero"));
  r = Get("/history?from=2026-03-02T15:00:00Z&to=2026-03-02T14:00:00Z");
  EXPECT_THAT(r.body, HasSubstr("from 2026-03-02T15:00:00Z is after to 2026-03-02T14:00:00Z"));
  r = Get("/history?manufacturer=Garmin");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"manufacturer\""));
  r = Get("/history?pgn=abc");
  EXPECT_EQ(r.status, 400);
}

TEST_F(HistoryTest, LargeHistoryStreamsInManyChunks) {
  WriteJournal(dir_.path(), "nmea2k", kT0, 1, 5000);
  LaunchWithJournal();
  Conn c(port_);
  ASSERT_TRUE(c.SendRequest("GET", "/history"));
  auto r = c.ReadResponse(false, std::chrono::seconds(20));
  ASSERT_TRUE(r);
  auto j = json::parse(r->body);
  EXPECT_EQ(j.size(), 5000u);
  EXPECT_GT(r->body.size(), 64u * 1024);  // more than one chunk's worth
}

}  // namespace
}  // namespace lplex::http::testing
