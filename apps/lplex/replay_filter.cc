#include "replay_filter.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "can/iso_name.h"

namespace lplex::cli {
namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void ReplayDevices::Update(const journal::JournalReader& reader) {
  if (reader.current_block() != block_) {
    block_ = reader.current_block();
    pending_.clear();
    next_ = 0;
    auto entries = reader.BlockDevices();
    if (entries.ok()) {
      pending_ = std::move(entries).value();
      std::stable_sort(pending_.begin(), pending_.end(),
                       [](const journal::DeviceEntry& a, const journal::DeviceEntry& b) {
                         return a.active_from < b.active_from;
                       });
    }
  }
  while (next_ < pending_.size() && pending_[next_].active_from <= reader.frame_index()) {
    const journal::DeviceEntry& e = pending_[next_++];
    devices_[e.source] = e;
    known_[e.source] = true;
  }
}

void ReplayDevices::LearnFirstClaims(journal::JournalReader& reader) {
  for (uint64_t n = 0; n < reader.block_count(); ++n) {
    if (!reader.SeekBlock(n).ok()) continue;  // a damaged block: dump reports it when it gets there
    auto entries = reader.BlockDevices();
    if (!entries.ok()) continue;
    std::stable_sort(entries->begin(), entries->end(),
                     [](const journal::DeviceEntry& a, const journal::DeviceEntry& b) {
                       return a.active_from < b.active_from;
                     });
    for (const journal::DeviceEntry& e : *entries) {
      if (e.name == 0 || first_known_[e.source]) continue;
      first_claims_[e.source] = e;
      first_known_[e.source] = true;
    }
  }
  (void)reader.SeekBlock(0);
  block_ = -1;
}

std::optional<uint16_t> ReplayDevices::Manufacturer(uint8_t source) const {
  const journal::DeviceEntry* d = Find(source);
  if (d == nullptr || d->name == 0) return std::nullopt;
  return can::IsoName::Decode(d->name).manufacturer_code;
}

bool MatchesReplay(const broker::FilterSpec& f, uint32_t pgn, const journal::DeviceEntry* d) {
  if (!f.pgn.empty() && std::find(f.pgn.begin(), f.pgn.end(), pgn) == f.pgn.end()) return false;
  if (std::find(f.exclude_pgn.begin(), f.exclude_pgn.end(), pgn) != f.exclude_pgn.end()) return false;
  if (d != nullptr && std::find(f.exclude_name.begin(), f.exclude_name.end(), d->name) != f.exclude_name.end()) {
    return false;
  }
  if (!f.has_device_criteria()) return true;
  if (d == nullptr) return false;
  const can::IsoName n = can::IsoName::Decode(d->name);
  if (!f.manufacturer.empty()) {
    const std::string name = can::ManufacturerName(n.manufacturer_code);
    const std::string code = std::to_string(n.manufacturer_code);
    const bool any = std::any_of(f.manufacturer.begin(), f.manufacturer.end(), [&](const std::string& m) {
      return EqualsIgnoringCase(m, name) || m == code;
    });
    if (!any) return false;
  }
  if (!f.instance.empty() &&
      std::find(f.instance.begin(), f.instance.end(), n.device_instance()) == f.instance.end()) {
    return false;
  }
  if (!f.name.empty() && std::find(f.name.begin(), f.name.end(), d->name) == f.name.end()) return false;
  return true;
}

void AddFilterOptions(CLI::App* cmd, FilterFlags* f, std::set<const CLI::Option*>* repeatable) {
  auto add = [&](const char* flag, std::vector<std::string>* v, const char* help) {
    CLI::Option* o = cmd->add_option(flag, *v, help)->allow_extra_args(false)->type_name("VALUE");
    repeatable->insert(o);
  };
  add("--pgn", &f->pgn, "Only this PGN (repeatable; 0..131071)");
  add("--exclude-pgn", &f->exclude_pgn, "Never this PGN (repeatable)");
  add("--manufacturer", &f->manufacturer, "Only devices of this manufacturer, name or code (repeatable)");
  add("--instance", &f->instance, "Only devices with this device instance (repeatable; 0..255)");
  add("--name", &f->name, "Only the device with this CAN NAME, hex (repeatable)");
  add("--exclude-name", &f->exclude_name, "Never the device with this CAN NAME, hex (repeatable)");
}

Result<broker::FilterSpec> ParseFilterFlags(const FilterFlags& flags) {
  broker::FilterSpec spec;
  const std::pair<const char*, const std::vector<std::string>*> all[] = {
      {"pgn", &flags.pgn},           {"exclude_pgn", &flags.exclude_pgn}, {"manufacturer", &flags.manufacturer},
      {"instance", &flags.instance}, {"name", &flags.name},               {"exclude_name", &flags.exclude_name},
  };
  for (const auto& [key, values] : all) {
    for (const std::string& v : *values) {
      Status s = broker::AddFilterParam(key, v, &spec);
      if (!s.ok()) {
        std::string flag = std::string("--") + key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        return Status::InvalidArgument(flag + ": " + s.message());
      }
    }
  }
  return spec;
}

}  // namespace lplex::cli
