// lplex import / archive / retention end to end: nothing is deleted that
// should not be, even when recordings share file names or markers outlive
// their files (the newcomer's reproductions against issue 6's hardening).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "support/capture_output.h"
#include "support/temp_dir.h"

namespace lplex::cli {
namespace {

namespace fs = std::filesystem;
using lplex::testing::Capture;
using lplex::testing::TempDir;

const std::string kCapture = std::string(LPLEX_SHARED_DIR) + "/data/captures/can0-1.pcap";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// name → bytes of every .lpj in `dir`.
std::map<std::string, std::string> Journals(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".lpj") out[e.path().filename().string()] = Slurp(e.path().string());
  }
  return out;
}

void Import(const std::string& dir, const std::string& compression) {
  ImportOptions o;
  o.captures = {kCapture};
  o.out_dir = dir;
  o.rotate_size = 100000;
  o.compression = compression;
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunImport(o, out, err); });
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
}

int Archive(const std::string& dir, const std::string& target, std::string* out_text = nullptr) {
  ArchiveOptions o;
  o.dirs = {dir};
  o.target = target;
  auto r = Capture([&](std::FILE* out, std::FILE* err) { return RunArchive(o, out, err); });
  if (out_text) *out_text = r.out + r.err;
  return r.rc;
}

// Two imports of one capture with different options give the same file
// names with different bytes. Archiving the second used to replace the
// first one's copies (exit 0), and retention then deleted the first one's
// files: that recording existed nowhere any more.
TEST(LplexArchiveSafety, ArchiveOfSameNamesWithDifferentContentFailsAndKeepsTheFirstCopy) {
  TempDir t;
  const std::string yb = t.Sub("YB"), yc = t.Sub("YC"), arc = t.Sub("ARC");
  Import(yb, "zstd");
  Import(yc, "none");
  const auto first = Journals(yb), second = Journals(yc);
  ASSERT_FALSE(first.empty());
  size_t shared = 0;
  for (const auto& [name, bytes] : first) shared += second.count(name) != 0 && second.at(name) != bytes;
  ASSERT_GT(shared, 0u) << "the scenario needs equal names with different bytes";

  ASSERT_EQ(Archive(yb, "file://" + arc), 0);
  std::string text;
  EXPECT_EQ(Archive(yc, "file://" + arc, &text), 1) << text;
  EXPECT_NE(text.find("the destination already exists with different content"), std::string::npos) << text;
  EXPECT_NE(text.find("not overwritten"), std::string::npos) << text;
  for (const auto& [name, bytes] : second) {
    if (first.count(name) && first.at(name) != bytes) {
      EXPECT_FALSE(fs::exists(yc + "/" + name + ".archived")) << name << " marked although not archived";
    }
  }

  // Re-archiving the first recording (a retry after a crash before the
  // markers were written) is idempotent.
  for (const auto& e : fs::directory_iterator(yb)) {
    if (e.path().extension() == ".archived") fs::remove(e.path());
  }
  EXPECT_EQ(Archive(yb, "file://" + arc, &text), 0) << text;

  RetentionOptions r;
  r.dirs = {yb};
  r.max_age = "P1000D";
  auto ret = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(r, out, err); });
  EXPECT_EQ(ret.rc, 0) << ret.out << ret.err;
  // Whatever retention deleted from YB, its recording is in the archive.
  for (const auto& [name, bytes] : first) {
    EXPECT_TRUE(Slurp(arc + "/" + name) == bytes) << name << " lost";
  }
}

// Markers left behind after the journal files were removed by hand made the
// files of a later import with the same names count as archived: they were
// never archived, and retention deleted them as archived.
TEST(LplexArchiveSafety, LeftoverMarkersNeverMakeANewFileCountAsArchived) {
  TempDir t;
  const std::string d = t.Sub("D"), arc = t.Sub("ARC");
  Import(d, "zstd");
  ASSERT_EQ(Archive(d, "file://" + arc), 0);
  const auto old_names = Journals(d);
  for (const auto& [name, bytes] : old_names) fs::remove(d + "/" + name);  // markers stay

  Import(d, "none");  // same capture, other bytes
  const auto fresh = Journals(d);  // uncompressed: rotates at other points, the first name is the same
  ASSERT_FALSE(fresh.empty());
  for (const auto& [name, bytes] : fresh) {
    EXPECT_EQ(old_names.count(name), 0u) << name << " reused although its .archived marker exists";
    EXPECT_FALSE(fs::exists(d + "/" + name + ".archived")) << name;
  }
  std::string text;
  ASSERT_EQ(Archive(d, "file://" + arc, &text), 0) << text;
  for (const auto& [name, bytes] : fresh) {
    EXPECT_TRUE(Slurp(arc + "/" + name) == bytes) << name << " not archived";
  }

  // Retention removes the orphan markers and says so.
  RetentionOptions r;
  r.dirs = {d};
  r.max_age = "P100000D";
  auto ret = Capture([&](std::FILE* out, std::FILE* err) { return RunRetention(r, out, err); });
  EXPECT_EQ(ret.rc, 0) << ret.out << ret.err;
  for (const auto& [name, bytes] : old_names) {
    EXPECT_FALSE(fs::exists(d + "/" + name + ".archived")) << name;
  }
  EXPECT_NE(ret.err.find("its journal file"), std::string::npos) << ret.err;
}

// "s3://bucket/../other/" uploaded every file into bucket "other".
TEST(LplexArchiveSafety, S3TargetWithDotDotSegmentIsRefusedWithExit2) {
  TempDir t;
  const std::string d = t.Sub("D");
  fs::create_directories(d);
  std::ofstream(d + "/nmea2k-20260301T000000.000Z.lpj") << "x";
  for (const std::string target : {"s3://bucket/../other/", "s3://hash/./dot/"}) {
    std::string text;
    EXPECT_EQ(Archive(d, target, &text), 2) << target << ": " << text;
    EXPECT_NE(text.find(target), std::string::npos) << text;
    EXPECT_NE(text.find("path segment"), std::string::npos) << text;
  }
  EXPECT_FALSE(fs::exists(d + "/nmea2k-20260301T000000.000Z.lpj.archived"));
}

}  // namespace
}  // namespace lplex::cli
