// Every definition of the pinned canboat database has a decoder: read the
// database itself (not our tables) and check each definition decodes.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pgn/decoder.h"
#include "pgn/json_writer.h"

namespace lplex::pgn {
namespace {

using nlohmann::json;

const json& Database() {
  static const json db = [] {
    std::ifstream in(LPLEX_CANBOAT_JSON);
    EXPECT_TRUE(in.good()) << "cannot open " << LPLEX_CANBOAT_JSON;
    return in.good() ? json::parse(in) : json::object();
  }();
  return db;
}

// Sets `bits` bits at `offset` of `payload` to `value` (LSB first).
void Put(std::vector<uint8_t>& payload, size_t offset, unsigned bits, uint64_t value) {
  for (unsigned i = 0; i < bits; ++i) {
    const size_t bit = offset + i;
    if (bit / 8 >= payload.size()) payload.resize(bit / 8 + 1, 0);
    if ((value >> i) & 1) {
      payload[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    } else {
      payload[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
    }
  }
}

// A payload the definition `p` must decode: zeros (counts of repeating sets
// are 0), the match fields set to their values.
std::vector<uint8_t> PayloadFor(const json& p) {
  size_t bits = 0;
  std::vector<uint8_t> payload;
  for (const auto& f : p.at("Fields")) {
    if (f.value("BitLengthVariable", false) || !f.contains("BitLength")) break;
    if (f.contains("Match")) Put(payload, bits, f.at("BitLength").get<unsigned>(), f.at("Match").get<uint64_t>());
    bits += f.at("BitLength").get<size_t>();
  }
  size_t bytes = std::max<size_t>(p.value("Length", 0), (bits + 7) / 8);
  payload.resize(std::max(bytes, payload.size()), 0);
  return payload;
}

TEST(Coverage, TablesHoldEveryDefinitionOfThePinnedDatabase) {
  const json& db = Database();
  ASSERT_TRUE(db.contains("PGNs"));
  std::set<uint32_t> pgns;
  for (const auto& p : db.at("PGNs")) pgns.insert(p.at("PGN").get<uint32_t>());
  EXPECT_EQ(CanboatDefinitions().size(), db.at("PGNs").size());
  std::set<uint32_t> ours;
  for (const Definition& d : CanboatDefinitions()) ours.insert(d.pgn);
  EXPECT_EQ(ours, pgns);
  // The figures for the pinned version.
  if (CanboatPackageVersion() == "1.11.18") {
    EXPECT_EQ(db.at("PGNs").size(), 543u);
    EXPECT_EQ(pgns.size(), 339u);
  }
}

TEST(Coverage, EveryDefinitionIsChosenForItsOwnMatchValuesAndDecodesItsFields) {
  const json& db = Database();
  ASSERT_TRUE(db.contains("PGNs"));
  std::vector<std::string> failures;
  for (const auto& p : db.at("PGNs")) {
    const uint32_t pgn = p.at("PGN").get<uint32_t>();
    const std::string id = p.at("Id").get<std::string>();
    const std::vector<uint8_t> payload = PayloadFor(p);
    DecodedMessage msg;
    if (!Decode(pgn, std::nullopt, payload, &msg, Profile::kCanboat)) {
      failures.push_back(std::to_string(pgn) + " " + id + ": no decoder");
      continue;
    }
    // Two definitions with identical match values cannot be told apart;
    // the database's earlier one wins, as in canboat.
    if (msg.definition()->id != id) {
      bool same_rules = false;
      for (const Definition& d : DefinitionsOf(CanboatDefinitions(), pgn)) {
        if (d.id == id) {
          same_rules = d.match_count == msg.definition()->match_count && p.value("Fallback", false) == false;
          for (size_t k = 0; same_rules && k < d.match_count; ++k) {
            same_rules = d.matches[k].value == msg.definition()->matches[k].value &&
                         d.matches[k].bit_offset == msg.definition()->matches[k].bit_offset;
          }
        }
      }
      if (!same_rules && !p.value("Fallback", false)) {
        failures.push_back(std::to_string(pgn) + " " + id + ": decoded as " + msg.definition()->id);
      }
      continue;
    }
    // Every named fixed field before the first variable one (or repeating
    // set) is in the output.
    const int set_start = p.value("RepeatingFieldSet1StartField", 1000);
    for (const auto& f : p.at("Fields")) {
      if (f.at("Order").get<int>() >= set_start) break;
      const std::string type = f.at("FieldType").get<std::string>();
      if (type == "RESERVED" || type == "SPARE") continue;
      if (f.contains("Condition")) continue;
      if (f.value("BitLengthVariable", false)) break;
      bool found = false;
      for (const Node& n : msg.nodes()) {
        if (n.field != nullptr && n.field->name == f.at("Name").get<std::string>()) found = true;
      }
      if (!found) failures.push_back(std::to_string(pgn) + " " + id + ": field " + f.at("Id").get<std::string>() + " missing");
    }
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " definitions fail, e.g.:\n"
                                << (failures.empty() ? "" : failures[0]) << "\n"
                                << (failures.size() > 1 ? failures[1] : "") << "\n"
                                << (failures.size() > 2 ? failures[2] : "");
}

TEST(Coverage, RandomPayloadsOfEveryDefinitionGiveValidJson) {
  std::mt19937 rng(1234);
  DecodedMessage msg;
  std::string out;
  size_t decoded = 0;
  for (const Definition& d : CanboatDefinitions()) {
    for (int round = 0; round < 20; ++round) {
      std::vector<uint8_t> payload(rng() % 224);
      for (auto& b : payload) b = static_cast<uint8_t>(rng());
      // Half the time, make the variant's match rules hold.
      if (round % 2 == 0) {
        for (const MatchRule& r : d.Matches()) Put(payload, r.bit_offset, r.bit_length, static_cast<uint64_t>(r.value));
      }
      DecodeWith(d, payload, &msg);
      out.clear();
      AppendFieldsJson(msg, &out);
      ASSERT_TRUE(json::accept(out)) << d.pgn << " " << d.id << ": " << out;
      ++decoded;
    }
  }
  EXPECT_EQ(decoded, CanboatDefinitions().size() * 20);
}

}  // namespace
}  // namespace lplex::pgn
