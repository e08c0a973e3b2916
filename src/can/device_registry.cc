#include "can/device_registry.h"

#include <algorithm>

#include "core/endian.h"

namespace lplex::can {
namespace {

// Byte ranges of the PGN 126996 strings.
struct Field {
  size_t offset;
  size_t width;
};
constexpr Field kModelId{4, 32};
constexpr Field kSoftwareVersion{36, 40};
constexpr Field kModelVersion{76, 24};
constexpr Field kModelSerial{100, 32};

std::string_view FieldText(std::span<const uint8_t> data, Field f) {
  return DecodeFixedString(data.subspan(f.offset, f.width));
}

// Assigns only when different, so an unchanged field costs no allocation.
bool Update(std::string* dst, std::string_view src) {
  if (*dst == src) return false;
  dst->assign(src);
  return true;
}

void PutFixedString(std::span<uint8_t> field, const std::string& s) {
  const size_t n = std::min(field.size(), s.size());
  std::copy_n(s.begin(), n, field.begin());
  std::fill(field.begin() + static_cast<std::ptrdiff_t>(n), field.end(), uint8_t{0xFF});
}

}  // namespace

std::string_view DecodeFixedString(std::span<const uint8_t> field) {
  const auto end = std::find_if(field.begin(), field.end(), [](uint8_t b) { return b == 0x00 || b == 0xFF; });
  return std::string_view(reinterpret_cast<const char*>(field.data()), static_cast<size_t>(end - field.begin()));
}

RegistryChange DeviceRegistry::Observe(int64_t ts_us, uint8_t source, uint32_t pgn, std::span<const uint8_t> data) {
  std::optional<Device>& slot = devices_[source];
  const bool is_new = !slot.has_value();
  if (is_new) {
    slot.emplace();
    slot->source = source;
    slot->first_seen_us = ts_us;
    ++size_;
  }
  Device& d = *slot;
  d.last_seen_us = ts_us;
  ++d.packet_count;
  d.byte_count += data.size();

  if (pgn == kPgnAddressClaim && ApplyClaim(&d, data)) return RegistryChange::kNameChanged;
  if (pgn == kPgnProductInfo && ApplyProductInfo(&d, data)) return RegistryChange::kProductInfo;
  return is_new ? RegistryChange::kNewSource : RegistryChange::kNone;
}

bool DeviceRegistry::ApplyClaim(Device* d, std::span<const uint8_t> data) {
  if (data.size() < kAddressClaimMinBytes) return false;
  const uint64_t name = le::Load64(data.data());
  if (name == d->name) return false;
  d->name = name;
  // A new NAME is a new device at this address: its product info is unknown.
  d->product = ProductInfo{};
  return true;
}

bool DeviceRegistry::ApplyProductInfo(Device* d, std::span<const uint8_t> data) {
  if (data.size() < kProductInfoMinBytes) return false;
  ProductInfo& p = d->product;
  bool changed = false;
  const uint16_t code = le::Load16(data.data() + 2);
  if (p.product_code != code) {
    p.product_code = code;
    changed = true;
  }
  changed |= Update(&p.model_id, FieldText(data, kModelId));
  changed |= Update(&p.software_version, FieldText(data, kSoftwareVersion));
  changed |= Update(&p.model_version, FieldText(data, kModelVersion));
  changed |= Update(&p.model_serial, FieldText(data, kModelSerial));
  return changed;
}

const Device* DeviceRegistry::Find(uint8_t source) const {
  const std::optional<Device>& slot = devices_[source];
  return slot ? &*slot : nullptr;
}

bool DeviceRegistry::Remove(uint8_t source) {
  std::optional<Device>& slot = devices_[source];
  if (!slot) return false;
  slot.reset();
  --size_;
  return true;
}

std::vector<Device> DeviceRegistry::Snapshot() const {
  std::vector<Device> out;
  out.reserve(size_);
  ForEach([&](const Device& d) { out.push_back(d); });
  return out;
}

std::vector<Device> DeviceRegistry::NamedDevices() const {
  std::vector<Device> out;
  ForEachNamed([&](const Device& d) { out.push_back(d); });
  return out;
}

std::vector<DeviceRegistry::SynthesizedFrame> DeviceRegistry::SynthesizeFrames(int64_t ts_us) const {
  std::vector<SynthesizedFrame> out;
  ForEachNamed([&](const Device& d) {
    SynthesizedFrame claim;
    claim.timestamp_us = ts_us;
    claim.header = CanHeader{.priority = 6, .pgn = kPgnAddressClaim, .source = d.source, .destination = kBroadcast};
    claim.data.resize(kAddressClaimMinBytes);
    le::Store64(claim.data.data(), d.name);
    out.push_back(std::move(claim));

    if (d.product.product_code == 0 && d.product.model_id.empty()) return;
    SynthesizedFrame info;
    info.timestamp_us = ts_us;
    info.header = CanHeader{.priority = 6, .pgn = kPgnProductInfo, .source = d.source, .destination = kBroadcast};
    info.data.assign(kProductInfoMinBytes, 0);
    const std::span<uint8_t> bytes(info.data);
    le::Store16(bytes.data() + 2, d.product.product_code);
    PutFixedString(bytes.subspan(kModelId.offset, kModelId.width), d.product.model_id);
    PutFixedString(bytes.subspan(kSoftwareVersion.offset, kSoftwareVersion.width), d.product.software_version);
    PutFixedString(bytes.subspan(kModelVersion.offset, kModelVersion.width), d.product.model_version);
    PutFixedString(bytes.subspan(kModelSerial.offset, kModelSerial.width), d.product.model_serial);
    out.push_back(std::move(info));
  });
  return out;
}

}  // namespace lplex::can
