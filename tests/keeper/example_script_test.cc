// examples/archive-s3/archive-to-s3.sh against a real S3 API: the moto server
// on 127.0.0.1 with IAM auth on (so the script must carry the credentials),
// the real AWS CLI (/usr/bin/aws) and jq, driven through ScriptArchiver as the
// keeper drives it. Objects are read back with `aws s3 cp` and compared byte
// for byte. Skipped when moto, the AWS CLI, jq or bash is missing.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "keeper/script_archiver.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

extern char** environ;

namespace lplex::keeper {
namespace {

constexpr const char* kAws = "/usr/bin/aws";
constexpr const char* kBucket = "lplex-archive";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The example script, found from this file's path (the sources are not
// copied into the build tree).
std::string ExampleScript() {
  std::filesystem::path here(__FILE__);
  return (here.parent_path().parent_path().parent_path() / "examples/archive-s3/archive-to-s3.sh").string();
}

// Sets environment variables for the scope of a test (ScriptArchiver passes
// the process environment on to the script) and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }
  void Set(const std::string& name, const std::string& value) {
    Save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void Save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Runs argv with stdin from `in_path` and stdout into `out_path` (stderr is
// inherited); returns the wait status, or -1 when it could not start.
int RunProgram(const std::vector<std::string>& argv, const std::string& in_path, const std::string& out_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ExampleScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {kAws, "/usr/bin/jq", "/bin/bash"}) {
      if (::access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is not installed";
    }
    script_ = ExampleScript();
    ASSERT_EQ(::access(script_.c_str(), X_OK), 0) << "example script not found or not executable: " << script_;
    std::string why;
    if (!testing::MotoServer::Available(&why)) GTEST_SKIP() << why;
    testing::MotoServer::Options opt;
    opt.iam_auth = true;
    opt.buckets = {kBucket};
    ASSERT_TRUE(moto_.Start(opt, &why)) << why;

    // What the keeper's environment would hold on a boat using this script.
    // /usr/bin first: a pyenv shim named aws comes earlier on PATH here.
    const char* path = std::getenv("PATH");
    env_.Set("PATH", std::string("/usr/bin:/bin") + (path ? ":" + std::string(path) : ""));
    env_.Set("AWS_ACCESS_KEY_ID", moto_.access_key_id());
    env_.Set("AWS_SECRET_ACCESS_KEY", moto_.secret_access_key());
    env_.Set("AWS_DEFAULT_REGION", moto_.region());
    env_.Set("AWS_REGION", moto_.region());
    env_.Set("AWS_CONFIG_FILE", dir_.Sub("no-aws-config"));
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", dir_.Sub("no-aws-credentials"));
    env_.Set("AWS_EC2_METADATA_DISABLED", "true");
    env_.Set("AWS_PAGER", "");
    env_.Unset("AWS_PROFILE");
    env_.Unset("AWS_SESSION_TOKEN");
    env_.Unset("AWS_ENDPOINT_URL");
    env_.Unset("AWS_ENDPOINT_URL_S3");
    env_.Set("LPLEX_ARCHIVE_ENDPOINT", moto_.endpoint());
    env_.Set("LPLEX_ARCHIVE_BUCKET", kBucket);
    env_.Set("LPLEX_ARCHIVE_PREFIX", "fleet/");
    env_.Set("LPLEX_ARCHIVE_AWS", kAws);
  }

  // A journal file (its bytes are what matters here) under the temp dir.
  ArchiveItem Journal(const std::string& rel, const std::string& instance_id, size_t size, uint32_t seed) {
    std::string path = dir_.Sub(rel);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::string bytes = RandomBytes(size, seed);
    std::ofstream(path, std::ios::binary) << bytes;
    ArchiveItem it;
    it.path = path;
    it.instance_id = instance_id;
    it.size = size;
    return it;
  }

  // The object's bytes, read back with the AWS CLI; nullopt when it fails.
  std::optional<std::string> Download(const std::string& key) {
    std::string dest = dir_.Sub("download");
    std::filesystem::remove(dest);
    int st = RunProgram({kAws, "--endpoint-url", moto_.endpoint(), "s3", "cp", "--only-show-errors",
                  "s3://" + std::string(kBucket) + "/" + key, dest},
                 "/dev/null", "/dev/null");
    if (st != 0) return std::nullopt;
    return ReadAll(dest);
  }

  std::vector<std::string> Keys() {
    std::string out = dir_.Sub("keys.json");
    int st = RunProgram({kAws, "--endpoint-url", moto_.endpoint(), "s3api", "list-objects-v2", "--bucket", kBucket,
                  "--query", "Contents[].Key", "--output", "json"},
                 "/dev/null", out);
    EXPECT_EQ(st, 0) << "list-objects-v2 failed";
    auto j = nlohmann::json::parse(ReadAll(out), nullptr, false);
    std::vector<std::string> keys;
    if (j.is_array()) {
      for (const auto& k : j) keys.push_back(k.get<std::string>());
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  Deadline Far() { return std::chrono::steady_clock::now() + std::chrono::minutes(5); }

  testing::TempDir dir_;
  testing::MotoServer moto_;
  ScopedEnv env_;
  std::string script_;
};

// Three files, two boats with the same file name and one file without an
// instance id, one of them above the CLI's 8 MiB multipart threshold: every
// object lands under its own instance's key with identical bytes.
TEST_F(ExampleScriptTest, UploadsUnderEachInstanceIdByteForByte) {
  std::vector<ArchiveItem> batch = {
      Journal("boat-a/nmea2k-20260302T140000.000Z.lpj", "boat-a", 300 * 1024 + 7, 1),
      Journal("boat-b/nmea2k-20260302T140000.000Z.lpj", "boat-b", 9 * 1024 * 1024 + 3, 2),
      Journal("local/nmea2k-20260302T150000.000Z.lpj", "", 1, 3),
  };
  ScriptArchiver archiver(script_, std::chrono::minutes(2));
  auto out = archiver.Archive(batch, Far());
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) EXPECT_TRUE(o.ok) << o.error;

  const std::map<std::string, size_t> expected = {
      {"fleet/boat-a/nmea2k-20260302T140000.000Z.lpj", 0},
      {"fleet/boat-b/nmea2k-20260302T140000.000Z.lpj", 1},
      {"fleet/nmea2k-20260302T150000.000Z.lpj", 2},
  };
  std::vector<std::string> want_keys;
  for (const auto& [key, i] : expected) want_keys.push_back(key);
  EXPECT_EQ(Keys(), want_keys);
  for (const auto& [key, i] : expected) {
    auto got = Download(key);
    ASSERT_TRUE(got.has_value()) << "cannot read back " << key;
    EXPECT_TRUE(*got == ReadAll(batch[i].path)) << key << ": " << got->size() << " bytes, want " << batch[i].size;
  }
}

// The same file archived twice (a crash between the copy and the marker) is
// ok without a second upload; a different file under the same key is refused
// and the first copy stays: retention could otherwise delete the only copy.
TEST_F(ExampleScriptTest, ExistingObjectWithDifferentContentIsNeverOverwritten) {
  ArchiveItem first = Journal("boat-a/nmea2k-20260302T140000.000Z.lpj", "boat-a", 4096, 11);
  ScriptArchiver archiver(script_, std::chrono::minutes(2));
  auto out = archiver.Archive({first}, Far());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  const std::string original = ReadAll(first.path);

  out = archiver.Archive({first}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ok) << "re-archiving the same bytes must succeed: " << out[0].error;

  ArchiveItem other = Journal("elsewhere/boat-a/nmea2k-20260302T140000.000Z.lpj", "boat-a", 4096, 12);
  out = archiver.Archive({other}, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("already exists with different"), std::string::npos) << out[0].error;
  auto stored = Download("fleet/boat-a/nmea2k-20260302T140000.000Z.lpj");
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(*stored == original) << "the first copy was replaced";
}

// A missing bucket: every file gets its own error answer naming the cause;
// nothing counts as archived.
TEST_F(ExampleScriptTest, MissingBucketFailsEveryFile) {
  env_.Set("LPLEX_ARCHIVE_BUCKET", "no-such-bucket");
  std::vector<ArchiveItem> batch = {Journal("a/x.lpj", "boat-a", 1000, 4), Journal("b/y.lpj", "", 2000, 5)};
  auto out = ScriptArchiver(script_, std::chrono::minutes(2)).Archive(batch, Far());
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find("NoSuchBucket"), std::string::npos) << o.error;
    EXPECT_EQ(o.error.find("no response from script"), std::string::npos) << o.error;
  }
}

// A wrong secret is refused by the store (auth is on): errors, no object.
TEST_F(ExampleScriptTest, WrongSecretFailsEveryFile) {
  env_.Set("AWS_SECRET_ACCESS_KEY", "not-the-secret");
  std::vector<ArchiveItem> batch = {Journal("a/x.lpj", "boat-a", 1000, 6)};
  auto out = ScriptArchiver(script_, std::chrono::minutes(2)).Archive(batch, Far());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("SignatureDoesNotMatch"), std::string::npos) << out[0].error;
  env_.Set("AWS_SECRET_ACCESS_KEY", moto_.secret_access_key());
  EXPECT_TRUE(Keys().empty());
}

// One failure in the middle does not stop the rest, and answers stay in order.
TEST_F(ExampleScriptTest, FailureInTheMiddleDoesNotStopTheBatch) {
  std::vector<ArchiveItem> batch = {Journal("a/1.lpj", "boat-a", 10, 7), Journal("a/2.lpj", "boat-a", 10, 8),
                                    Journal("a/3.lpj", "boat-a", 10, 9)};
  std::filesystem::remove(batch[1].path);
  auto out = ScriptArchiver(script_, std::chrono::minutes(2)).Archive(batch, Far());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].error.find("no such file"), std::string::npos) << out[1].error;
  EXPECT_TRUE(out[2].ok) << out[2].error;
  EXPECT_EQ(Keys(), (std::vector<std::string>{"fleet/boat-a/1.lpj", "fleet/boat-a/3.lpj"}));
}

