// Fuzzes the PGN decoder with arbitrary payloads for every PGN it knows (and
// any other PGN number), and checks what a user relies on:
//  - no crash and no read outside the payload, whatever its length (the
//    payload sits at the end of its own heap block, so ASan catches an
//    overread of even one byte);
//  - the decoded fields always write as valid JSON, in both JSON styles;
//  - the StreamDecoder, fed the payload as 8-byte fragments, does the same.
//
// Input: a 6-byte header, then the payload (0..2000 bytes).
//   byte 0: bits 0-1 how the PGN is chosen: 0 = definition index into
//           CanboatDefinitions(), 1 = index into LplexDefinitions(), 2 and 3 =
//           the PGN number itself (any value); bit 2: the sender's
//           manufacturer is known (bytes 4-5); bit 3: also feed the payload
//           to a StreamDecoder as 8-byte fragments.
//   bytes 1-3: the index or PGN, 24 bits little-endian.
//   bytes 4-5: manufacturer code, 11 bits little-endian.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pgn/decoder.h"
#include "pgn/definition.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"

using namespace lplex::pgn;

namespace {

constexpr size_t kHeader = 6;
constexpr size_t kMaxPayload = 2000;

void CheckJson(const DecodedMessage& msg) {
  for (bool wrap : {false, true}) {
    std::string out;
    AppendFieldsJson(msg, &out, JsonStyle{.wrap_lookups = wrap});
    if (!nlohmann::json::accept(out)) {
      std::fprintf(stderr, "pgn_decode_fuzz: invalid JSON for %s: %s\n",
                   msg.definition() != nullptr ? msg.definition()->id : "?", out.c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kHeader) return 0;
  const uint8_t mode = data[0];
  const uint32_t selector = data[1] | data[2] << 8 | data[3] << 16;
  std::optional<uint16_t> manufacturer;
  if (mode & 4) manufacturer = static_cast<uint16_t>((data[4] | data[5] << 8) & 0x7FF);

  uint32_t pgn = selector;
  const auto canboat = CanboatDefinitions();
  const auto lplex = LplexDefinitions();
  if ((mode & 3) == 0 && !canboat.empty()) pgn = canboat[selector % canboat.size()].pgn;
  if ((mode & 3) == 1 && !lplex.empty()) pgn = lplex[selector % lplex.size()].pgn;

  // An exact-size copy: the last payload byte is the last byte of the block.
  const size_t length = std::min(size - kHeader, kMaxPayload);
  std::vector<uint8_t> payload(data + kHeader, data + kHeader + length);
  const std::span<const uint8_t> bytes(payload);

  DecodedMessage msg;
  for (Profile profile : {Profile::kLplexFirst, Profile::kCanboat}) {
    const bool ok = Decode(pgn, manufacturer, bytes, &msg, profile);
    if (ok && msg.definition() == nullptr) std::abort();
    if (msg.definition() != nullptr) CheckJson(msg);
    (void)msg.TopLevel("sid");
  }
  for (auto table : {canboat, lplex}) {
    for (const Definition& def : DefinitionsOf(table, pgn)) {
      if (DecodeWith(def, bytes, &msg)) CheckJson(msg);
      if (msg.definition() != &def) std::abort();
    }
  }

  if (mode & 8) {
    StreamDecoder stream;
    for (size_t at = 0; at < length; at += 8) {
      const size_t n = std::min<size_t>(8, length - at);
      std::vector<uint8_t> fragment(payload.begin() + static_cast<std::ptrdiff_t>(at),
                                    payload.begin() + static_cast<std::ptrdiff_t>(at + n));
      if (const DecodedMessage* d = stream.Decode(pgn, static_cast<uint8_t>(selector >> 8), fragment, manufacturer)) {
        CheckJson(*d);
      }
    }
  }
  return 0;
}
