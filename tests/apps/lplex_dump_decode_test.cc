// lplex dump --decode, --where, the frame filters, --start/--end and --speed
// on a journal imported from a real capture (issue 9).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "can/iso_name.h"
#include "commands.h"
#include "tail_command.h"
#include "core/time.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::Capture;
using lplex::testing::Captured;
using lplex::testing::TempDir;
using nlohmann::json;

const std::string kCaptures = std::string(LPLEX_SHARED_DIR) + "/data/captures/";

// can0-1.pcap imported once for the whole suite.
class DumpDecode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ImportOptions o;
    o.captures = {kCaptures + "can0-1.pcap"};
    o.out_dir = dir_->path();
    auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
    ASSERT_EQ(imp.rc, 0) << imp.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static Captured Dump(DumpOptions o) {
    o.paths = {dir_->path()};
    o.json = true;
    return Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
  }
  static std::vector<json> Lines(const std::string& text) {
    std::vector<json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
  }

  static TempDir* dir_;
};
TempDir* DumpDecode::dir_ = nullptr;

TEST_F(DumpDecode, DecodeAddsLplexNamedFieldsToWindFrames) {
  DumpOptions o;
  o.decode = true;
  o.filters.pgn = {"130306"};
  const Captured c = Dump(o);
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto lines = Lines(c.out);
  ASSERT_GT(lines.size(), 100u);
  for (const json& l : lines) {
    ASSERT_EQ(l.at("pgn"), 130306);
    ASSERT_TRUE(l.contains("decoded")) << l.dump();
    const json& d = l.at("decoded");
    // lplex's keys, in lplex's order.
    std::vector<std::string> keys;
    for (auto it = d.begin(); it != d.end(); ++it) keys.push_back(it.key());
    EXPECT_TRUE(d.contains("wind_speed") && d.contains("wind_angle")) << d.dump();
    EXPECT_TRUE(d.at("wind_reference").is_string()) << d.dump();
  }
}

TEST_F(DumpDecode, WithoutDecodeTheJsonLineIsUnchanged) {
  DumpOptions o;
  o.filters.pgn = {"130306"};
  const auto lines = Lines(Dump(o).out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].size(), 7u) << lines[0].dump();  // seq ts prio pgn src dst data
}

TEST_F(DumpDecode, WhereOnADecodedFieldPrintsOnlyMatchingFrames) {
  DumpOptions all;
  all.filters.pgn = {"130306"};
  all.decode = true;
  const auto every = Lines(Dump(all).out);
  ASSERT_GT(every.size(), 10u);
  // A threshold inside the capture's range of wind speeds.
  const double threshold = every[every.size() / 2].at("decoded").at("wind_speed").get<double>();
  size_t windy = 0;
  for (const json& l : every) {
    const json& d = l.at("decoded");
    if (d.contains("wind_speed") && d.at("wind_speed").get<double>() > threshold) ++windy;
  }
  DumpOptions o;
  o.where = "pgn == 130306 && wind_speed > " + std::to_string(threshold);
  const Captured c = Dump(o);
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto lines = Lines(c.out);
  EXPECT_EQ(lines.size(), windy);
  EXPECT_GT(windy, 0u);
  EXPECT_LT(windy, every.size());
}

TEST_F(DumpDecode, WhereOnHeaderFieldsNeedsNoDecoding) {
  DumpOptions o;
  o.where = "pgn == 129025 && src != 255";
  const Captured c = Dump(o);
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto lines = Lines(c.out);
  ASSERT_FALSE(lines.empty());
  for (const json& l : lines) {
    EXPECT_EQ(l.at("pgn"), 129025);
    EXPECT_FALSE(l.contains("decoded"));
  }
}

TEST_F(DumpDecode, InvalidWhereIsAUsageErrorThatSaysWhere) {
  DumpOptions o;
  o.where = "pgn = 5";
  const Captured c = Dump(o);
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("invalid --where expression"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("position 4"), std::string::npos) << c.err;
  EXPECT_TRUE(c.out.empty());
}

TEST_F(DumpDecode, BadFilterValueNamesTheFlagAndTheValidRange) {
  DumpOptions o;
  o.filters.instance = {"300"};
  Captured c = Dump(o);
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("--instance"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("300"), std::string::npos) << c.err;
  o = {};
  o.filters.pgn = {"x"};
  c = Dump(o);
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("--pgn"), std::string::npos) << c.err;
}

