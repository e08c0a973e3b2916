// lplex archive and lplex retention, run in-process on real directories.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "core/file_system.h"
#include "core/clock.h"
#include "core/time.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;

using lplex::testing::Capture;
using lplex::testing::Captured;

std::string MakeFile(const std::string& dir, const std::string& stamp, const std::string& content) {
  fs::create_directories(dir);
  std::string path = dir + "/nmea2k-" + stamp + ".lpj";
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(LplexArchive, ArchivesEveryUnarchivedFileToDirectoryTarget) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  auto b = MakeFile(j, "20260302T000000.000Z", "bbbb");
  auto c = MakeFile(j, "20260303T000000.000Z", "cc");
  std::ofstream(c + ".archived");
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  o.instance_id = "boat-9";
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(Slurp(dir.Sub("store") + "/boat-9/" + fs::path(a).filename().string()), "aaa");
  EXPECT_EQ(Slurp(dir.Sub("store") + "/boat-9/" + fs::path(b).filename().string()), "bbbb");
  EXPECT_FALSE(fs::exists(dir.Sub("store") + "/boat-9/" + fs::path(c).filename().string()));  // already archived
  EXPECT_TRUE(fs::exists(a + ".archived"));
  EXPECT_TRUE(fs::exists(b + ".archived"));
  EXPECT_NE(r.out.find("2 archived, 0 failed"), std::string::npos) << r.out;
}

TEST(LplexArchive, FailureNamesFileAndReasonAndExitsNonZero) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto a = MakeFile(j, "20260301T000000.000Z", "aaa");
  const std::string script = dir.Sub("fail.sh");
  std::ofstream(script) << "#!/bin/sh\nfor f in \"$@\"; do echo '{\"status\":\"error\",\"error\":\"bucket gone\"}'; done\n";
  fs::permissions(script, fs::perms::owner_all);
  ArchiveOptions o;
  o.dirs = {j};
  o.command = script;
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("FAILED " + a), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bucket gone"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(a + ".archived"));
}

TEST(LplexArchive, FileBeingWrittenIsSkipped) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  fs::create_directories(j);
  auto writing = FileSystem::Default()->NewExclusiveFile(j + "/nmea2k-20260301T000000.000Z.lpj");
  ASSERT_TRUE(writing.ok());
  ArchiveOptions o;
  o.dirs = {j};
  o.target = "file://" + dir.Sub("store");
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("still being written"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(j + "/nmea2k-20260301T000000.000Z.lpj.archived"));
}

TEST(LplexArchive, BadTargetNamesTheValue) {
  TempDir dir;
  ArchiveOptions o;
  o.dirs = {dir.path()};
  o.target = "ftp://example/";
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("ftp://example/"), std::string::npos) << r.err;
}

TEST(LplexRetention, DryRunPrintsPlanAndChangesNothing) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "x");
  auto young = MakeFile(j, timefmt::FileStamp(Clock::Real()->NowMicros()), "y");
  RetentionOptions o;
  o.dirs = {j};
  o.dry_run = true;
  o.max_age = "P30D";
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("would delete  " + old), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(young), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(old));

  o.dry_run = false;
  r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(young));
}

TEST(LplexRetention, WithTargetArchivesBeforeDeleting) {
  TempDir dir;
  const std::string j = dir.Sub("journal");
  auto old = MakeFile(j, "20200101T000000.000Z", "old");
  RetentionOptions o;
  o.dirs = {j};
  o.max_age = "P30D";
  o.target = "file://" + dir.Sub("store");
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(old)) << "archived first, deleted by a later run";
  EXPECT_EQ(Slurp(dir.Sub("store") + "/" + fs::path(old).filename().string()), "old");
  r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_FALSE(fs::exists(old));
}

TEST(LplexRetention, BadFlagsNameTheValue) {
  TempDir dir;
  RetentionOptions o;
  o.dirs = {dir.path()};
  o.max_age = "30 days";
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("30 days"), std::string::npos) << r.err;
  o.max_age = "P30D";
  o.overflow_policy = "yolo";
  r = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(o, out, err); });
  EXPECT_NE(r.err.find("yolo"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lplex::cli
