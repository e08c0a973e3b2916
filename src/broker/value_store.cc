#include "broker/value_store.h"

#include <algorithm>

#include <fmt/format.h>

#include "broker/decoded_json.h"
#include "broker/device_table.h"
#include "broker/json_buffer.h"
#include "can/iso_name.h"
#include "core/hex.h"
#include "core/time.h"

namespace lplex::broker {

void ValueStore::Record(uint8_t bus, uint8_t source, uint32_t pgn, int64_t ts_us, std::span<const uint8_t> data,
                        uint64_t seq) {
  const size_t i = size_t{bus} * 256 + source;
  if (slots_.size() <= i) slots_.resize((size_t{bus} + 1) * 256);
  auto& slot = slots_[i];
  if (!slot) {
    slot = std::make_unique<SourceValues>();
    slot->bus = bus;
    slot->source = source;
    ++count_;
  }
  auto& vals = slot->values;
  auto it = std::lower_bound(vals.begin(), vals.end(), pgn,
                             [](const StoredValue& v, uint32_t p) { return v.pgn < p; });
  if (it == vals.end() || it->pgn != pgn) {
    it = vals.insert(it, StoredValue{});
    it->pgn = pgn;
    it->joins = pgn::NeedsJoining(pgn);
  }
  it->timestamp_us = ts_us;
  it->seq = seq;
  it->data.assign(data.begin(), data.end());
  if (it->joins && data.size() == 8) {
    if (joiners_.size() <= bus) joiners_.resize(size_t{bus} + 1);
    if (!joiners_[bus]) joiners_[bus] = std::make_unique<pgn::FragmentJoiner>();
    const std::span<const uint8_t> whole = joiners_[bus]->Add(pgn, source, data);
    if (!whole.empty()) {
      it->whole.assign(whole.begin(), whole.end());
      it->whole_timestamp_us = ts_us;
      it->whole_seq = seq;
    }
  }
}

void ValueStore::Forget(uint8_t bus, uint8_t source) {
  const size_t i = size_t{bus} * 256 + source;
  if (i < slots_.size() && slots_[i]) {
    slots_[i].reset();
    --count_;
  }
}

std::vector<SourceValues> ValueStore::Snapshot(const FilterSpec& f, const DeviceTable& devices) const {
  std::vector<SourceValues> out;
  for (const auto& slot : slots_) {
    if (!slot) continue;
    if (!f.src.empty() && std::find(f.src.begin(), f.src.end(), slot->source) == f.src.end()) continue;
    const can::Device* d = devices.Find(slot->bus, slot->source);
    if (!f.exclude_name.empty() && d != nullptr && d->named() &&
        std::find(f.exclude_name.begin(), f.exclude_name.end(), d->name) != f.exclude_name.end()) {
      continue;
    }
    if (f.has_device_criteria() && (d == nullptr || !d->named() || !MatchesDeviceCriteria(f, d))) continue;
    SourceValues g;
    g.bus = slot->bus;
    g.source = slot->source;
    for (const auto& v : slot->values) {
      if (!f.pgn.empty() && std::find(f.pgn.begin(), f.pgn.end(), v.pgn) == f.pgn.end()) continue;
      if (std::find(f.exclude_pgn.begin(), f.exclude_pgn.end(), v.pgn) != f.exclude_pgn.end()) continue;
      g.values.push_back(v);
    }
    if (!g.values.empty()) out.push_back(std::move(g));
  }
  std::stable_sort(out.begin(), out.end(), [](const SourceValues& a, const SourceValues& b) {
    return a.source != b.source ? a.source < b.source : a.bus < b.bus;
  });
  return out;
}

namespace {

// {"name":..,"src":..,["bus":..,]"manufacturer"?,"model_id"?,"values":[
// (the caller appends the values and "]}"). `d`: the claimed device or null.
void AppendGroupHead(const SourceValues& g, const can::Device* d, std::string* out) {
  out->append("{\"name\":");
  AppendJsonString(d ? "0x" + can::NameHex(d->name) : std::string(), out);
  fmt::format_to(std::back_inserter(*out), ",\"src\":{}", g.source);
  if (g.bus != 0) fmt::format_to(std::back_inserter(*out), ",\"bus\":{}", g.bus);
  if (d) {
    out->append(",\"manufacturer\":");
    AppendJsonString(can::ManufacturerName(d->iso_name().manufacturer_code), out);
    if (!d->product.model_id.empty()) {
      out->append(",\"model_id\":");
      AppendJsonString(d->product.model_id, out);
    }
  }
  out->append(",\"values\":[");
}

}  // namespace

std::string ValuesJson(const std::vector<SourceValues>& groups, const DeviceTable& devices) {
  std::string out = "[";
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const SourceValues& g = groups[gi];
    if (gi) out.push_back(',');
    const can::Device* d = devices.Find(g.bus, g.source);
    if (d != nullptr && !d->named()) d = nullptr;
    AppendGroupHead(g, d, &out);
    for (size_t vi = 0; vi < g.values.size(); ++vi) {
      const StoredValue& v = g.values[vi];
      if (vi) out.push_back(',');
      fmt::format_to(std::back_inserter(out), "{{\"pgn\":{},\"ts\":\"", v.pgn);
      timefmt::AppendRfc3339Nano(v.timestamp_us, &out);
      out.append("\",\"data\":\"");
      hex::AppendEncoded(v.data, &out);
      fmt::format_to(std::back_inserter(out), "\",\"seq\":{}}}", v.seq);
    }
    out.append("]}");
  }
  out.push_back(']');
  return out;
}

