// Decoded values of the shared real captures, pinned in golden files.
//
// Every capture of ../shared/data/captures is read, reassembled and decoded
// as the server and the CLI do (lplex's definitions first, canboat's for the
// rest). tests/pgn/golden/<capture>.jsonl holds a reviewable selection: a
// summary line, then the first two distinct payloads of each (PGN, source,
// definition). Run with LPLEX_UPDATE_GOLDEN=1 to rewrite the files instead of
// comparing (tests/pgn/README.md); review the diff before committing it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture_messages.h"
#include "core/hex.h"
#include "pgn/decoder.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"

namespace lplex::pgn {
namespace {

using captures::CaptureMessage;
using captures::JoinFragments;
using captures::LoadCapture;

// Distinct payloads kept per (PGN, source, definition), and lines kept per
// (PGN, definition) over all sources: enough to review, small enough that all
// golden files together stay under ~400 KB.
constexpr int kPayloadsPerKey = 2;
constexpr int kLinesPerDefinition = 8;

const char* const kCaptures[] = {
    "can0-1.pcap",        "can0-2.pcap",          "candumpSample1.txt",        "candumpSample2.txt",
    "candumpSample3.txt", "candump-fast.txt",     "actisense-522.candump.log", "merrimac-ydwg-2020.raw",
};

struct CaptureRun {
  std::vector<std::string> lines;                 // the golden file's content, one JSON object a line
  std::map<uint32_t, uint64_t> no_definition;     // PGN -> messages no definition decodes
  std::map<uint32_t, uint64_t> catch_all;         // PGN -> messages only its range's catch-all decodes
  std::map<std::string, uint64_t> decode_errors;  // "pgn <n> (<profile>): <error>" -> messages
  uint64_t messages = 0;                          // whole messages (fragments joined)
  uint64_t decoded = 0;
  uint64_t stream_mismatches = 0;                 // StreamDecoder disagreeing with Decode on joined payloads
  std::string first_stream_mismatch;
};

std::string FieldsJson(const DecodedMessage& msg) {
  std::string out;
  AppendFieldsJson(msg, &out);
  return out;
}

std::string Quoted(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

CaptureRun Run(const std::string& capture) {
  CaptureRun run;
  const std::vector<CaptureMessage> messages = LoadCapture(capture);

  // StreamDecoder over the stream as reassembly leaves it, in lockstep with
  // Decode over the joined payloads: both must agree message for message.
  StreamDecoder stream;
  std::vector<std::string> stream_json;
  for (const auto& m : messages) {
    const DecodedMessage* d = stream.Decode(m.pgn, m.source, m.data, m.manufacturer);
    if (d != nullptr) stream_json.push_back(FieldsJson(*d));
  }

  std::map<std::tuple<uint32_t, uint8_t, std::string>, std::set<std::string>> kept;  // hex payloads
  std::map<std::pair<uint32_t, std::string>, int> lines_of;
  std::vector<std::string> body;
  DecodedMessage msg;
  DecodedMessage canboat;
  size_t stream_index = 0;
  for (const auto& j : JoinFragments(messages)) {
    const CaptureMessage& m = *j.message;
    ++run.messages;
    const bool ok = Decode(m.pgn, m.manufacturer, j.payload, &msg);
    const bool canboat_ok = Decode(m.pgn, m.manufacturer, j.payload, &canboat, Profile::kCanboat);
    if (msg.definition() == nullptr) {
      ++run.no_definition[m.pgn];
      continue;
    }
    // Only the catch-all of the PGN's range applies: the payload as hex.
    if (msg.definition()->fallback && msg.definition()->pgn != m.pgn) ++run.catch_all[m.pgn];
    if (!ok) ++run.decode_errors["pgn " + std::to_string(m.pgn) + " (lplex first): " + msg.error()];
    if (canboat.definition() != nullptr && !canboat_ok) {
      ++run.decode_errors["pgn " + std::to_string(m.pgn) + " (canboat): " + canboat.error()];
    }
    if (!ok) continue;
    ++run.decoded;
    const std::string fields = FieldsJson(msg);
    if (stream_index >= stream_json.size() || stream_json[stream_index] != fields) {
      if (run.stream_mismatches++ == 0) {
        run.first_stream_mismatch = "pgn " + std::to_string(m.pgn) + " src " + std::to_string(m.source) + " data " +
                                    hex::Encode(j.payload) + ": Decode " + fields + ", StreamDecoder " +
                                    (stream_index < stream_json.size() ? stream_json[stream_index] : "<none>");
      }
    }
    ++stream_index;

    int& lines = lines_of[{m.pgn, msg.definition()->id}];
    auto& seen = kept[{m.pgn, m.source, msg.definition()->id}];
    if (lines >= kLinesPerDefinition || static_cast<int>(seen.size()) >= kPayloadsPerKey ||
        !seen.insert(hex::Encode(j.payload)).second) {
      continue;
    }
    ++lines;
    std::string line = "{\"pgn\":" + std::to_string(m.pgn) + ",\"src\":" + std::to_string(m.source);
    if (m.manufacturer) line += ",\"mfr\":" + std::to_string(*m.manufacturer);
    line += ",\"data\":\"" + hex::Encode(j.payload) + "\",\"name\":" + Quoted(msg.definition()->id) +
            ",\"fields\":" + fields;
    // Where lplex's own definition decoded it, canboat's reading too, so the
    // golden shows both and a reviewer can hold one against the other.
    if (msg.definition()->lplex && canboat_ok) {
      line += ",\"canboat_name\":" + Quoted(canboat.definition()->id) + ",\"canboat_fields\":" + FieldsJson(canboat);
    }
    line += "}";
    body.push_back(std::move(line));
  }
  if (stream_index != stream_json.size() && run.stream_mismatches++ == 0) {
    run.first_stream_mismatch = "StreamDecoder decoded " + std::to_string(stream_json.size()) +
                                " messages, Decode over joined payloads " + std::to_string(stream_index);
  }

  nlohmann::ordered_json summary;
  summary["capture"] = capture;
  summary["messages"] = run.messages;
  summary["decoded"] = run.decoded;
  nlohmann::ordered_json none = nlohmann::ordered_json::object();
  for (const auto& [pgn, n] : run.no_definition) none[std::to_string(pgn)] = n;
  summary["no_definition"] = none;
  summary["golden_lines"] = body.size();
  run.lines.push_back(summary.dump());
  run.lines.insert(run.lines.end(), body.begin(), body.end());
  return run;
}

const CaptureRun& RunOf(const std::string& capture) {
  static std::map<std::string, CaptureRun> runs;
  auto it = runs.find(capture);
  if (it == runs.end()) it = runs.emplace(capture, Run(capture)).first;
  return it->second;
}

std::string GoldenPath(const std::string& capture) {
  return std::string(LPLEX_SOURCE_DIR) + "/tests/pgn/golden/" + capture + ".jsonl";
}

bool UpdateGolden() {
  const char* v = std::getenv("LPLEX_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

class CaptureGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(CaptureGolden, DecodedFieldsEqualTheGoldenFile) {
  const std::string capture = GetParam();
  const CaptureRun& run = RunOf(capture);
  ASSERT_GT(run.messages, 0u) << capture;
  for (const auto& line : run.lines) EXPECT_TRUE(nlohmann::json::accept(line)) << "not valid JSON: " << line;

  const std::string path = GoldenPath(capture);
  if (UpdateGolden()) {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& line : run.lines) out << line << '\n';
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    GTEST_SKIP() << "rewrote " << path << " (" << run.lines.size() << " lines); review the diff";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path << " is missing: run pgn_test with LPLEX_UPDATE_GOLDEN=1 to create it";
  std::vector<std::string> expected;
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  int differences = 0;
  for (size_t i = 0; i < std::max(expected.size(), run.lines.size()); ++i) {
    const std::string want = i < expected.size() ? expected[i] : "<end of file>";
    const std::string got = i < run.lines.size() ? run.lines[i] : "<nothing>";
    if (want != got && ++differences <= 5) {
      ADD_FAILURE() << path << ":" << i + 1 << " differs\n  golden: " << want << "\n  now:    " << got;
    }
  }
  EXPECT_EQ(differences, 0) << "lines differing from " << path
                            << " (if the change is intended: LPLEX_UPDATE_GOLDEN=1, then review the diff)";
}

TEST_P(CaptureGolden, EveryMessageOfAKnownPgnDecodesWithoutError) {
  const CaptureRun& run = RunOf(GetParam());
  for (const auto& [what, n] : run.decode_errors) ADD_FAILURE() << n << " messages failed: " << what;
  EXPECT_GT(run.decoded, 0u);
}

TEST_P(CaptureGolden, StreamDecoderJoinsFragmentsAsDecodeSeesWholePayloads) {
  const CaptureRun& run = RunOf(GetParam());
  EXPECT_EQ(run.stream_mismatches, 0u) << run.first_stream_mismatch;
}

// The PGNs of each capture that no definition of their own decodes, with
// their message counts: they fall to the catch-all of their PGN range (the
// payload as hex, as canboat's analyzer does). A PGN leaving this list (a
// new definition) or joining it (a lost one) is a change a user sees in
// `lplex dump --decode`. No message is left without any definition.
TEST_P(CaptureGolden, OnlyTheListedPgnsFallToTheCatchAllOfTheirRange) {
  const std::map<std::string, std::map<uint32_t, uint64_t>> expected = {
      // Navico (275) 130823/130847, Lowrance (140) 65293/65304, Simrad (1857)
      // 130842 with another message id: canboat has variants of these PGNs
      // for other manufacturers only. 65323: not in canboat's database.
      {"can0-1.pcap", {{65293, 1}, {65304, 8}, {65323, 2}, {130823, 33}, {130842, 11}, {130847, 29}}},
      {"can0-2.pcap", {{130823, 25}, {130842, 14}}},
      {"candumpSample1.txt", {}},
      {"candumpSample2.txt", {}},
      // Raymarine (1851) 65306/65384: 65306 is known for BEP only, 65384 and
      // the fast-packets 130916/130919 not at all.
      {"candumpSample3.txt", {{65306, 17}, {65384, 17}, {130916, 34}, {130919, 102}}},
      {"candump-fast.txt", {}},
      {"actisense-522.candump.log", {}},
      {"merrimac-ydwg-2020.raw", {{65323, 18}}},
  };
  const std::string capture = GetParam();
  EXPECT_EQ(RunOf(capture).catch_all, expected.at(capture));
  EXPECT_TRUE(RunOf(capture).no_definition.empty());
}

std::string TestName(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(SharedCaptures, CaptureGolden, ::testing::ValuesIn(kCaptures), TestName);

}  // namespace
}  // namespace lplex::pgn
