// End-to-end tests of the lplex command: import real captures, then verify
// and dump them, checking that every reported message is in the journal.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "can/fast_packet.h"
#include "commands.h"
#include "core/hex.h"
#include "core/time.h"
#include "go_flags.h"
#include "sources/capture_reader.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;

const std::string kCaptures = std::string(LPLEX_SHARED_DIR) + "/data/captures/";
const std::string kLplex = std::string(LPLEX_BINARY_DIR) + "/apps/lplex/lplex";

using lplex::testing::Capture;
using lplex::testing::Captured;

// Runs a shell command, returning its exit status and standard output.
Captured Shell(const std::string& cmd) {
  Captured c{0, "", ""};
  std::FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
  int status = ::pclose(p);
  c.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}

uint64_t ReportedMessages(const std::string& summary) {
  auto at = summary.find("messages out:");
  EXPECT_NE(at, std::string::npos) << summary;
  return std::stoull(summary.substr(at + 13));
}

struct Expected {
  int64_t ts;
  can::CanHeader h;
  std::string hex;
};

// The messages of a capture, decoded independently of the importer.
std::vector<Expected> DecodeCapture(const std::string& path) {
  std::vector<Expected> out;
  auto r = sources::CaptureReader::Open(path, {});
  EXPECT_TRUE(r.ok());
  can::FastPacketAssembler fp;
  can::RawFrame raw;
  can::Message m;
  while ((*r)->Next(&raw)) {
    if (raw.extended && fp.Process(raw, &m)) out.push_back({m.timestamp_us, m.header, hex::Encode(m.data)});
  }
  return out;
}

TEST(LplexCli, ImportVerifyDumpRoundTripOfPcapCapture) {
  TempDir dir;
  ImportOptions o;
  o.captures = {kCaptures + "can0-1.pcap"};
  o.out_dir = dir.path();
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  ASSERT_EQ(imp.rc, 0) << imp.err;
  const uint64_t reported = ReportedMessages(imp.out);
  ASSERT_GT(reported, 30000u);

  auto ver = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({dir.path()}, out, err); });
  EXPECT_EQ(ver.rc, 0) << ver.out << ver.err;
  EXPECT_NE(ver.out.find(": OK"), std::string::npos);

  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{dir.path()}, true}, out, err); });
  ASSERT_EQ(dump.rc, 0) << dump.err;
  std::vector<Expected> want = DecodeCapture(kCaptures + "can0-1.pcap");
  ASSERT_EQ(want.size(), reported);

  std::istringstream lines(dump.out);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, want.size());
    auto j = nlohmann::json::parse(line);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    if (i == 0) {
      // nlohmann sorts keys; check the literal order in the text instead.
      EXPECT_EQ(line.find("{\"seq\":"), 0u) << line;
      EXPECT_LT(line.find("\"ts\""), line.find("\"prio\""));
      EXPECT_LT(line.find("\"dst\""), line.find("\"data\""));
    }
    EXPECT_EQ(j["seq"].get<uint64_t>(), i + 1);
    EXPECT_EQ(timefmt::ParseRfc3339(j["ts"].get<std::string>()).value_or(-1), want[i].ts) << line;
    EXPECT_EQ(j["pgn"].get<uint32_t>(), want[i].h.pgn) << line;
    EXPECT_EQ(j["src"].get<int>(), want[i].h.source) << line;
    EXPECT_EQ(j["dst"].get<int>(), want[i].h.destination) << line;
    EXPECT_EQ(j["prio"].get<int>(), want[i].h.priority) << line;
    EXPECT_EQ(j["data"].get<std::string>(), want[i].hex) << line;
    ++i;
  }
  EXPECT_EQ(i, reported);
}

TEST(LplexCli, CaptureWithoutTimestampsNeedsBaseTime) {
  TempDir dir;
  ImportOptions o;
  o.captures = {kCaptures + "candumpSample1.txt"};
  o.out_dir = dir.path();
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_NE(imp.rc, 0);
  EXPECT_NE(imp.err.find("--base-time"), std::string::npos) << imp.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));

  o.base_time = "2017-08-17T15:00:00Z";
  imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  ASSERT_EQ(imp.rc, 0) << imp.err;
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{dir.path()}, true}, out, err); });
  ASSERT_EQ(dump.rc, 0);
  auto first = nlohmann::json::parse(dump.out.substr(0, dump.out.find('\n')));
  EXPECT_EQ(first["ts"], "2017-08-17T15:00:00Z");
}