std::vector<std::optional<can::Device>> GroupDevices(const std::vector<SourceValues>& groups,
                                                     const DeviceTable& devices) {
  std::vector<std::optional<can::Device>> out;
  out.reserve(groups.size());
  for (const SourceValues& g : groups) {
    const can::Device* d = devices.Find(g.bus, g.source);
    if (d != nullptr && d->named()) {
      out.emplace_back(*d);
    } else {
      out.emplace_back();
    }
  }
  return out;
}

std::string DecodedValuesJson(const std::vector<SourceValues>& groups,
                              const std::vector<std::optional<can::Device>>& devices) {
  std::string out = "[";
  std::string values;
  pgn::DecodedMessage msg;
  bool first_group = true;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const SourceValues& g = groups[gi];
    const can::Device* d = gi < devices.size() && devices[gi] ? &*devices[gi] : nullptr;
    std::optional<uint16_t> manufacturer;
    if (d) manufacturer = d->iso_name().manufacturer_code;
    values.clear();
    for (const StoredValue& v : g.values) {
      if (v.joins && v.data.size() == 8 && v.whole.empty()) continue;  // no complete transfer yet
      const bool joined = v.joins && v.data.size() == 8;
      const std::span<const uint8_t> payload = joined ? std::span<const uint8_t>(v.whole) : v.data;
      const ServerDecode dec = DecodeForServer(v.pgn, manufacturer, payload, &msg);
      if (!dec.shown) continue;
      if (!values.empty()) values.push_back(',');
      fmt::format_to(std::back_inserter(values), "{{\"pgn\":{},\"description\":", v.pgn);
      AppendJsonString(dec.description, &values);
      values.append(",\"ts\":\"");
      timefmt::AppendRfc3339Nano(joined ? v.whole_timestamp_us : v.timestamp_us, &values);
      fmt::format_to(std::back_inserter(values), "\",\"seq\":{},\"fields\":", joined ? v.whole_seq : v.seq);
      AppendServerFields(dec, msg, &values);
      values.push_back('}');
    }
    if (values.empty()) continue;  // lplex leaves out a source with no decodable value
    if (!first_group) out.push_back(',');
    first_group = false;
    AppendGroupHead(g, d, &out);
    out.append(values);
    out.append("]}");
  }
  out.push_back(']');
  return out;
}

}  // namespace lplex::broker
