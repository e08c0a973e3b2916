// End-to-end tests of the lplex command: import real captures, then verify
// and dump them, checking that every reported message is in the journal.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "can/fast_packet.h"
#include "commands.h"
#include "core/hex.h"
#include "core/time.h"
#include "go_flags.h"
#include "journal/reader.h"
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
  can::Frame m;
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

  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {dir.path()}, .json = true}, out, err); });
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
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {dir.path()}, .json = true}, out, err); });
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
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {dir.path()}, .json = true}, out, err); });
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
  auto clean = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {file}, .json = true}, out, err); });
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
  auto dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump({.paths = {file}, .json = true}, out, err); });
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
  EXPECT_NE(r.err.find("--block-size 5000 is not a power of two (valid: 4096..16777216, a power of two)"),
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
  EXPECT_EQ(r.rc, 1) << "a missing capture is a data error, not a usage error";
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
    // More frames than junk lines: a mostly malformed capture would fail the import.
    for (int i = 0; i < 50; ++i) f << "(1502984866.42" << 1000 + i << ") can0 09F8027F#00FC00FF00000000\n";
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
                       "retention, tail, values, devices)"),
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

// --- Duration flags: parsed once, range-checked, never wrapped.

TEST(LplexCli, RotateDurationWhoseMicrosecondsOverflowIsOutOfRange) {
  TempDir dir;
  for (const std::string d : {"P99999999999D", "P106751992D", "P213503982D", "PT9223372036855S", "P3651D"}) {
    auto r = Lplex({"import", kCaptures + "candumpSample3.txt", "--out", dir.path(), "--rotate-duration", d});
    EXPECT_EQ(r.rc, 2) << d;
    EXPECT_EQ(r.err, "lplex import: --rotate-duration " + d + " out of range (valid: PT1S..P3650D)\n") << d;
  }
  EXPECT_TRUE(NothingWritten(dir.path()));
  // The bound itself is fine.
  auto r = Lplex({"import", kCaptures + "candumpSample3.txt", "--out", dir.path(), "--rotate-duration", "P3650D"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(LplexCli, RotateDurationZeroIsRefusedWithAReason) {
  TempDir dir;
  for (const std::string d : {"P0D", "PT0S"}) {
    auto r = Lplex({"import", kCaptures + "candumpSample3.txt", "--out", dir.path(), "--rotate-duration", d});
    EXPECT_EQ(r.rc, 2) << d;
    EXPECT_NE(r.err.find("--rotate-duration " + d + ": zero is no rotation period; leave --rotate-duration out for "
                         "no time-based rotation (valid: PT1S..P3650D)"),
              std::string::npos) << r.err;
  }
  EXPECT_TRUE(NothingWritten(dir.path()));
  auto help = Lplex({"import", "--help"});
  EXPECT_NE(help.out.find("PT1S..P3650D"), std::string::npos) << help.out;
}

TEST(LplexCli, RotateDurationInRangeStillRotates) {
  // can0-1.pcap's clock steps back 13.9 days at record 973: a one-day
  // rotation cuts it into several files.
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "can0-1.pcap", "--out", dir.path(), "--rotate-duration", "P1D"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_GT(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1) << r.out;
}

// --- A --format that does not match the file.

TEST(LplexCli, ImportWithWrongFormatFailsAndNamesTheRealFormat) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "can0-1.pcap", "--format", "candump", "--out", dir.path()});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("can0-1.pcap: no record matched candump (6277 malformed lines/records skipped; the first, "
                       "line 1: "),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the file looks like pcap: try --format pcap"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("skipped /"), std::string::npos) << "no 20 lines of skipped garbage: " << r.err;
  EXPECT_TRUE(NothingWritten(dir.path()));

  r = Lplex({"import", kCaptures + "candumpSample3.txt", "--format", "ydraw", "--base-time", "2020-01-01T00:00:00Z",
             "--out", dir.path()});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("no record matched ydraw"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("looks like candump -l: try --format candump"), std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(dir.path()));
}