TEST(LplexCli, YachtDevicesCaptureTakesDateFromBaseTime) {
  TempDir dir;
  ImportOptions o;
  o.captures = {kCaptures + "merrimac-ydwg-2020.raw"};
  o.out_dir = dir.path();
  o.base_time = "2020-07-04T00:00:00Z";
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  ASSERT_EQ(imp.rc, 0) << imp.err;
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{dir.path()}, true}, out, err); });
  auto first = nlohmann::json::parse(dump.out.substr(0, dump.out.find('\n')));
  EXPECT_EQ(first["ts"].get<std::string>().substr(0, 11), "2020-07-04T");
  EXPECT_EQ(ReportedMessages(imp.out), static_cast<uint64_t>(std::count(dump.out.begin(), dump.out.end(), '\n')));
}

TEST(LplexCli, BadOptionsNameTheValue) {
  TempDir dir;
  ImportOptions o;
  o.captures = {kCaptures + "can0-1.pcap"};
  o.out_dir = dir.path();
  o.compression = "lz4";
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_NE(imp.rc, 0);
  EXPECT_NE(imp.err.find("lz4"), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("zstd-dict"), std::string::npos) << imp.err;
  o.compression = "zstd";
  o.block_size = 5000;
  imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_NE(imp.err.find("5000"), std::string::npos) << imp.err;
  o.block_size = 4096;
  o.rotate_duration = "1h";
  imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_NE(imp.err.find("\"1h\""), std::string::npos) << imp.err;
}

TEST(LplexCli, VerifyReportsCorruptBlockAndDumpContinues) {
  TempDir dir;
  ImportOptions o;
  o.captures = {kCaptures + "can0-1.pcap"};
  o.out_dir = dir.path();
  o.block_size = 65536;
  ASSERT_EQ(Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); }).rc, 0);
  std::string file = fs::directory_iterator(dir.path())->path().string();
  auto clean = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{file}, true}, out, err); });
  const auto clean_lines = std::count(clean.out.begin(), clean.out.end(), '\n');
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16 + 20 + 200);  // inside block 0's zstd payload
    f.put(0x00).put(0x01).put(0x02);
  }
  auto ver = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({file}, out, err); });
  EXPECT_EQ(ver.rc, 1);
  EXPECT_NE(ver.out.find("FAIL"), std::string::npos) << ver.out;
  EXPECT_NE(ver.out.find("block 0"), std::string::npos) << ver.out;
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({{file}, true}, out, err); });
  EXPECT_EQ(dump.rc, 1);
  EXPECT_NE(dump.err.find("skipping the block"), std::string::npos) << dump.err;
  const auto lines = std::count(dump.out.begin(), dump.out.end(), '\n');
  EXPECT_GT(lines, 0);
  EXPECT_LT(lines, clean_lines);
}

TEST(LplexCli, BinaryAcceptsGoStyleFlags) {
  TempDir dir;
  auto imp = Shell(kLplex + " import " + kCaptures + "can0-2.pcap -out " + dir.path() + " -block-size=65536 -compression zstd-dict");
  ASSERT_EQ(imp.rc, 0) << imp.out;
  auto ver = Shell(kLplex + " verify " + dir.path());
  EXPECT_EQ(ver.rc, 0) << ver.out;
  auto insp = Shell(kLplex + " inspect " + fs::directory_iterator(dir.path())->path().string());
  EXPECT_EQ(insp.rc, 0) << insp.out;
  EXPECT_NE(insp.out.find("zstd-dict"), std::string::npos);
  EXPECT_NE(insp.out.find("block size:   65536"), std::string::npos) << insp.out;
  auto bad = Shell(kLplex + " import -out " + dir.path());
  EXPECT_NE(bad.rc, 0);
}

// Runs a whole lplex command line in-process, as main() does.
Captured Lplex(std::vector<std::string> args) {
  args.insert(args.begin(), "lplex");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return Capture([&](std::FILE* out, std::FILE* err) {
    return RunMain(static_cast<int>(argv.size()), argv.data(), out, err);
  });
}

bool NothingWritten(const std::string& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

// --- Numeric flags: every one range-checked, the error names flag, value and range.

TEST(LplexCli, ImportRejectsNegativeRotateSize) {
  TempDir dir;
  const std::string out = dir.Sub("out");
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", out, "--rotate-size", "-1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex import: --rotate-size -1 out of range (valid: 0..4611686018427387904)"),
            std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(out));
  // The Go-style spelling goes through the same check.
  r = Lplex({"import", kCaptures + "candump-fast.txt", "-out", out, "-rotate-size=-1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--rotate-size -1 out of range"), std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(out));
}

