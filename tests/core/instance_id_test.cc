// Instance ids: the one validator every entry point uses (CLI flags, the
// cloud's directory listing, the archivers).
#include "core/instance_id.h"

#include <gtest/gtest.h>

#include <string>

namespace lplex {
namespace {

TEST(InstanceId, PlainNamesAreAccepted) {
  for (const std::string id : {"boat-1", "Sea_Dragon.v2", "a", "0", "x..y", "trailing."}) {
    EXPECT_TRUE(ValidateInstanceId(id).ok()) << id << ": " << ValidateInstanceId(id).message();
    EXPECT_TRUE(IsValidInstanceId(id)) << id;
  }
  EXPECT_TRUE(IsValidInstanceId(std::string(kMaxInstanceIdLength, 'a')));
}

TEST(InstanceId, DotDotIsRefusedWithTheIdAndTheRule) {
  Status s = ValidateInstanceId("../../evil");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("\"../../evil\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("A-Z a-z 0-9 . _ -"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not starting with '.'"), std::string::npos) << s.message();
  EXPECT_FALSE(IsValidInstanceId(".."));
  EXPECT_FALSE(IsValidInstanceId("."));
}

TEST(InstanceId, SlashAndOtherCharactersAreRefused) {
  for (const std::string id : {"a/b", "/abs", "boat 1", "boat\\1", "bö", "a\nb", "a:b", "a%2fb"}) {
    Status s = ValidateInstanceId(id);
    EXPECT_FALSE(s.ok()) << id;
    EXPECT_NE(s.message().find("character other than"), std::string::npos) << s.message();
  }
}

TEST(InstanceId, LeadingDotIsRefused) {
  Status s = ValidateInstanceId(".hidden");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("starts with '.'"), std::string::npos) << s.message();
}

TEST(InstanceId, EmptyIsRefused) {
  Status s = ValidateInstanceId("");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
}

TEST(InstanceId, LongerThan128IsRefusedWithItsLength) {
  Status s = ValidateInstanceId(std::string(129, 'a'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("129 characters"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1..128"), std::string::npos) << s.message();
  // A huge id is not echoed whole.
  EXPECT_LT(ValidateInstanceId(std::string(100000, 'a')).message().size(), 1000u);
}

TEST(InstanceId, ControlCharactersAreEscapedInTheMessage) {
  Status s = ValidateInstanceId("a\x1b[2Jb");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\x1b'), std::string::npos) << "the terminal escape reached the message";
  EXPECT_NE(s.message().find("\\x1b"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lplex
