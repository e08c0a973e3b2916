// MakeArchiver and the target URL parsers: which archiver a config gives,
// and errors that quote the bad value and list the valid forms.
#include "keeper/archiver_factory.h"

#include <gtest/gtest.h>

#include <map>

#include "keeper/directory_archiver.h"
#include "keeper/s3_archiver.h"
#include "keeper/script_archiver.h"

namespace lplex::keeper {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
const EnvLookup kCreds = Env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}});

Result<std::unique_ptr<Archiver>> Make(const std::string& target, const EnvLookup& env = kCreds) {
  ArchiverConfig c;
  c.target = target;
  return MakeArchiver(c, env);
}

void ExpectRefused(const std::string& target, const std::vector<std::string>& fragments) {
  auto a = Make(target);
  ASSERT_FALSE(a.ok()) << target << " was accepted";
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  const std::string& m = a.status().message();
  EXPECT_NE(m.find("\"" + target + "\""), std::string::npos) << "message does not quote the value: " << m;
  for (const auto& f : fragments) EXPECT_NE(m.find(f), std::string::npos) << "missing \"" << f << "\" in: " << m;
}

TEST(ArchiverFactory, S3BucketOnly) {
  auto a = Make("s3://bucket");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto* s3 = dynamic_cast<S3Archiver*>(a->get());
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->Describe(), "s3://bucket/");
  ArchiveItem item;
  item.path = "/data/journal/f.lpj";
  item.instance_id = "boat";
  EXPECT_EQ(s3->KeyFor(item), "boat/f.lpj");
}

TEST(ArchiverFactory, S3BucketAndPrefix) {
  for (const std::string url : {"s3://bucket/prefix/", "s3://bucket/prefix"}) {
    auto a = Make(url);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ((*a)->Describe(), "s3://bucket/prefix/") << url;
  }
  auto parsed = ParseS3Url("s3://my.bucket-1/a/b/c/");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->bucket, "my.bucket-1");
  EXPECT_EQ(parsed->prefix, "a/b/c/");
  EXPECT_EQ(ParseS3Url("s3://bucket/")->prefix, "");
}

TEST(ArchiverFactory, S3WithoutCredentialsIsRefusedUpFront) {
  auto a = Make("s3://bucket/p/", Env({}));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("s3://bucket/p/"), std::string::npos) << a.status().message();
}

TEST(ArchiverFactory, FileUrlGivesDirectoryArchiver) {
  auto a = Make("file:///srv/lplex/archive/");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto* dir = dynamic_cast<DirectoryArchiver*>(a->get());
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->Describe(), "file:///srv/lplex/archive");
  ArchiveItem item;
  item.path = "/data/f.lpj";
  item.instance_id = "boat";
  EXPECT_EQ(dir->DestinationFor(item), "/srv/lplex/archive/boat/f.lpj");
  EXPECT_EQ(*ParseFileUrl("file:///"), "/");
  EXPECT_EQ(*ParseFileUrl("file:///a b/c"), "/a b/c");  // taken literally
}

TEST(ArchiverFactory, CommandGivesScriptArchiver) {
  ArchiverConfig c;
  c.command = "/usr/local/bin/archive.sh";
  c.script_timeout = std::chrono::seconds(7);
  auto a = MakeArchiver(c, Env({}));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto* script = dynamic_cast<ScriptArchiver*>(a->get());
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->command(), "/usr/local/bin/archive.sh");
}

TEST(ArchiverFactory, UnknownSchemeListsValidForms) {
  ExpectRefused("ftp://host/archive", {"unknown archive target", "s3://bucket/prefix/", "file:///absolute/path"});
  ExpectRefused("/srv/archive", {"unknown archive target", "s3://", "file:///"});
  ExpectRefused("S3://bucket", {"unknown archive target"});
}

TEST(ArchiverFactory, S3WithoutBucketIsRefused) {
  ExpectRefused("s3://", {"bucket name is missing", "s3://bucket/prefix/"});
  ExpectRefused("s3:///prefix", {"bucket name is missing"});
}

TEST(ArchiverFactory, BadBucketNamesAreRefused) {
  ExpectRefused("s3://ab", {"3 to 63"});
  ExpectRefused("s3://My-Bucket/x", {"lowercase letters"});
  ExpectRefused("s3://-bucket", {"start and end"});
  ExpectRefused("s3://bucket//x", {"empty path segment"});
}

