#include "broker/device_table.h"

#include <fmt/format.h>

#include "broker/json_buffer.h"
#include "can/iso_name.h"
#include "core/time.h"

namespace lplex::broker {
namespace {

void AppendKeyString(std::string_view key, std::string_view value, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
  AppendJsonString(value, out);
}

}  // namespace

can::RegistryChange DeviceTable::Observe(uint8_t bus, int64_t ts_us, uint8_t source, uint32_t pgn,
                                         std::span<const uint8_t> data, int64_t rx_us) {
  if (buses_.size() <= bus) buses_.resize(size_t{bus} + 1);
  if (!buses_[bus]) buses_[bus] = std::make_unique<BusTable>();
  BusTable& t = *buses_[bus];
  const size_t before = t.registry.size();
  const can::RegistryChange change = t.registry.Observe(ts_us, source, pgn, data);
  size_ += t.registry.size() - before;
  t.discovery[source].last_rx_us = rx_us;
  return change;
}

const can::Device* DeviceTable::Find(uint8_t bus, uint8_t source) const {
  const BusTable* t = Bus(bus);
  return t ? t->registry.Find(source) : nullptr;
}

DeviceDiscovery* DeviceTable::FindDiscovery(uint8_t bus, uint8_t source) {
  if (Find(bus, source) == nullptr) return nullptr;
  return &buses_[bus]->discovery[source];
}

bool DeviceTable::Remove(uint8_t bus, uint8_t source) {
  if (buses_.size() <= bus || !buses_[bus] || !buses_[bus]->registry.Remove(source)) return false;
  buses_[bus]->discovery[source] = DeviceDiscovery{};
  --size_;
  return true;
}

void AppendDeviceJson(uint8_t bus, const can::Device& d, std::string_view type, std::string* out) {
  const can::IsoName n = d.iso_name();
  const bool named = d.named();
  out->push_back('{');
  if (!type.empty()) {
    out->append("\"type\":");
    AppendJsonString(type, out);
    out->push_back(',');
  }
  fmt::format_to(std::back_inserter(*out), "\"src\":{}", d.source);
  if (bus != 0) fmt::format_to(std::back_inserter(*out), ",\"bus\":{}", bus);
  AppendKeyString("name", named ? can::NameHex(d.name) : std::string(), out);
  AppendKeyString("manufacturer", named ? can::ManufacturerName(n.manufacturer_code) : std::string(), out);
  fmt::format_to(std::back_inserter(*out),
                 ",\"manufacturer_code\":{},\"device_class\":{},\"device_function\":{},\"device_instance\":{}",
                 named ? n.manufacturer_code : 0, named ? n.device_class : 0, named ? n.device_function : 0,
                 named ? n.device_instance() : 0);
  if (named && n.unique_number != 0) fmt::format_to(std::back_inserter(*out), ",\"unique_number\":{}", n.unique_number);
  const can::ProductInfo& p = d.product;
  if (!p.model_id.empty()) AppendKeyString("model_id", p.model_id, out);
  if (!p.software_version.empty()) AppendKeyString("software_version", p.software_version, out);
  if (!p.model_version.empty()) AppendKeyString("model_version", p.model_version, out);
  if (!p.model_serial.empty()) AppendKeyString("model_serial", p.model_serial, out);
  if (p.product_code != 0) fmt::format_to(std::back_inserter(*out), ",\"product_code\":{}", p.product_code);
  out->append(",\"first_seen\":\"");
  timefmt::AppendRfc3339Nano(d.first_seen_us, out);
  out->append("\",\"last_seen\":\"");
  timefmt::AppendRfc3339Nano(d.last_seen_us, out);
  fmt::format_to(std::back_inserter(*out), "\",\"packet_count\":{},\"byte_count\":{}}}", d.packet_count,
                 d.byte_count);
}

std::string DevicesJson(const DeviceTable& table) {
  std::string out = "[";
  bool first = true;
  table.ForEach([&](uint8_t bus, const can::Device& d, const DeviceDiscovery&) {
    if (!first) out.push_back(',');
    first = false;
    AppendDeviceJson(bus, d, {}, &out);
  });
  out.push_back(']');
  return out;
}

}  // namespace lplex::broker