TEST(LplexCli, MostlyMalformedCaptureFailsAfterImportingWhatParsed) {
  TempDir dir;
  const std::string file = dir.Sub("mostly-junk.log");
  {
    std::ofstream f(file);
    f << "(1502984866.421964) can0 09F8027F#00FC00FF00000000\n";
    for (int i = 0; i < 3; ++i) f << "(1502984866.5) can0 not-a-frame\n";
  }
  auto r = Lplex({"import", file, "--out", dir.Sub("out")});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("mostly-junk.log: 3 malformed lines/records but only 1 frame read as candump"),
            std::string::npos) << r.err;
  EXPECT_NE(r.out.find("messages out:     1 "), std::string::npos) << r.out;
  EXPECT_FALSE(NothingWritten(dir.Sub("out")));
}

// --- Exit codes: 2 for the command line, 1 for data and I/O.

TEST(LplexCli, ImportDataAndIoErrorsExit1UsageErrorsExit2) {
  TempDir dir;
  const std::string garbage = dir.Sub("garbage.bin");
  std::ofstream(garbage) << std::string("\x01\x02\x03 not a capture at all \xff\xfe\n", 28);
  struct Case {
    std::vector<std::string> args;
    int rc;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"import", kCaptures + "candump-fast.txt", "--out", "/proc/lplex-no-such/out"}, 1, "cannot create --out"},
           {{"import", dir.Sub("missing.pcap"), "--out", dir.Sub("o")}, 1, "missing.pcap"},
           {{"import", garbage, "--out", dir.Sub("o")}, 1, "not a recognised capture"},
           {{"import", kCaptures + "candumpSample1.txt", "--out", dir.Sub("o")}, 2, "give --base-time"},
           {{"import", kCaptures + "candump-fast.txt", "--out", dir.Sub("o"), "--compression", "lz4"}, 2, "lz4"},
       }) {
    auto r = Lplex(c.args);
    EXPECT_EQ(r.rc, c.rc) << ::testing::PrintToString(c.args) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_TRUE(NothingWritten(dir.Sub("o")));
}

// Copies can0-1.pcap with record `n`'s length set to 2^31 - 1: the reader
// stops there with a Corruption.
std::string PcapBrokenAtRecord(const TempDir& dir, uint64_t n) {
  std::ifstream in(kCaptures + "can0-1.pcap", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t off = 24;
  for (uint64_t i = 1; i < n; ++i) {
    uint32_t incl = 0;
    std::memcpy(&incl, bytes.data() + off + 8, 4);  // this capture is little-endian
    off += 16 + incl;
  }
  const uint32_t bad = 0x7FFFFFFF;
  std::memcpy(bytes.data() + off + 8, &bad, 4);
  const std::string path = dir.Sub("broken.pcap");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(LplexCli, PcapBrokenPartWayKeepsEarlierFramesAndPrintsSummary) {
  TempDir dir;
  const std::string broken = PcapBrokenAtRecord(dir, 15001);
  const std::string out = dir.Sub("out");
  auto r = Lplex({"import", broken, "--out", out});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("pcap record 15001"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("frames in:        15000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result:           failed: corruption:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote "), std::string::npos) << r.out;
  // The journal is finished: it verifies, with its index.
  auto ver = Capture([&](std::FILE* o, std::FILE* e) { return RunVerify({out}, o, e); });
  EXPECT_EQ(ver.rc, 0) << ver.out << ver.err;
  auto reader = journal::JournalReader::OpenPath(fs::directory_iterator(out)->path().string());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->has_block_index());
}

// --- Re-running an import.

TEST(LplexCli, ImportRefusesOutDirHoldingJournalsOfTheSameTimeSpan) {
  TempDir dir;
  auto first = Lplex({"import", kCaptures + "can0-1.pcap", "--out", dir.path()});
  ASSERT_EQ(first.rc, 0) << first.err;
  const std::string existing = fs::directory_iterator(dir.path())->path().string();
  auto again = Lplex({"import", kCaptures + "can0-1.pcap", "--out", dir.path()});
  EXPECT_EQ(again.rc, 2);
  EXPECT_NE(again.err.find("already holds 1 journal named inside the time span of " + kCaptures + "can0-1.pcap"),
            std::string::npos) << again.err;
  EXPECT_NE(again.err.find(existing), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("give --append to import anyway"), std::string::npos) << again.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  // A capture of another time goes into the same directory without a word.
  auto other = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path()});
  EXPECT_EQ(other.rc, 0) << other.err;
  // --append is the way to do it on purpose.
  auto append = Lplex({"import", kCaptures + "can0-1.pcap", "--out", dir.path(), "--append"});
  EXPECT_EQ(append.rc, 0) << append.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 3);
}

