#include "broker/decoded_json.h"

#include "core/hex.h"
#include "pgn/decoder.h"
#include "pgn/definition.h"
#include "pgn/json_writer.h"

namespace lplex::broker {
namespace {

// lplex's registry entry of a PGN it decodes: its description (lplex keeps
// one per PGN: the unconstrained variant's, else the name-only line's, else
// the first variant's), and whether a payload is long enough for lplex's
// dispatch to read its discriminators. nullptr: lplex has no decoder for it
// (no definition, or a name-only line), so canboat's decoding applies.
struct LplexEntry {
  const char* description = nullptr;
  bool dispatch_readable = true;
};

LplexEntry LplexRegistry(uint32_t pgn_number, std::span<const uint8_t> payload) {
  const pgn::Definition* first = nullptr;
  LplexEntry e;
  for (const pgn::Definition& d : pgn::DefinitionsOf(pgn::LplexDefinitions(), pgn_number)) {
    if (d.fallback) continue;
    if (first == nullptr) first = &d;
    for (const pgn::MatchRule& r : d.Matches()) {
      if (size_t{r.bit_offset} + r.bit_length > payload.size() * 8) e.dispatch_readable = false;
    }
  }
  if (first == nullptr) return e;
  e.description = pgn::PgnDescription(pgn_number).data();  // lplex's one description of the PGN
  return e;
}

}  // namespace

ServerDecode DecodeForServer(uint32_t pgn_number, std::optional<uint16_t> manufacturer,
                             std::span<const uint8_t> payload, pgn::DecodedMessage* msg) {
  const bool ok = pgn::Decode(pgn_number, manufacturer, payload, msg);
  const pgn::Definition* def = msg->definition();
  const LplexEntry lplex = LplexRegistry(pgn_number, payload);
  ServerDecode d;
  if (def != nullptr && def->lplex) {
    if (!ok) return d;  // lplex's decoder returns an error: left out
    d.shown = true;
    d.description = lplex.description ? lplex.description : def->description;
    return d;
  }
  if (lplex.description != nullptr) {
    // lplex decodes this PGN, but none of its variants matches: its
    // dispatch returns nothing (no error), shown as null; a payload too
    // short to hold the discriminators is lplex's decode error.
    if (!lplex.dispatch_readable) return d;
    d.shown = true;
    d.null_fields = true;
    d.description = lplex.description;
    return d;
  }
  if (!ok || def == nullptr) return d;
  d.shown = true;
  d.description = def->description;
  return d;
}


void AppendServerFields(const ServerDecode& d, const pgn::DecodedMessage& msg, std::string* out) {
  if (d.null_fields) {
    out->append("null");
  } else {
    pgn::AppendFieldsJson(msg, out);  // lookups stay bare numbers on the server
  }
}

void AppendDecodedFrame(std::string_view frame_json, const ServerDecode& d, const pgn::DecodedMessage& msg,
                        std::string* out) {
  if (!d.shown || frame_json.empty() || frame_json.back() != '}') {
    out->append(frame_json);
    return;
  }
  out->append(frame_json.substr(0, frame_json.size() - 1));
  out->append(",\"decoded\":");
  AppendServerFields(d, msg, out);
  out->push_back('}');
}

bool FramePayload(std::string_view frame_json, std::vector<uint8_t>* out) {
  out->clear();
  // can::AppendFrameJson writes "data" last: ...,"data":"<hex>"}
  static constexpr std::string_view kKey = ",\"data\":\"";
  const size_t at = frame_json.rfind(kKey);
  if (at == std::string_view::npos || !frame_json.ends_with("\"}")) return false;
  const std::string_view hex = frame_json.substr(at + kKey.size(), frame_json.size() - 2 - at - kKey.size());
  Result<std::vector<uint8_t>> bytes = hex::Decode(hex);
  if (!bytes.ok()) return false;
  *out = std::move(*bytes);
  return true;
}

bool FrameDecoder::Append(std::string_view frame_json, uint8_t bus, const can::CanHeader& h,
                          std::span<const uint8_t> data, std::optional<uint16_t> manufacturer, std::string* out) {
  std::span<const uint8_t> payload = data;
  if (data.size() == 8 && pgn::NeedsJoining(h.pgn)) {
    if (joiners_.size() <= bus) joiners_.resize(size_t{bus} + 1);
    if (!joiners_[bus]) joiners_[bus] = std::make_unique<pgn::FragmentJoiner>();
    payload = joiners_[bus]->Add(h.pgn, h.source, data);
    if (payload.empty()) {  // a fragment that completes nothing yet
      out->append(frame_json);
      return false;
    }
  }
  const ServerDecode d = DecodeForServer(h.pgn, manufacturer, payload, &msg_);
  AppendDecodedFrame(frame_json, d, msg_, out);
  return d.shown;
}

}  // namespace lplex::broker