TEST(LplexCli, ImportRejectsRotateSizeAbove64Bits) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--rotate-size",
                  "18446744073709551616"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--rotate-size 18446744073709551616 out of range (valid: 0..4611686018427387904)"),
            std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(dir.path()));
}

TEST(LplexCli, ImportRejectsFrameIntervalThatOverflowsTime) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candumpSample1.txt", "--out", dir.path(), "--base-time",
                  "2017-08-17T15:00:00Z", "--frame-interval-us", "9223372036854775807"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--frame-interval-us 9223372036854775807 out of range (valid: 0..3600000000)"),
            std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(dir.path()));
  r = Lplex({"import", kCaptures + "candumpSample1.txt", "--out", dir.path(), "--base-time",
             "2017-08-17T15:00:00Z", "--frame-interval-us", "-1000"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--frame-interval-us -1000 out of range"), std::string::npos) << r.err;
}

TEST(LplexCli, ImportRejectsBlockSizeAbove16MiB) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "2147483648"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "lplex import: --block-size 2147483648 out of range (valid: 4096..16777216, a power of two)\n");
  EXPECT_TRUE(NothingWritten(dir.path()));
  r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "33554432"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--block-size 33554432 out of range"), std::string::npos) << r.err;
  // In-process callers get the same check.
  ImportOptions o;
  o.captures = {kCaptures + "candump-fast.txt"};
  o.out_dir = dir.path();
  o.block_size = 2147483648u;
  auto imp = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  EXPECT_EQ(imp.rc, 2);
  EXPECT_NE(imp.err.find("--block-size 2147483648 out of range"), std::string::npos) << imp.err;
  EXPECT_TRUE(NothingWritten(dir.path()));
  // 16 MiB itself is fine.
  r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "16777216"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(LplexCli, ImportRejectsBlockSizeThatIsNotAPowerOfTwo) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "5000"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--block-size 5000 out of range (valid: 4096..16777216, a power of two)"),
            std::string::npos) << r.err;
}

TEST(LplexCli, ImportRejectsZstdLevelOutOfRange) {
  TempDir dir;
  for (const char* level : {"0", "20", "-1"}) {
    auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--zstd-level", level});
    EXPECT_EQ(r.rc, 2) << level;
    EXPECT_NE(r.err.find(std::string("--zstd-level ") + level + " out of range (valid: 1..19)"), std::string::npos)
        << r.err;
  }
  EXPECT_TRUE(NothingWritten(dir.path()));
}

TEST(LplexCli, NumericFlagThatIsNotANumberIsNamed) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--rotate-size", "10M"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--rotate-size \"10M\" is not a whole number (valid: 0..4611686018427387904)"),
            std::string::npos) << r.err;
}

TEST(LplexCli, RetentionRejectsNegativeMaxSize) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  std::ofstream(j + "/nmea2k-20260301T000000.000Z.lpj") << "x";
  auto r = Lplex({"retention", j, "--max-size", "-5"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex retention: --max-size -5 out of range (valid: 0..72057594037927936)"),
            std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(j + "/nmea2k-20260301T000000.000Z.lpj"));
}