TEST_F(DumpDecode, ExcludePgnWinsOverPgn) {
  DumpOptions o;
  o.filters.pgn = {"130306", "129025"};
  o.filters.exclude_pgn = {"130306"};
  const auto lines = Lines(Dump(o).out);
  ASSERT_FALSE(lines.empty());
  for (const json& l : lines) EXPECT_EQ(l.at("pgn"), 129025);
}

TEST_F(DumpDecode, ManufacturerFilterIgnoresCaseInReplay) {
  // Pick the manufacturer of the first claimed device in the capture.
  DumpOptions claims;
  claims.filters.pgn = {"60928"};
  claims.decode = true;
  const auto lines = Lines(Dump(claims).out);
  ASSERT_FALSE(lines.empty());
  const json& d = lines[0].at("decoded");
  ASSERT_TRUE(d.contains("manufacturer_code")) << d.dump();
  const std::string code = d.at("manufacturer_code").dump();
  DumpOptions by_code;
  by_code.filters.manufacturer = {code};
  const auto coded = Lines(Dump(by_code).out);
  ASSERT_FALSE(coded.empty()) << "manufacturer " << code;
  // The same devices by name, in lower case.
  std::string name = can::ManufacturerName(static_cast<uint16_t>(std::stoi(code)));
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  DumpOptions by_name;
  by_name.filters.manufacturer = {name};
  EXPECT_EQ(Lines(Dump(by_name).out).size(), coded.size()) << name;
  DumpOptions other;
  other.filters.manufacturer = {"no such maker"};
  EXPECT_TRUE(Lines(Dump(other).out).empty());
}

TEST_F(DumpDecode, StartAndEndPrintOnlyFramesInsideTheRange) {
  const auto all = Lines(Dump(DumpOptions{}).out);
  ASSERT_GT(all.size(), 1000u);
  // Well after can0-1.pcap's own clock step (seq 565 jumps back 13.9 days and returns at 1087),
  // which the block index cannot follow.
  const int64_t t0 = *timefmt::ParseRfc3339(all[all.size() / 2].at("ts").get<std::string>());
  const int64_t t1 = t0 + 5'000'000;
  size_t inside = 0;
  for (const json& l : all) {
    const int64_t t = *timefmt::ParseRfc3339(l.at("ts").get<std::string>());
    if (t >= t0 && t <= t1) ++inside;
  }
  DumpOptions o;
  o.start = timefmt::Rfc3339Nano(t0);
  o.end = timefmt::Rfc3339Nano(t1);
  const Captured c = Dump(o);
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto lines = Lines(c.out);
  EXPECT_EQ(lines.size(), inside);
  for (const json& l : lines) {
    const int64_t t = *timefmt::ParseRfc3339(l.at("ts").get<std::string>());
    EXPECT_GE(t, t0);
    EXPECT_LE(t, t1);
  }
}

TEST_F(DumpDecode, StartAfterEndIsAUsageError) {
  DumpOptions o;
  o.start = "2026-01-02T00:00:00Z";
  o.end = "2026-01-01T00:00:00Z";
  const Captured c = Dump(o);
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("--start"), std::string::npos) << c.err;
}

TEST_F(DumpDecode, StartThatIsNotATimeIsAUsageError) {
  DumpOptions o;
  o.start = "yesterday";
  const Captured c = Dump(o);
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("\"yesterday\""), std::string::npos) << c.err;
}

TEST_F(DumpDecode, NegativeSpeedIsAUsageError) {
  DumpOptions o;
  o.speed = -1;
  EXPECT_EQ(Dump(o).rc, 2);
}

TEST_F(DumpDecode, BAndGKeyValueFragmentsAreJoinedAndDecodedWhole) {
  DumpOptions o;
  o.decode = true;
  o.filters.pgn = {"130824"};
  const auto lines = Lines(Dump(o).out);
  ASSERT_FALSE(lines.empty());
  size_t whole = 0, pairs = 0;
  for (const json& l : lines) {
    if (!l.contains("decoded")) continue;  // a fragment that does not end a transfer
    ++whole;
    const json& d = l.at("decoded");
    if (d.contains("list")) pairs += d.at("list").size();
  }
  // 6,894 fragments make 1,420 messages (research notes; golden tests pin the values).
  EXPECT_GT(whole, 1000u);
  EXPECT_LT(whole, lines.size());
  EXPECT_GT(pairs, whole);
}