// "s3://bucket/../other/" uploaded every file into bucket "other" (libcurl
// folded the path-style URL), and "s3://bucket/./dot/" stored under "dot/".
TEST(ArchiverFactory, S3PrefixWithDotDotDotOrEmptySegmentsIsRefused) {
  ExpectRefused("s3://bucket/../other/", {"\"..\" path segment"});
  ExpectRefused("s3://bucket/./dot/", {"\".\" path segment"});
  ExpectRefused("s3://bucket/a/../../other/x", {"\"..\" path segment"});
  ExpectRefused("s3://bucket/a/..", {"\"..\" path segment"});
  ExpectRefused("s3://bucket/a//b/", {"empty path segment"});
  ExpectRefused("s3://bucket/a\\b/", {"backslash"});
  ExpectRefused("s3://bucket/a\tb/", {"control character 0x09"});
  // Dots inside a segment are ordinary characters.
  for (const std::string ok : {"s3://bucket/a..b/", "s3://bucket/.hidden/", "s3://bucket/v1.2/x", "s3://bucket/..."}) {
    auto parsed = ParseS3Url(ok);
    EXPECT_TRUE(parsed.ok()) << ok << ": " << parsed.status().ToString();
  }
}

TEST(ArchiverFactory, RelativeFileUrlIsRefused) {
  ExpectRefused("file://relative/path", {"absolute path", "file:///srv/archive"});
  ExpectRefused("file://", {"absolute path"});
  ExpectRefused("file:relative", {"not a file:// URL"});
}

TEST(ArchiverFactory, NeitherOrBothCommandAndTargetIsRefused) {
  ArchiverConfig none;
  auto a = MakeArchiver(none, kCreds);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("journal.archive.command"), std::string::npos);

  ArchiverConfig both;
  both.command = "/bin/true";
  both.target = "file:///srv/archive";
  auto b = MakeArchiver(both, kCreds);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("\"/bin/true\""), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("\"file:///srv/archive\""), std::string::npos) << b.status().message();
}

// Finding 12: the command line names its flags, not configuration keys.
TEST(ArchiverFactory, ErrorsNameTheCallersSettingNames) {
  ArchiverConfig both;
  both.command = "/bin/true";
  both.target = "file:///srv/archive";
  both.names = {"--command", "--target", "--timeout"};
  auto b = MakeArchiver(both, kCreds);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("--command and --target"), std::string::npos) << b.status().message();
  EXPECT_EQ(b.status().message().find("journal.archive"), std::string::npos) << b.status().message();

  ArchiverConfig none;
  none.names = both.names;
  auto n = MakeArchiver(none, kCreds);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("--command"), std::string::npos) << n.status().message();
  EXPECT_EQ(n.status().message().find("journal.archive"), std::string::npos) << n.status().message();

  ArchiverConfig bad;
  bad.target = "ftp://host/";
  bad.names = both.names;
  auto u = MakeArchiver(bad, kCreds);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message().rfind("--target: ", 0), 0u) << u.status().message();

  ArchiverConfig slow;
  slow.command = "/bin/true";
  slow.script_timeout = std::chrono::milliseconds(0);
  slow.names = both.names;
  auto t = MakeArchiver(slow, kCreds);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("--timeout"), std::string::npos) << t.status().message();

  // Without names given, the configuration keys.
  bad.names = {};
  u = MakeArchiver(bad, kCreds);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message().rfind("journal.archive.target: ", 0), 0u) << u.status().message();
}

// Finding 2: "--instance-id ../../evil" sent objects to the bucket "evil".
// The item fails before any request is made (the endpoint does not exist, so
// a request would have failed differently).
TEST(ArchiverFactory, S3TargetRejectsInstanceIdWithDotDotBeforeSending) {
  ArchiverConfig c;
  c.target = "s3://qa-bucket/boats/";
  c.s3.endpoint = "http://127.0.0.1:1";
  auto a = MakeArchiver(c, kCreds);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ArchiveItem item;
  item.path = "/data/journal/nmea2k-20260310T120000Z.lpj";
  for (const std::string id : {"../../evil", "../evil", "boats/../../evil", ".."}) {
    item.instance_id = id;
    auto out = (*a)->Archive({item}, std::chrono::steady_clock::now() + std::chrono::seconds(5));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].ok) << id;
    EXPECT_NE(out[0].error.find("instance id \"" + id + "\" is not valid"), std::string::npos) << out[0].error;
    EXPECT_NE(out[0].error.find(item.path), std::string::npos) << out[0].error;
  }
}

}  // namespace
}  // namespace lplex::keeper
