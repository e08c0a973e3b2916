#include "core/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace lplex {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, ToStringNamesEveryCode) {
  EXPECT_EQ(Status::InvalidArgument("x").ToString(), "invalid argument: x");
  EXPECT_EQ(Status::NotFound("x").ToString(), "not found: x");
  EXPECT_EQ(Status::AlreadyExists("x").ToString(), "already exists: x");
  EXPECT_EQ(Status::Corruption("x").ToString(), "corruption: x");
  EXPECT_EQ(Status::IOError("x").ToString(), "I/O error: x");
  EXPECT_EQ(Status::OutOfRange("x").ToString(), "out of range: x");
  EXPECT_EQ(Status::Unsupported("x").ToString(), "unsupported: x");
}

TEST(Status, FactoriesSetCodeAndPredicates) {
  EXPECT_EQ(Status::InvalidArgument("m").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Status::AlreadyExists("m").code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(Status::OutOfRange("m").code(), Status::Code::kOutOfRange);
  EXPECT_EQ(Status::Unsupported("m").code(), Status::Code::kUnsupported);
  EXPECT_TRUE(Status::Corruption("m").IsCorruption());
  EXPECT_TRUE(Status::NotFound("m").IsNotFound());
  EXPECT_TRUE(Status::IOError("m").IsIOError());
  EXPECT_FALSE(Status::Corruption("m").ok());
  EXPECT_FALSE(Status::Corruption("m").IsNotFound());
  EXPECT_FALSE(Status::NotFound("m").IsIOError());
  EXPECT_EQ(Status::Corruption("bad crc").message(), "bad crc");
}

TEST(Status, FromErrnoIsIOErrorEndingInStrerror) {
  Status s = Status::FromErrno("open /x", ENOSPC);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), std::string("open /x: ") + std::strerror(ENOSPC));
  EXPECT_THAT(s.message(), HasSubstr("No space left"));
}

TEST(Status, WithContextPrefixesMessageAndKeepsCode) {
  Status s = Status::Corruption("bad crc at offset 24").WithContext("block 3");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "block 3: bad crc at offset 24");
  EXPECT_EQ(s.ToString(), "corruption: block 3: bad crc at offset 24");
  Status twice = s.WithContext("file a.lpj");
  EXPECT_EQ(twice.message(), "file a.lpj: block 3: bad crc at offset 24");
}

TEST(Status, WithContextOnOkStaysOk) {
  Status s = Status::Ok().WithContext("anything");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, WithContextDoesNotChangeOriginal) {
  Status s = Status::NotFound("x");
  (void)s.WithContext("ctx");
  EXPECT_EQ(s.message(), "x");
}

TEST(Result, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(Result, HoldsError) {
  Result<int> r = Status::NotFound("journal.lpj");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "journal.lpj");
}

TEST(Result, ArrowReachesMembers) {
  Result<std::string> r = std::string("hello");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 5u);
  const Result<std::string>& cr = r;
  EXPECT_EQ(cr->front(), 'h');
}

TEST(Result, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd value " + std::to_string(x));
  return x / 2;
}

TEST(Result, ErrorFlowsThroughFunctionReturn) {
  auto good = Half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), EndsWith("odd value 3"));
}

Status Step(bool fail, int* reached) {
  *reached += 1;
  return fail ? Status::IOError("step failed") : Status::Ok();
}

Status TwoSteps(bool fail_first, int* reached) {
  LPLEX_RETURN_IF_ERROR(Step(fail_first, reached));
  LPLEX_RETURN_IF_ERROR(Step(false, reached));
  return Status::Ok();
}

TEST(Status, ReturnIfErrorStopsAtFirstError) {
  int reached = 0;
  Status s = TwoSteps(true, &reached);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "step failed");
  EXPECT_EQ(reached, 1);
}

TEST(Status, ReturnIfErrorContinuesOnOk) {
  int reached = 0;
  EXPECT_TRUE(TwoSteps(false, &reached).ok());
  EXPECT_EQ(reached, 2);
}

// --- LPLEX_ASSIGN_OR_RETURN ---------------------------------------------------

Result<int> Number(bool fail, int value, int* calls) {
  ++*calls;
  if (fail) return Status::NotFound("no number " + std::to_string(value));
  return value;
}

// Two uses in one scope (unique temporaries), a declaration and an
// assignment to an existing variable, in a function returning Status.
Status SumInto(bool fail_second, int* sum, int* calls) {
  LPLEX_ASSIGN_OR_RETURN(int a, Number(false, 2, calls));
  LPLEX_ASSIGN_OR_RETURN(const int b, Number(fail_second, 3, calls));
  int c = 0;
  LPLEX_ASSIGN_OR_RETURN(c, Number(false, 5, calls));
  *sum = a + b + c;
  return Status::Ok();
}

TEST(Status, AssignOrReturnPassesValuesThrough) {
  int sum = 0, calls = 0;
  EXPECT_TRUE(SumInto(false, &sum, &calls).ok());
  EXPECT_EQ(sum, 10);
  EXPECT_EQ(calls, 3);
}

TEST(Status, AssignOrReturnReturnsTheErrorUnchangedAndStops) {
  int sum = -1, calls = 0;
  Status s = SumInto(true, &sum, &calls);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "no number 3");
  EXPECT_EQ(calls, 2);   // the expression is evaluated once, nothing after it runs
  EXPECT_EQ(sum, -1);
}

// In a function returning Result<U>, with a move-only value and an
// expression that contains a comma.
Result<std::string> Describe(bool fail) {
  LPLEX_ASSIGN_OR_RETURN(auto p, fail ? Result<std::unique_ptr<int>>(Status::Corruption("bad"))
                                      : Result<std::unique_ptr<int>>(std::make_unique<int>(7)));
  LPLEX_ASSIGN_OR_RETURN(auto pair, Result<std::pair<int, int>>(std::pair<int, int>(*p, 1)));
  return std::to_string(pair.first + pair.second);
}

TEST(Status, AssignOrReturnWorksInResultFunctionsWithMoveOnlyValues) {
  auto ok = Describe(false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "8");
  auto bad = Describe(true);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_EQ(bad.status().message(), "bad");
}

// A Result built from an OK Status would have neither value nor error.
TEST(ResultDeathTest, ConstructingFromOkStatusAssertsInDebug) {
  EXPECT_DEBUG_DEATH({ Result<int> r(Status::Ok()); (void)r; }, "OK status");
}

}  // namespace
}  // namespace lplex
