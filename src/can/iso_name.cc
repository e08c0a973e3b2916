#include "can/iso_name.h"

#include <algorithm>
#include <array>

#include "core/hex.h"

namespace lplex::can {
namespace {

constexpr uint64_t Bits(uint64_t value, int shift, int width) {
  return (value >> shift) & ((uint64_t{1} << width) - 1);
}

constexpr uint64_t Place(uint64_t field, int shift, int width) {
  return (field & ((uint64_t{1} << width) - 1)) << shift;
}

using Entry = std::pair<uint16_t, std::string_view>;

// NMEA 2000 manufacturer codes known to the lplex reference (140 codes).
constexpr std::array<Entry, 140> kManufacturers = {{
    {69, "Maretron"},
    {78, "FW Murphy"},
    {80, "Twin Disc"},
    {85, "Kohler"},
    {88, "Hemisphere GPS"},
    {116, "BEP"},
    {135, "Airmar"},
    {137, "Simrad"},
    {140, "Lowrance"},
    {144, "Mercury Marine"},
    {147, "Nautibus"},
    {148, "Blue Water Data"},
    {154, "Westerbeke"},
    {163, "Evinrude"},
    {165, "CPAC Systems"},
    {168, "Xantrex"},
    {174, "Yanmar"},
    {176, "Mastervolt"},
    {185, "BEP Marine"},
    {192, "Floscan"},
    {198, "Mystic Valley Comms"},
    {199, "Actia"},
    {211, "Nobeltec"},
    {215, "Oceanic Systems"},
    {224, "Yacht Monitoring Solutions"},
    {228, "ZF"},
    {229, "Garmin"},
    {233, "Yacht Devices"},
    {235, "SilverHook/Fusion"},
    {243, "Coelmo"},
    {257, "Honda"},
    {272, "Groco"},
    {273, "Actisense"},
    {274, "Amphenol"},
    {275, "Navico"},
    {283, "Hamilton Jet"},
    {285, "Sea Recovery"},
    {286, "Coelmo"},
    {295, "BEP Marine"},
    {304, "Empir Bus"},
    {305, "NovAtel"},
    {306, "Sleipner"},
    {315, "ICOM"},
    {328, "Qwerty"},
    {341, "Victron Energy"},
    {345, "Korea Maritime University"},
    {351, "Thrane and Thrane"},
    {355, "Mastervolt"},
    {356, "Fischer Panda"},
    {358, "Victron"},
    {370, "Rolls Royce Marine"},
    {373, "Electronic Design"},
    {374, "Northern Lights"},
    {378, "Glendinning"},
    {381, "B&G"},
    {384, "Rose Point Navigation"},
    {385, "Johnson Outdoors"},
    {394, "Capi 2"},
    {396, "Beyond Measure"},
    {400, "Livorsi Marine"},
    {404, "ComNav"},
    {409, "Chetco Digital Instruments"},
    {419, "Fusion"},
    {421, "Standard Horizon"},
    {422, "True Heading"},
    {426, "Egersund Marine Electronics"},
    {427, "Em-Trak Marine Electronics"},
    {431, "Tohatsu"},
    {437, "Digital Yacht"},
    {440, "Comar Systems"},
    {443, "VDO/Continental"},
    {451, "Parker Hannifin"},
    {459, "Alltek Marine Electronics"},
    {460, "SAN Giorgio"},
    {466, "Ocean Signal"},
    {467, "Mastervolt"},
    {470, "Webasto"},
    {471, "Torqeedo"},
    {473, "Silvertek"},
    {476, "GME/Standard Communications"},
    {478, "Humminbird"},
    {481, "Sea Cross Marine"},
    {493, "LCJ Capteurs"},
    {499, "Vesper Marine"},
    {502, "Attwood Marine"},
    {503, "Naviop"},
    {504, "Vessel Systems & Electronics"},
    {510, "Marinesoft"},
    {517, "NoLand Engineering"},
    {518, "Transas Marine"},
    {529, "National Instruments Korea"},
    {532, "Shenzhen Jiuzhou Himunication"},
    {540, "Cummins"},
    {557, "Suzuki"},
    {571, "Volvo Penta"},
    {573, "Watcheye"},
    {578, "Advansea"},
    {579, "KVH"},
    {580, "San Jose Technology"},
    {583, "Yacht Control"},
    {586, "Ewol"},
    {591, "Raymarine"},
    {595, "Diverse Yacht Services"},
    {600, "Furuno"},
    {605, "Si-Tex"},
    {612, "Samwon IT"},
    {614, "Seekeeper"},
    {637, "Cox Powertrain"},
    {641, "Humphree"},
    {644, "Ocean LED"},
    {645, "Prospec"},
    {658, "NovAtel"},
    {688, "Poly Planar"},
    {715, "Lumishore"},
    {717, "Bilt Solar"},
    {735, "Yamaha"},
    {739, "Dometic"},
    {743, "Simrad"},
    {744, "Intellian"},
    {773, "Broyda Industries"},
    {776, "Canadian Automotive"},
    {795, "Technicold"},
    {796, "Blue Water Desalination"},
    {803, "Gill Sensors"},
    {811, "HelmSmith"},
    {815, "Quick"},
    {824, "Undheim Systems"},
    {838, "TeamSurv"},
    {845, "Honda"},
    {862, "Oceanvolt"},
    {868, "Prospec"},
    {890, "Oceanvolt"},
    {909, "Still Water Designs"},
    {911, "BlueSea"},
    {1850, "Yamaha"},
    {1851, "Yamaha"},
    {1852, "Yamaha"},
    {1853, "Yamaha"},
    {1854, "Yamaha"},
    {1855, "Yamaha"},
}};

constexpr bool Ascending() {
  for (size_t i = 1; i < kManufacturers.size(); ++i) {
    if (kManufacturers[i - 1].first >= kManufacturers[i].first) return false;
  }
  return true;
}
static_assert(Ascending(), "manufacturer table must be sorted by code without duplicates");

}  // namespace

IsoName IsoName::Decode(uint64_t name) {
  IsoName n;
  n.unique_number = static_cast<uint32_t>(Bits(name, 0, 21));
  n.manufacturer_code = static_cast<uint16_t>(Bits(name, 21, 11));
  n.device_instance_lower = static_cast<uint8_t>(Bits(name, 32, 3));
  n.device_instance_upper = static_cast<uint8_t>(Bits(name, 35, 5));
  n.device_function = static_cast<uint8_t>(Bits(name, 40, 8));
  n.reserved = Bits(name, 48, 1) != 0;
  n.device_class = static_cast<uint8_t>(Bits(name, 49, 7));
  n.system_instance = static_cast<uint8_t>(Bits(name, 56, 4));
  n.industry_group = static_cast<uint8_t>(Bits(name, 60, 3));
  n.arbitrary_address_capable = Bits(name, 63, 1) != 0;
  return n;
}

uint64_t IsoName::Encode() const {
  return Place(unique_number, 0, 21) | Place(manufacturer_code, 21, 11) | Place(device_instance_lower, 32, 3) |
         Place(device_instance_upper, 35, 5) | Place(device_function, 40, 8) | Place(reserved ? 1 : 0, 48, 1) |
         Place(device_class, 49, 7) | Place(system_instance, 56, 4) | Place(industry_group, 60, 3) |
         Place(arbitrary_address_capable ? 1 : 0, 63, 1);
}

void FormatNameHex(uint64_t name, std::span<char, 16> out) { hex::FormatUint(name, out); }

std::string NameHex(uint64_t name) {
  std::string s(16, '0');
  FormatNameHex(name, std::span<char, 16>(s.data(), 16));
  return s;
}

std::optional<std::string_view> FindManufacturer(uint16_t code) {
  const auto it = std::lower_bound(kManufacturers.begin(), kManufacturers.end(), code,
                                   [](const Entry& e, uint16_t c) { return e.first < c; });
  if (it == kManufacturers.end() || it->first != code) return std::nullopt;
  return it->second;
}

std::string ManufacturerName(uint16_t code) {
  if (auto name = FindManufacturer(code)) return std::string(*name);
  return "Unknown (" + std::to_string(code) + ")";
}

std::span<const std::pair<uint16_t, std::string_view>> Manufacturers() { return kManufacturers; }

}  // namespace lplex::can