TEST(LplexCli, RetentionRejectsSoftPctOutOfRange) {
  TempDir dir;
  auto r = Lplex({"retention", dir.path(), "--max-size", "1000", "--soft-pct", "100"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--soft-pct 100 out of range (valid: 0..99)"), std::string::npos) << r.err;
  r = Lplex({"retention", dir.path(), "--max-size", "1000", "--soft-pct", "-1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--soft-pct -1 out of range (valid: 0..99)"), std::string::npos) << r.err;
}

// --- import: inputs checked before writing, honest counts.

TEST(LplexCli, ImportChecksEveryCaptureBeforeWritingAny) {
  TempDir dir;
  const std::string out = dir.Sub("out");
  fs::create_directories(dir.Sub("a-directory"));
  // The first capture is fine; the second needs --base-time, the third does
  // not exist and the fourth is a directory.
  auto r = Lplex({"import", kCaptures + "can0-2.pcap", kCaptures + "candumpSample1.txt", dir.Sub("missing.log"),
                  dir.Sub("a-directory"), "--out", out});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(NothingWritten(out)) << "wrote " << fs::directory_iterator(out)->path();
  EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("candumpSample1.txt (candump angle-bracket) has no timestamps; give --base-time"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a-directory is a directory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing written: 3 of 4 captures"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("can0-2.pcap"), std::string::npos) << r.err;
}

TEST(LplexCli, ImportCountsIncompleteTransferAtEndOfInput) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path()});
  ASSERT_EQ(r.rc, 0) << r.err;
  // 23 frames: five transfers of four frames, and a sixth cut off after three.
  EXPECT_NE(r.out.find("frames in:        23 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("messages out:     5 (5 fast-packet transfers reassembled; 1 dropped incomplete, 3 frames "
                       "unused)"),
            std::string::npos) << r.out;
}

TEST(LplexCli, EmptyCandumpImportsNoFrames) {
  TempDir dir;
  const std::string empty = dir.Sub("empty.log");
  std::ofstream(empty).close();
  const std::string comments = dir.Sub("comments.log");
  std::ofstream(comments) << "# nothing was on the bus\n\n";
  for (const std::string format : {"candump", "ydraw"}) {
    for (const std::string& file : {empty, comments}) {
      auto r = Lplex({"import", "--format", format, file, "--out", dir.Sub("out")});
      EXPECT_EQ(r.rc, 0) << format << " " << file << ": " << r.err;
      EXPECT_EQ(r.err.find("--base-time"), std::string::npos) << r.err;
      EXPECT_NE(r.out.find("frames in:        0 "), std::string::npos) << r.out;
    }
  }
}

TEST(LplexCli, CandumpStyleSeenOnlyAtFirstFrameDecidesBaseTime) {
  // Forced format, 40 junk lines (past detection), then timed -l lines: no base time needed.
  TempDir dir;
  const std::string file = dir.Sub("late.log");
  {
    std::ofstream f(file);
    for (int i = 0; i < 40; ++i) f << "junk line " << i << "\n";
    f << "(1502984866.421964) can0 09F8027F#00FC00FF00000000\n";
  }
  auto r = Lplex({"import", "--format", "candump", file, "--out", dir.Sub("out")});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err.find("--base-time"), std::string::npos) << r.err;
}

// --- The command line itself.

TEST(LplexCli, UnknownCommandIsNamedAndExits2) {
  auto r = Lplex({"frobnicate"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex: unknown command 'frobnicate' (commands: import, dump, inspect, verify, archive, "
                       "retention)"),
            std::string::npos) << r.err;
  auto bin = Shell(kLplex + " frobnicate --json");
  EXPECT_EQ(bin.rc, 2) << bin.out;
  EXPECT_NE(bin.out.find("unknown command 'frobnicate'"), std::string::npos) << bin.out;
}

TEST(LplexCli, UsageLineStartsWithLplex) {
  auto r = Lplex({"import", "--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("Usage: lplex import [OPTIONS]"), std::string::npos) << r.out;
  r = Lplex({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("Usage: lplex [OPTIONS] SUBCOMMAND"), std::string::npos) << r.out;
  // The help shows each numeric flag's range.
  r = Lplex({"retention", "--help"});
  EXPECT_NE(r.out.find("0..99"), std::string::npos) << r.out;
}

TEST(LplexCli, CommandLineMistakesExit2) {
  TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"import", kCaptures + "candump-fast.txt"},  // no --out
           {"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--bogus"},
           {"verify"},
           {"dump", "--json"},
           {"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size"},
       }) {
    auto r = Lplex(args);
    EXPECT_EQ(r.rc, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(r.err.rfind("lplex", 0), 0u) << r.err;
  }
  auto r = Lplex({"import", kCaptures + "candump-fast.txt"});
  EXPECT_NE(r.err.find("lplex import: --out is required"), std::string::npos) << r.err;
  r = Lplex({"--version"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("0.1.0"), std::string::npos);
}

TEST(GoStyleFlags, SingleDashLongNamesBecomeDoubleDash) {
  std::set<std::string> names = {"out", "block-size", "json"};
  auto got = NormalizeGoStyleFlags({"import", "-out", "d", "-block-size=4096", "-x", "--json", "--", "-out"}, names);
  EXPECT_EQ(got, (std::vector<std::string>{"import", "--out", "d", "--block-size=4096", "-x", "--json", "--", "-out"}));
}

}  // namespace
}  // namespace lplex::cli