TEST_F(DumpDecode, ProgressIsShownWhenAskedFor) {
  DumpOptions o;
  o.progress = DumpOptions::Progress::kAlways;
  o.decode = true;
  const Captured c = Dump(o);
  ASSERT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.err.find("frames/s"), std::string::npos) << c.err.substr(0, 300);
}

TEST_F(DumpDecode, ExcludeNameDropsTheFramesADeviceSentBeforeItsClaimToo) {
  // A source's NAME from its first address claim (the payload is the NAME, little endian).
  DumpOptions claims;
  claims.filters.pgn = {"60928"};
  const auto lines = Lines(Dump(claims).out);
  ASSERT_FALSE(lines.empty());
  const json& claim = lines.back();  // a late claim: the device talked before it
  const std::string data = claim.at("data").get<std::string>();
  std::string name;
  for (int i = 7; i >= 0; --i) name += data.substr(static_cast<size_t>(i) * 2, 2);
  const int src = claim.at("src").get<int>();
  DumpOptions all;
  size_t before = 0;
  for (const json& l : Lines(Dump(all).out)) {
    if (l.at("src") == src && l.at("seq").get<uint64_t>() < claim.at("seq").get<uint64_t>()) ++before;
  }
  ASSERT_GT(before, 0u) << "src " << src << " sent nothing before its claim";
  DumpOptions o;
  o.filters.exclude_name = {name};
  for (const json& l : Lines(Dump(o).out)) ASSERT_NE(l.at("src"), src) << l.dump();
  DumpOptions only;
  only.filters.name = {name};
  const auto mine = Lines(Dump(only).out);
  EXPECT_GT(mine.size(), before);
  for (const json& l : mine) ASSERT_EQ(l.at("src"), src) << l.dump();
}

TEST_F(DumpDecode, ChangesModePrintsASnapshotPerSourceThenOnlyChanges) {
  DumpOptions all;
  all.filters.pgn = {"127257"};
  const size_t frames = Lines(Dump(all).out).size();
  DumpOptions o;
  o.changes = true;
  o.filters.pgn = {"127257"};
  std::set<int> seen;
  size_t printed = 0;
  for (const json& l : Lines(Dump(o).out)) {
    const std::string change = l.at("change").get<std::string>();
    if (change == "idle") continue;
    ++printed;
    if (seen.insert(l.at("src").get<int>()).second) {
      EXPECT_EQ(change, "snapshot") << l.dump();
    }
  }
  EXPECT_GT(printed, seen.size());
  EXPECT_LT(printed, frames);  // attitude at the dock: only changes past the tolerances
}

TEST_F(DumpDecode, ChangesWithDecodeJoinsFragmentsThatChangeModeDoesNotPrint) {
  // A B&G 130824 transfer sent twice unchanged, then once with its second
  // frame changed: only that frame prints (a delta), and its decoded fields
  // need the unchanged, unprinted first frame in the joiner.
  TempDir dir;
  const std::string capture = dir.Sub("bandg.txt");
  std::FILE* f = std::fopen(capture.c_str(), "w");
  for (const char* line : {"c0 08 7d 99 05 41 9f 94", "c1 0e 00 ff ff ff ff ff", "c0 08 7d 99 05 41 9f 94",
                           "c1 0e 00 ff ff ff ff ff", "c0 08 7d 99 05 41 9f 94", "c1 0f 00 ff ff ff ff ff"}) {
    std::fprintf(f, "<0x1dff081b> [8] %s\n", line);
  }
  std::fclose(f);
  ImportOptions imp;
  imp.captures = {capture};
  imp.out_dir = dir.Sub("j");
  imp.base_time = "2026-01-01T00:00:00Z";
  ASSERT_EQ(Capture([&](std::FILE* out, std::FILE* err) { return RunImport(imp, out, err); }).rc, 0);
  DumpOptions o;
  o.paths = {dir.Sub("j")};
  o.json = true;
  o.changes = true;
  o.decode = true;
  const Captured c = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
  ASSERT_EQ(c.rc, 0) << c.err;
  const auto lines = Lines(c.out);
  ASSERT_FALSE(lines.empty());
  const json& last = lines.back();
  ASSERT_EQ(last.at("change"), "delta") << c.out;
  ASSERT_TRUE(last.contains("decoded")) << c.out;
  // 0x000f949f cm = 10,210.87 m to the waypoint (worked example A with the changed byte).
  EXPECT_EQ(last.at("decoded").at("list").at(0).at("value"), 10210.87) << c.out;
}

