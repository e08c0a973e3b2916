// Logger: the seam every module logs through. What is asserted is what an
// operator reads: the instance id on every line, the level, the text.
#include "core/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace lplex {
namespace {

using ::testing::ElementsAre;

TEST(Log, RecordingLoggerKeepsLevelsAndMessagesInOrder) {
  RecordingLogger rec;
  rec.Debug("d");
  rec.Info("i");
  rec.Warn("w");
  rec.Error("e");
  rec.Log(LogLevel::kOff, "never");
  auto lines = rec.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].level, LogLevel::kDebug);
  EXPECT_EQ(lines[1].level, LogLevel::kInfo);
  EXPECT_EQ(lines[2].level, LogLevel::kWarn);
  EXPECT_EQ(lines[3].level, LogLevel::kError);
  EXPECT_THAT(rec.messages(), ElementsAre("d", "i", "w", "e"));
  EXPECT_TRUE(rec.Contains(LogLevel::kWarn, "w"));
  EXPECT_FALSE(rec.Contains(LogLevel::kInfo, "w"));
  EXPECT_EQ(rec.Text(), "d\ni\nw\ne");
  rec.Clear();
  EXPECT_TRUE(rec.lines().empty());
}

TEST(Log, FormatConvenienceFormatsArguments) {
  RecordingLogger rec;
  rec.Warn("cannot delete {}: {}", "/j/a.lpj", "Permission denied");
  rec.Info("{} files in {} ms", 3, 12);
  EXPECT_THAT(rec.messages(), ElementsAre("cannot delete /j/a.lpj: Permission denied", "3 files in 12 ms"));
}

// A lone string is a message, not a format: a path with braces survives.
TEST(Log, LoneStringWithBracesIsNotAFormat) {
  RecordingLogger rec;
  const std::string path = "/j/{weird}.lpj";
  rec.Warn(path);
  rec.Info("literal {}");
  EXPECT_THAT(rec.messages(), ElementsAre("/j/{weird}.lpj", "literal {}"));
}

TEST(Log, WithInstancePutsTheIdOnEveryLine) {
  RecordingLogger rec;
  auto boat = WithInstance(&rec, "boat-1");
  auto keeper = WithPrefix(boat.get(), "keeper: ");
  keeper->Info("archived {}", "/j/a.lpj");
  keeper->Warn("cannot delete /j/b.lpj");
  boat->Error("journal: disk full");
  for (const auto& line : rec.lines()) EXPECT_THAT(line.message, ::testing::StartsWith("[boat-1] ")) << line.message;
  EXPECT_THAT(rec.messages(), ElementsAre("[boat-1] keeper: archived /j/a.lpj",
                                          "[boat-1] keeper: cannot delete /j/b.lpj", "[boat-1] journal: disk full"));
  // Levels pass through the decorators unchanged.
  EXPECT_TRUE(rec.Contains(LogLevel::kWarn, "cannot delete"));
  EXPECT_TRUE(rec.Contains(LogLevel::kError, "disk full"));
}

// Two instances in one process (the cloud) stay apart.
TEST(Log, TwoInstancesShareOneSinkButNotTheirIds) {
  RecordingLogger rec;
  auto a = WithInstance(&rec, "boat-a");
  auto b = WithInstance(&rec, "boat-b");
  a->Info("x");
  b->Info("y");
  EXPECT_THAT(rec.messages(), ElementsAre("[boat-a] x", "[boat-b] y"));
}

// A boat without a replication id gets no empty brackets.
TEST(Log, EmptyInstanceIdAddsNothing) {
  RecordingLogger rec;
  WithInstance(&rec, "")->Info("keeper: started");
  EXPECT_THAT(rec.messages(), ElementsAre("keeper: started"));
}

TEST(Log, RecordingLoggerIsSafeFromManyThreads) {
  RecordingLogger rec;
  auto boat = WithInstance(&rec, "b");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) boat->Info("t{} i{}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  auto lines = rec.lines();
  ASSERT_EQ(lines.size(), 2000u);
  for (const auto& l : lines) ASSERT_THAT(l.message, ::testing::StartsWith("[b] t"));
}

// The default logger writes plain lines to stderr (stdout carries results)
// and honours its level.
TEST(Log, DefaultWritesPlainLinesToStderrAndHonoursTheLevel) {
  const LogLevel saved = DefaultLogLevel();
  SetDefaultLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  Logger::Default()->Debug("hidden debug");
  Logger::Default()->Info("keeper: visible {}", 1);
  WithInstance(nullptr, "boat-9")->Warn("keeper: warned");
  SetDefaultLogLevel(LogLevel::kOff);
  Logger::Default()->Error("silenced");
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  SetDefaultLogLevel(saved);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "keeper: visible 1\n[boat-9] keeper: warned\n");
}

TEST(Log, DiscardDropsEverything) {
  ::testing::internal::CaptureStderr();
  Logger::Discard()->Error("nothing");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Log, LevelNames) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "debug");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
  EXPECT_EQ(LogLevelName(LogLevel::kOff), "off");
}

}  // namespace
}  // namespace lplex