// --- SIGINT / SIGTERM.

// Runs the lplex binary with stdout on a pipe and stderr into `err_path`.
struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child Spawn(const std::vector<std::string>& args, const std::string& err_path) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = args;
  all.insert(all.begin(), kLplex);
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, kLplex.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  c.out_fd = fds[0];
  return c;
}

TEST(LplexCli, SigtermDuringImportFinishesTheOpenFileAndPrintsTheSummary) {
  TempDir dir;
  const std::string out = dir.Sub("out");
  // Hundreds of copies of one capture: seconds of work; files every 4 MB.
  std::vector<std::string> args = {"import", "--out", out, "--append", "--rotate-size", "4000000"};
  for (int i = 0; i < 400; ++i) args.push_back(kCaptures + "can0-2.pcap");
  Child c = Spawn(args, dir.Sub("stderr.txt"));
  ASSERT_GT(c.pid, 0);
  // Wait for the first finished file: the handler is in place by then.
  std::string stdout_text;
  char buf[4096];
  while (stdout_text.find("wrote ") == std::string::npos) {
    const ssize_t n = ::read(c.out_fd, buf, sizeof buf);
    ASSERT_GT(n, 0) << "lplex ended before writing a file";
    stdout_text.append(buf, static_cast<size_t>(n));
  }
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  for (ssize_t n; (n = ::read(c.out_fd, buf, sizeof buf)) > 0;) stdout_text.append(buf, static_cast<size_t>(n));
  ::close(c.out_fd);
  int status = 0;
  ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
  std::ifstream err_file(dir.Sub("stderr.txt"));
  const std::string err((std::istreambuf_iterator<char>(err_file)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << err;
  EXPECT_NE(err.find("interrupted by SIGTERM"), std::string::npos) << err;
  EXPECT_NE(stdout_text.find("result:           interrupted by SIGTERM"), std::string::npos) << stdout_text;
  EXPECT_NE(stdout_text.find("frames in:"), std::string::npos) << stdout_text;
  // The last file named on stdout is the one that was open: it has its index.
  const size_t last = stdout_text.rfind("wrote ");
  const std::string last_file = stdout_text.substr(last + 6, stdout_text.find('\n', last) - last - 6);
  auto reader = journal::JournalReader::OpenPath(last_file);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->has_block_index()) << last_file;
  // And everything written verifies.
  auto ver = Capture([&](std::FILE* o, std::FILE* e) { return RunVerify({out}, o, e); });
  EXPECT_EQ(ver.rc, 0) << ver.out << ver.err;
}

// --- Flag nits.

TEST(LplexCli, BlockSizeInRangeButNotPowerOfTwoSaysSo) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "4097"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "lplex import: --block-size 4097 is not a power of two (valid: 4096..16777216, a power of two)\n");
}

TEST(LplexCli, EmptyFlagValueNamesFlagAndRange) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size="});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex import: --block-size has no value (valid: 4096..16777216, a power of two)"),
            std::string::npos) << r.err;
  r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "-rotate-duration="});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--rotate-duration has no value (valid: PT1S..P3650D)"), std::string::npos) << r.err;
  EXPECT_TRUE(NothingWritten(dir.path()));
}

