// The terminal forms of lplex tail: the device table names classes and
// functions as "Name (n)" from canboat's tables.
#include "live_format.h"

#include <gtest/gtest.h>

namespace lplex::cli {
namespace {

TEST(DeviceTable, ClassAndFunctionAreNamedWithTheirNumbers) {
  client::Device d;
  d.src = 35;
  d.name = "c0788c00e7e01235";
  d.manufacturer = "Garmin";
  d.manufacturer_code = 229;
  d.device_class = 60;
  d.device_function = 130;
  const std::string table = DeviceTable({d});
  EXPECT_NE(table.find("Navigation (60)"), std::string::npos) << table;
  EXPECT_NE(table.find("Bottom Depth (130)"), std::string::npos) << table;
}

TEST(DeviceTable, UnknownFunctionOfAKnownClassIsItsNumber) {
  client::Device d;
  d.src = 7;
  d.name = "c0788c00e7e01235";
  d.device_class = 60;
  d.device_function = 3;
  const std::string table = DeviceTable({d});
  EXPECT_NE(table.find("Navigation (60)"), std::string::npos) << table;
  EXPECT_NE(table.find(" 3 "), std::string::npos) << table;
}

}  // namespace
}  // namespace lplex::cli
