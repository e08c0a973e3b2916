#include "broker/device_table.h"

#include <fmt/format.h>

#include "broker/json_buffer.h"
#include "can/iso_name.h"
#include "core/endian.h"
#include "core/time.h"

namespace lplex::broker {
namespace {

struct Field {
  size_t offset;
  size_t width;
};
constexpr Field kModelId{4, 32};
constexpr Field kSoftwareVersion{36, 40};
constexpr Field kModelVersion{76, 24};
constexpr Field kModelSerial{100, 32};

bool Update(std::string* dst, std::span<const uint8_t> data, Field f) {
  const std::string_view src = can::DecodeFixedString(data.subspan(f.offset, f.width));
  if (*dst == src) return false;
  dst->assign(src);
  return true;
}

bool ApplyClaim(can::Device* d, std::span<const uint8_t> data) {
  if (data.size() < can::kAddressClaimMinBytes) return false;
  const uint64_t name = le::Load64(data.data());
  if (name == d->name) return false;
  d->name = name;
  d->product = can::ProductInfo{};  // a new NAME is a new device: its product is unknown
  return true;
}

bool ApplyProductInfo(can::Device* d, std::span<const uint8_t> data) {
  if (data.size() < can::kProductInfoMinBytes) return false;
  can::ProductInfo& p = d->product;
  bool changed = false;
  const uint16_t code = le::Load16(data.data() + 2);
  if (p.product_code != code) {
    p.product_code = code;
    changed = true;
  }
  changed |= Update(&p.model_id, data, kModelId);
  changed |= Update(&p.software_version, data, kSoftwareVersion);
  changed |= Update(&p.model_version, data, kModelVersion);
  changed |= Update(&p.model_serial, data, kModelSerial);
  return changed;
}

void AppendKeyString(std::string_view key, std::string_view value, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
  AppendJsonString(value, out);
}

}  // namespace

can::RegistryChange DeviceTable::Observe(uint8_t bus, int64_t ts_us, uint8_t source, uint32_t pgn,
                                         std::span<const uint8_t> data, int64_t rx_us, DeviceRecord** record) {
  if (buses_.size() <= bus) buses_.resize(size_t{bus} + 1);
  if (!buses_[bus]) buses_[bus] = std::make_unique<BusTable>();
  std::unique_ptr<DeviceRecord>& slot = (*buses_[bus])[source];
  const bool is_new = !slot;
  if (is_new) {
    slot = std::make_unique<DeviceRecord>();
    slot->bus = bus;
    slot->device.source = source;
    slot->device.first_seen_us = ts_us;
    ++size_;
  }
  DeviceRecord& r = *slot;
  *record = &r;
  r.last_rx_us = rx_us;
  can::Device& d = r.device;
  d.last_seen_us = ts_us;
  ++d.packet_count;
  d.byte_count += data.size();
  if (pgn == can::kPgnAddressClaim && ApplyClaim(&d, data)) return can::RegistryChange::kNameChanged;
  if (pgn == can::kPgnProductInfo && ApplyProductInfo(&d, data)) return can::RegistryChange::kProductInfo;
  return is_new ? can::RegistryChange::kNewSource : can::RegistryChange::kNone;
}

DeviceRecord* DeviceTable::Find(uint8_t bus, uint8_t source) {
  if (buses_.size() <= bus || !buses_[bus]) return nullptr;
  return (*buses_[bus])[source].get();
}

const DeviceRecord* DeviceTable::Find(uint8_t bus, uint8_t source) const {
  if (buses_.size() <= bus || !buses_[bus]) return nullptr;
  return (*buses_[bus])[source].get();
}

bool DeviceTable::Remove(uint8_t bus, uint8_t source) {
  if (buses_.size() <= bus || !buses_[bus] || !(*buses_[bus])[source]) return false;
  (*buses_[bus])[source].reset();
  --size_;
  return true;
}

void AppendDeviceJson(const DeviceRecord& r, std::string_view type, std::string* out) {
  const can::Device& d = r.device;
  const can::IsoName n = d.iso_name();
  const bool named = d.named();
  out->push_back('{');
  if (!type.empty()) {
    out->append("\"type\":");
    AppendJsonString(type, out);
    out->push_back(',');
  }
  fmt::format_to(std::back_inserter(*out), "\"src\":{}", d.source);
  if (r.bus != 0) fmt::format_to(std::back_inserter(*out), ",\"bus\":{}", r.bus);
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
  table.ForEach([&](const DeviceRecord& r) {
    if (!first) out.push_back(',');
    first = false;
    AppendDeviceJson(r, {}, &out);
  });
  out.push_back(']');
  return out;
}

}  // namespace lplex::broker