TEST(LplexCli, RepeatedFlagIsNamed) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--block-size", "4096",
                  "-block-size=8192"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("lplex import: --block-size given twice"), std::string::npos) << r.err;
  r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--append", "--append"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--append given twice"), std::string::npos) << r.err;
  // A value that looks like a flag name is a value.
  r = Lplex({"import", kCaptures + "candump-fast.txt", "--prefix", "out", "--out", dir.path()});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(LplexCli, PrefixWithControlCharacterIsRefused) {
  TempDir dir;
  struct Case {
    std::string prefix;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{{"a\nb", "--prefix \"a\\x0Ab\": byte 0x0A at position 2 is not allowed"},
                                         {"a/b", "'/' at position 2 is not allowed"},
                                         {".hidden", "'.' at position 1 is not allowed"},
                                         {"", "--prefix is empty"}}) {
    auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--prefix", c.prefix});
    EXPECT_EQ(r.rc, 2) << c.prefix;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_TRUE(NothingWritten(dir.path()));
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path(), "--prefix", "boat-1.can0_x"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(LplexCli, BaseTimeWithSpaceSeparatorIsAccepted) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candumpSample1.txt", "--out", dir.path(), "--base-time",
                  "2017-08-17 15:00:00Z"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() + "/nmea2k-20170817T150000.000Z.lpj"));
}

TEST(LplexCli, ImportSummaryUsesSingularsAndSaysWhatDevicesCounts) {
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("devices:          1 source address, 0 with a NAME (address claim)\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("; 1 block of up to 262144 bytes)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 1 sources"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 1 blocks"), std::string::npos) << r.out;
  r = Lplex({"import", kCaptures + "can0-1.pcap", "--out", dir.Sub("pcap")});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("devices:          43 source addresses, 40 with a NAME (address claim)\n"), std::string::npos)
      << r.out;
}

TEST(LplexCli, CompressionRatioCountsBytesThatExistNotEmptyBlockSpace) {
  // 23 frames in a 256 KiB block used to report "ratio 1365.33x".
  TempDir dir;
  auto r = Lplex({"import", kCaptures + "candump-fast.txt", "--out", dir.path()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const size_t at = r.out.find("written from 1196 capture bytes (");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double ratio = std::stod(r.out.substr(at + 33));
  EXPECT_GT(ratio, 1.0) << r.out;
  EXPECT_LT(ratio, 20.0) << r.out;
}

TEST(LplexCli, HelpSaysZstdDictUsuallyMakesLargerFiles) {
  auto r = Lplex({"import", "--help"});
  EXPECT_NE(r.out.find("usually makes larger files than zstd"), std::string::npos) << r.out;
}

TEST(GoStyleFlags, MisuseIsFoundInOurWords) {
  const std::map<std::string, LongOption> options = {
      {"block-size", {true, "4096..16777216"}}, {"json", {false, ""}}, {"out", {true, ""}}};
  EXPECT_EQ(FindFlagMisuse({"import", "--block-size", "4096", "--out", "d"}, options), "");
  EXPECT_EQ(FindFlagMisuse({"import", "--block-size", "4096", "--block-size=8192"}, options),
            "--block-size given twice (give each flag once)");
  EXPECT_EQ(FindFlagMisuse({"import", "--block-size="}, options), "--block-size has no value (valid: 4096..16777216)");
  EXPECT_EQ(FindFlagMisuse({"import", "--out"}, options), "--out has no value");
  EXPECT_EQ(FindFlagMisuse({"import", "--json", "--json"}, options), "--json given twice (give each flag once)");
  EXPECT_EQ(FindFlagMisuse({"import", "--out", "--json", "--json"}, options), "");  // "--json" is --out's value
  EXPECT_EQ(FindFlagMisuse({"import", "--", "--out", "--out"}, options), "");
}

TEST(GoStyleFlags, SingleDashLongNamesBecomeDoubleDash) {
  std::set<std::string> names = {"out", "block-size", "json"};
  auto got = NormalizeGoStyleFlags({"import", "-out", "d", "-block-size=4096", "-x", "--json", "--", "-out"}, names);
  EXPECT_EQ(got, (std::vector<std::string>{"import", "--out", "d", "--block-size=4096", "-x", "--json", "--", "-out"}));
}

}  // namespace
}  // namespace lplex::cli
