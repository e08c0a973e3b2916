// The settings engine on its own: a small table, an in-memory file system,
// and the HOCON reader.
#include "config/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "config/boat_config.h"
#include "config/hocon_reader.h"

namespace lplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Files and directories in memory; only what config loading uses.
class MemoryFileSystem final : public FileSystem {
 public:
  void AddFile(const std::string& path, const std::string& text) { files_[path] = text; }
  void AddDir(const std::string& path) { dirs_.insert(path); }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    std::unique_ptr<RandomAccessFile> f =
        std::make_unique<MemoryFile>(std::vector<uint8_t>(it->second.begin(), it->second.end()));
    return f;
  }
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override {
    if (dirs_.count(path) == 0) return Status::IOError("not a directory: " + path);
    return std::vector<DirEntry>{};
  }
  bool Exists(const std::string& path) override { return files_.count(path) != 0 || dirs_.count(path) != 0; }
  Result<std::unique_ptr<WritableFile>> NewExclusiveFile(const std::string&) override { return Unsupported(); }
  Status CreateDirs(const std::string&) override { return Unsupported(); }
  Result<uint64_t> FileSize(const std::string&) override { return Unsupported(); }
  Status RemoveFile(const std::string&) override { return Unsupported(); }
  Status RenameFile(const std::string&, const std::string&) override { return Unsupported(); }
  Status SyncDir(const std::string&) override { return Unsupported(); }
  bool IsBeingWritten(const std::string&) override { return false; }

 private:
  static Status Unsupported() { return Status::Unsupported("not in MemoryFileSystem"); }
  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
};

struct Toy {
  std::string name;
  std::vector<std::string> tags;
  std::vector<std::string> hosts;
  int64_t count = 0;
  bool verbose = false;
  std::string config;
};

SettingTable<Toy> ToyTable() {
  SettingTable<Toy> t;
  t.Add("name", "name", &Toy::name).Default("toy").Help("a name");
  t.Add("tag", "tags", &Toy::tags).Repeatable().Help("tags");
  t.Add("hosts", "hosts", &Toy::hosts).Separator(',').Help("hosts");
  t.Add("count", "limits.count", &Toy::count).Default("3").Range(-5, 5).Help("count");
  t.Add("verbose", "verbose", &Toy::verbose).Help("verbose");
  t.Add("config", "", &Toy::config).Path().Help("config file");
  return t;
}

TEST(SettingsTest, DefaultSearchListIsReadThroughTheInjectedFileSystem) {
  // /etc is never touched: the boat's real search list, a fake file system.
  MemoryFileSystem fs;
  fs.AddFile("/etc/lplex/lplex-server.conf", "port = 7000\n");
  fs.AddFile("./lplex.conf", "port = 7001\n");
  LoadOptions o = BoatServerLoadOptions();
  o.fs = &fs;
  auto r = LoadBoatServerConfig({}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.port, 7000);
  EXPECT_EQ(r->report.config_path, "/etc/lplex/lplex-server.conf");
}

TEST(SettingsTest, ExplicitConfigDirectoryIsRefusedThroughTheInjectedFileSystem) {
  MemoryFileSystem fs;
  fs.AddDir("/etc/lplex");
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-config", "/etc/lplex"}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "config path is a directory: /etc/lplex");
}

TEST(SettingsTest, RepeatableFlagAppendsWhileOtherFlagsKeepTheLastValue) {
  MemoryFileSystem fs;
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-tag", "a", "-tag", "b", "-hosts", "x,y", "-hosts", "z", "-name", "n1", "-name=n2"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->config.tags, ElementsAre("a", "b"));
  EXPECT_THAT(r->config.hosts, ElementsAre("z"));
  EXPECT_EQ(r->config.name, "n2");
}

TEST(SettingsTest, NegativeNumberAsFlagValueIsAValueNotAFlag) {
  MemoryFileSystem fs;
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-count", "-4"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.count, -4);
}

TEST(SettingsTest, IntegerWithTrailingGarbageIsRejected) {
  MemoryFileSystem fs;
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-count", "3x"}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "flag -count: \"3x\" is not valid (valid: a whole number in -5..5)");
}

TEST(SettingsTest, FlagsAfterDoubleDashAreRefusedAsArguments) {
  MemoryFileSystem fs;
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"--", "-name", "x"}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unexpected argument \"-name\""));
}

TEST(SettingsTest, DefaultThatDoesNotParseIsReportedAsATableBug) {
  SettingTable<Toy> t;
  t.Add("count", "count", &Toy::count).Default("ten").Help("count");
  MemoryFileSystem fs;
  LoadOptions o;
  o.fs = &fs;
  auto r = t.Load({}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("default of flag -count (a bug in the settings table)"));
}

TEST(SettingsTest, FileValueOfAKeyInABlockIsReadByItsDottedPath) {
  MemoryFileSystem fs;
  fs.AddFile("/t.conf", "limits { count = -2 }\nhosts = \"a, b\"\n");
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-config", "/t.conf"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.count, -2);
  EXPECT_THAT(r->config.hosts, ElementsAre("a", "b"));  // one string, split like the flag
}

TEST(SettingsTest, ListElementThatIsAnObjectIsRejectedWithItsIndex) {
  MemoryFileSystem fs;
  fs.AddFile("/t.conf", "tags = [a, {b = 1}]\n");
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-config", "/t.conf"}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("/t.conf: config key \"tags\" (flag -tag): element 1: expected a string, got an object"));
}

TEST(SettingsTest, KeyThatNeedsQuotingIsReportedQuotedAsUnknown) {
  MemoryFileSystem fs;
  fs.AddFile("/t.conf", "\"limits.count\" = 4\n");  // one key with a dot in it, not limits { count }
  LoadOptions o;
  o.fs = &fs;
  auto r = ToyTable().Load({"-config", "/t.conf"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.count, 3);
  EXPECT_THAT(r->report.unknown_keys, ElementsAre("\"limits.count\""));
}

TEST(HoconReaderTest, QuotedAndUnquotedStringsGiveTheSameText) {
  auto r = ReadHocon("a = /var/log/lplex\nb = \"/var/log/lplex\"\nc = delete-unarchived\nd = \"x:1\"\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("a").text, "/var/log/lplex");
  EXPECT_EQ(r->at("b").text, "/var/log/lplex");
  EXPECT_EQ(r->at("c").text, "delete-unarchived");
  EXPECT_EQ(r->at("d").text, "x:1");
  EXPECT_EQ(r->at("a").type, HoconValue::Type::kString);
}

TEST(HoconReaderTest, SyntaxErrorNamesTheOriginOnce) {
  auto r = ReadHocon("a = [1,\n", "/etc/x.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::StartsWith("/etc/x.conf: invalid HOCON: "));
  EXPECT_EQ(r.status().message().find("/etc/x.conf", 1), std::string::npos);
}

}  // namespace
}  // namespace lplex::config