// Run by hand with odd input: exactly one answer line per input line, in
// order, keyed on .path (never .file), and nothing else on stdout.
TEST_F(ExampleScriptTest, OneAnswerLinePerInputLine) {
  ArchiveItem good = Journal("c/ok.lpj", "boat-c", 123, 10);
  std::string in = dir_.Sub("stdin");
  std::ofstream(in) << "not json\n"
                    << "{\"file\":\"" << good.path << "\",\"instance_id\":\"boat-c\"}\n"
                    << EncodeScriptRequest(good) << "{\"path\":\"" << good.path << "\",\"instance_id\":\"../up\"}\n";
  std::string out = dir_.Sub("stdout");
  int st = RunProgram({"/bin/bash", script_, good.path}, in, out);
  EXPECT_EQ(st, 0);
  std::vector<nlohmann::json> answers;
  std::istringstream lines(ReadAll(out));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON on stdout: " << line;
    answers.push_back(j);
  }
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0]["status"], "error");
  EXPECT_EQ(answers[1]["status"], "error");  // .file is not the key
  EXPECT_EQ(answers[2]["status"], "ok");
  EXPECT_EQ(answers[2]["path"], good.path);
  EXPECT_EQ(answers[3]["status"], "error");
  EXPECT_EQ(Keys(), std::vector<std::string>{"fleet/boat-c/ok.lpj"});
}

}  // namespace
}  // namespace lplex::keeper
