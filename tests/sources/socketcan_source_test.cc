#include "sources/socketcan_source.h"

#include <gtest/gtest.h>

#include "sources/source_factory.h"

namespace lplex::sources {
namespace {

TEST(SocketCanSource, SocketCanSkipsWithoutKernelSupport) {
  auto spec = ParseSourceUri("socketcan:lplexnone0");
  ASSERT_TRUE(spec.ok());
  auto source = MakeSource(*spec, SourceEnv{});
  ASSERT_TRUE(source.ok());
  const Status s = (*source)->Start([](const can::Frame&) {}, nullptr);
  ASSERT_FALSE(s.ok());
  // Either way the error names the interface.
  EXPECT_NE(s.message().find("socketcan:lplexnone0"), std::string::npos) << s.ToString();
  (*source)->Stop();

  std::string why;
  if (!SocketCanAvailable(&why)) {
    EXPECT_EQ(s.code(), Status::Code::kUnsupported) << s.ToString();
    GTEST_SKIP() << "no CAN in this kernel (" << why << "); the socketcan source is not exercised";
  }
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("no such network interface"), std::string::npos);
}

}  // namespace
}  // namespace lplex::sources