TEST_F(DumpDecode, SpeedReplayCutsALongPauseInTheRecording) {
  // Two frames an hour apart: at --speed 100 an uncut pause would take 36 s.
  TempDir dir;
  const std::string capture = dir.Sub("two.txt");
  std::FILE* f = std::fopen(capture.c_str(), "w");
  std::fputs("<0x09f80101> [8] 30 21 60 1c 58 9a 15 b7\n<0x09f80101> [8] 30 21 60 1c 58 9a 15 b8\n", f);
  std::fclose(f);
  ImportOptions imp;
  imp.captures = {capture};
  imp.out_dir = dir.Sub("j");
  imp.base_time = "2026-01-01T00:00:00Z";
  imp.frame_interval_us = 3'600'000'000;
  ASSERT_EQ(Capture([&](std::FILE* out, std::FILE* err) { return RunImport(imp, out, err); }).rc, 0);
  DumpOptions o;
  o.paths = {dir.Sub("j")};
  o.json = true;
  o.speed = 100;
  const auto t0 = std::chrono::steady_clock::now();
  const Captured c = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(c.rc, 0) << c.err;
  EXPECT_EQ(Lines(c.out).size(), 2u);
  EXPECT_LT(seconds, 10.0);  // the pause is cut to 5 s of recording: 50 ms at speed 100
}

// lplex values / devices --journal-dir: the server's JSON from a journal.
TEST_F(DumpDecode, ValuesFromAJournalDirAreTheLatestOfEachSourceAndPgn) {
  // The last 130306 seq of each source, from the dump.
  DumpOptions o;
  o.filters.pgn = {"130306"};
  std::map<int, uint64_t> last;
  for (const json& l : Lines(Dump(o).out)) last[l.at("src").get<int>()] = l.at("seq").get<uint64_t>();
  ASSERT_FALSE(last.empty());
  ValuesOptions v;
  v.journal_dir = dir_->path();
  v.decoded = true;
  v.filters.pgn = {"130306"};
  const Captured c = Capture([&](std::FILE* out, std::FILE* err) { return RunValues(v, out, err); });
  ASSERT_EQ(c.rc, 0) << c.err;
  const json groups = json::parse(c.out);
  ASSERT_EQ(groups.size(), last.size()) << c.out.substr(0, 500);
  for (const json& g : groups) {
    ASSERT_EQ(g.at("values").size(), 1u);
    const json& value = g.at("values")[0];
    EXPECT_EQ(value.at("pgn"), 130306);
    EXPECT_EQ(value.at("seq").get<uint64_t>(), last.at(g.at("src").get<int>())) << g.dump();
    EXPECT_EQ(value.at("description"), "Wind Data");
    EXPECT_TRUE(value.at("fields").contains("wind_angle")) << g.dump();
  }
}

TEST_F(DumpDecode, DevicesFromAJournalDirAreTheClaimedSources) {
  DumpOptions o;
  o.filters.pgn = {"60928"};
  std::set<int> claimed;
  for (const json& l : Lines(Dump(o).out)) claimed.insert(l.at("src").get<int>());
  ASSERT_FALSE(claimed.empty());
  DevicesOptions d;
  d.journal_dir = dir_->path();
  const Captured c = Capture([&](std::FILE* out, std::FILE* err) { return RunDevices(d, out, err); });
  ASSERT_EQ(c.rc, 0) << c.err;
  std::set<int> named;
  for (const json& dev : json::parse(c.out)) {
    if (!dev.at("name").get<std::string>().empty()) named.insert(dev.at("src").get<int>());
  }
  EXPECT_EQ(named, claimed);
}

TEST_F(DumpDecode, JournalDirThatHoldsNoJournalExits1NamingIt) {
  TempDir empty;
  DevicesOptions d;
  d.journal_dir = empty.path();
  const Captured c = Capture([&](std::FILE* out, std::FILE* err) { return RunDevices(d, out, err); });
  EXPECT_EQ(c.rc, 1);
  EXPECT_NE(c.err.find(empty.path()), std::string::npos) << c.err;
  EXPECT_TRUE(c.out.empty());
}

}  // namespace
}  // namespace lplex::cli
