// S3Archiver: against a real S3 API (moto on 127.0.0.1, started and stopped
// by each test) with objects read back byte for byte, and against a scripted
// fake store for what moto cannot show (the headers we send, a 200 answer
// with an error body, an ETag that is not the MD5 of what we sent).
#include "keeper/s3_archiver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/log.h"
#include "support/forwarding_file_system.h"
#include "support/loopback_socket.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

using lplex::testing::MotoServer;
using lplex::testing::TempDir;
using namespace std::chrono_literals;

constexpr char kFileName[] = "nmea2k-20260310T120000Z.lpj";

std::optional<std::string> NoEnv(const char*) { return std::nullopt; }

Deadline In(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

std::string WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::string HexDigest(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

std::string Base64Md5(const std::string& data) {
  unsigned char md[16];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char b64[32];
  int n = EVP_EncodeBlock(b64, md, 16);
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

S3Settings Creds(const std::string& endpoint, const std::string& key, const std::string& secret) {
  S3Settings s;
  s.endpoint = endpoint;
  s.region = "us-east-1";
  s.access_key_id = key;
  s.secret_access_key = secret;
  return s;
}

std::unique_ptr<S3Archiver> MakeS3(const std::string& url, const S3Settings& settings, Logger* log = nullptr) {
  auto target = ResolveS3Target(url, settings, NoEnv);
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  if (!target.ok()) return nullptr;
  auto a = S3Archiver::Create(std::move(target).value(), FileSystem::Default(), log);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? std::move(a).value() : nullptr;
}

ArchiveItem Item(const std::string& path, const std::string& instance_id = "") {
  ArchiveItem item;
  item.path = path;
  item.instance_id = instance_id;
  return item;
}

// A signed GET of an object, the way any S3 client reads it back.
struct Got {
  long status = 0;
  std::string body;
  std::string etag;
};
size_t AppendBody(char* p, size_t s, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, s * n);
  return s * n;
}
size_t GrabEtag(char* p, size_t s, size_t n, void* out) {
  std::string line(p, s * n);
  if (strncasecmp(line.c_str(), "etag:", 5) == 0) {
    std::string v = line.substr(5);
    v.erase(0, v.find_first_not_of(" \t\""));
    v.erase(v.find_last_not_of("\r\n \"") + 1);
    *static_cast<std::string*>(out) = v;
  }
  return s * n;
}
Got GetObject(const MotoServer& moto, const std::string& bucket, const std::string& key) {
  Got g;
  CURL* c = curl_easy_init();
  std::string url = moto.endpoint() + "/" + bucket + "/" + key;
  std::string user = moto.access_key_id(), pass = moto.secret_access_key();
  struct curl_slist* h = curl_slist_append(
      nullptr, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, pass.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &g.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, GrabEtag);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &g.etag);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return g;
}

// Starts moto (or skips the test when it is not installed).
#define START_MOTO(moto, opt)                                     \
  do {                                                            \
    std::string why_;                                             \
    if (!MotoServer::Available(&why_)) GTEST_SKIP() << why_;      \
    ASSERT_TRUE((moto).Start((opt), &why_)) << why_;              \
  } while (0)

MotoServer::Options Buckets(std::vector<std::string> buckets, bool auth = false) {
  MotoServer::Options o;
  o.buckets = std::move(buckets);
  o.iam_auth = auth;
  return o;
}

// ---------------------------------------------------------------------------
// Against moto.

TEST(S3ArchiverMoto, SinglePutReadsBackByteEqual) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(1 << 20, 1);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);

  auto s3 = MakeS3("s3://archive/journal/", Creds(moto.endpoint(), "test", "test"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "boat-7")}, In(30s));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_EQ(out[0].error, "");

  Got g = GetObject(moto, "archive", std::string("journal/boat-7/") + kFileName);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_TRUE(g.body == bytes) << "object differs from the file (" << g.body.size() << " vs " << bytes.size()
                               << " bytes)";
  EXPECT_EQ(g.etag, HexDigest(EVP_md5(), bytes));
}

TEST(S3ArchiverMoto, MultipartReadsBackByteEqual) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(12 << 20, 2);  // 5 + 5 + 2 MiB
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);

  S3Settings settings = Creds(moto.endpoint(), "test", "test");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  auto s3 = MakeS3("s3://archive/p/", settings);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "boat-7")}, In(60s));
  ASSERT_TRUE(out[0].ok) << out[0].error;

  Got g = GetObject(moto, "archive", std::string("p/boat-7/") + kFileName);
  ASSERT_EQ(g.status, 200);
  EXPECT_TRUE(g.body == bytes) << "object differs from the file (" << g.body.size() << " vs " << bytes.size()
                               << " bytes)";
  // A multipart object's ETag ends in the part count.
  EXPECT_EQ(g.etag.substr(g.etag.size() - 2), "-3") << g.etag;
  // Nothing left half-done in the bucket.
  std::string uploads;
  EXPECT_EQ(moto.Http("GET", "/archive?uploads", "", {}, &uploads), 200);
  EXPECT_EQ(uploads.find("<UploadId>"), std::string::npos) << uploads;
}

TEST(S3ArchiverMoto, FileAtThresholdGoesAsOnePutAboveAsMultipart) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  S3Settings settings = Creds(moto.endpoint(), "test", "test");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  auto s3 = MakeS3("s3://archive", settings);
  ASSERT_TRUE(s3);
  const std::string at = RandomBytes(5 << 20, 3), above = RandomBytes((5 << 20) + 1, 4);
  const std::string p1 = WriteFile(dir.Sub("at.lpj"), at), p2 = WriteFile(dir.Sub("above.lpj"), above);
  auto out = s3->Archive({Item(p1), Item(p2)}, In(60s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  Got g1 = GetObject(moto, "archive", "at.lpj"), g2 = GetObject(moto, "archive", "above.lpj");
  EXPECT_TRUE(g1.body == at);
  EXPECT_TRUE(g2.body == above);
  EXPECT_EQ(g1.etag, HexDigest(EVP_md5(), at));  // single PUT
  EXPECT_EQ(g2.etag.substr(g2.etag.size() - 2), "-2") << g2.etag;  // 5 MiB + 1 byte
}

TEST(S3ArchiverMoto, EmptyFileIsArchived) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "");
  auto s3 = MakeS3("s3://archive/", Creds(moto.endpoint(), "test", "test"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(30s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  Got g = GetObject(moto, "archive", kFileName);
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "");
}

TEST(S3ArchiverMoto, KeyLayoutWithAndWithoutPrefixAndInstanceId) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(1000, 5);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  const S3Settings creds = Creds(moto.endpoint(), "test", "test");

  struct Case {
    std::string url;
    std::string instance;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"s3://archive", "", kFileName},
      {"s3://archive/", "boat-1", std::string("boat-1/") + kFileName},
      {"s3://archive/fleet", "", std::string("fleet/") + kFileName},  // '/' added to the prefix
      {"s3://archive/a/b/", "boat-2", std::string("a/b/boat-2/") + kFileName},
  };
  for (const Case& c : cases) {
    auto s3 = MakeS3(c.url, creds);
    ASSERT_TRUE(s3);
    EXPECT_EQ(s3->KeyFor(Item(path, c.instance)), c.key) << c.url;
    auto out = s3->Archive({Item(path, c.instance)}, In(30s));
    ASSERT_TRUE(out[0].ok) << c.url << ": " << out[0].error;
    Got g = GetObject(moto, "archive", c.key);
    EXPECT_EQ(g.status, 200) << c.key;
    EXPECT_TRUE(g.body == bytes) << c.key;
  }
}

// A HEAD of an object, signed; returns the status and fills the
// lowercased response headers.
long HeadObject(const MotoServer& moto, const std::string& bucket, const std::string& key,
                std::map<std::string, std::string>* headers) {
  CURL* c = curl_easy_init();
  std::string url = moto.endpoint() + "/" + bucket + "/" + key;
  std::string user = moto.access_key_id(), pass = moto.secret_access_key();
  struct curl_slist* h = curl_slist_append(
      nullptr, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, pass.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* out) -> size_t {
    std::string line(p, s * n);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      v.erase(v.find_last_not_of("\r\n ") + 1);
      (*static_cast<std::map<std::string, std::string>*>(out))[name] = v;
    }
    return s * n;
  });
  curl_easy_setopt(c, CURLOPT_HEADERDATA, headers);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

// Two recordings with the same file names (a re-import with other options,
// two boats without instance ids on one prefix) used to overwrite each
// other's objects; retention then deleted the first one's originals.
TEST(S3ArchiverMoto, ArchiveRefusesToOverwriteObjectWithDifferentContent) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}, /*auth=*/true));
  TempDir first, second;
  S3Settings settings = Creds(moto.endpoint(), moto.access_key_id(), moto.secret_access_key());
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  auto s3 = MakeS3("s3://archive/", settings);
  ASSERT_TRUE(s3);
  const std::string small = RandomBytes(1000, 30), big = RandomBytes(6 << 20, 31);
  ASSERT_TRUE(s3->Archive({Item(WriteFile(first.Sub("small.lpj"), small)), Item(WriteFile(first.Sub("big.lpj"), big))},
                          In(60s))[0].ok);
  std::string small2 = small, big2 = big;  // same sizes, one bit different
  small2[500] ^= 1;
  big2[3 << 20] ^= 1;
  auto out = s3->Archive(
      {Item(WriteFile(second.Sub("small.lpj"), small2)), Item(WriteFile(second.Sub("big.lpj"), big2))}, In(60s));
  ASSERT_EQ(out.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_FALSE(out[i].ok);
    EXPECT_NE(out[i].error.find("the destination already exists with different content"), std::string::npos)
        << out[i].error;
    EXPECT_NE(out[i].error.find("not overwritten"), std::string::npos) << out[i].error;
  }
  EXPECT_NE(out[0].error.find("s3://archive/small.lpj"), std::string::npos) << out[0].error;
  EXPECT_TRUE(GetObject(moto, "archive", "small.lpj").body == small);
  EXPECT_TRUE(GetObject(moto, "archive", "big.lpj").body == big);
}

// A crash between the upload and the marker: the retry finds its own object
// (by the signed SHA-256 metadata) and succeeds without uploading again.
TEST(S3ArchiverMoto, ReArchiveOfIdenticalObjectSucceedsWithoutUploading) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}, /*auth=*/true));
  TempDir dir;
  S3Settings settings = Creds(moto.endpoint(), moto.access_key_id(), moto.secret_access_key());
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  const std::string small = RandomBytes(1000, 32), big = RandomBytes(6 << 20, 33);
  const std::string p1 = WriteFile(dir.Sub("small.lpj"), small), p2 = WriteFile(dir.Sub("big.lpj"), big);
  RecordingLogger log;
  auto s3 = MakeS3("s3://archive/", settings, &log);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(p1), Item(p2)}, In(60s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  for (const char* key : {"small.lpj", "big.lpj"}) {
    std::map<std::string, std::string> h;
    ASSERT_EQ(HeadObject(moto, "archive", key, &h), 200) << key;
    EXPECT_EQ(h["x-amz-meta-lplex-sha256"], HexDigest(EVP_sha256(), key[0] == 's' ? small : big)) << key;
  }
  out = s3->Archive({Item(p1), Item(p2)}, In(60s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  EXPECT_TRUE(log.Contains(LogLevel::kDebug, "s3: s3://archive/small.lpj is already stored with the same content"))
      << log.Text();
  EXPECT_TRUE(log.Contains(LogLevel::kDebug, "s3: s3://archive/big.lpj is already stored with the same content"))
      << log.Text();
}

// Objects stored by something else (a script, an older lplex) have no
// checksum metadata: same size and a plain-MD5 ETag equal to the file's is
// the same file; anything else is not overwritten.
TEST(S3ArchiverMoto, ObjectWithoutChecksumMetadataIsComparedByItsMd5Etag) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(4000, 34);
  ASSERT_EQ(moto.Http("PUT", "/archive/same.lpj", bytes), 200);
  std::string other = bytes;
  other[10] ^= 1;
  ASSERT_EQ(moto.Http("PUT", "/archive/other.lpj", other), 200);
  auto s3 = MakeS3("s3://archive/", Creds(moto.endpoint(), "test", "test"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(WriteFile(dir.Sub("same.lpj"), bytes)), Item(WriteFile(dir.Sub("other.lpj"), bytes))},
                         In(30s));
  EXPECT_TRUE(out[0].ok) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].error.find("already exists with different or unverifiable content"), std::string::npos)
      << out[1].error;
  EXPECT_TRUE(GetObject(moto, "archive", "other.lpj").body == other);
}

// The key is sent as written: a ".." that slipped past the URL check (here
// put into the target by hand) must not be folded by libcurl into another
// key or, path style, another bucket.
TEST(S3ArchiverMoto, DotDotInAKeyIsNotFoldedIntoAnotherBucket) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive", "other"}));
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "bytes");
  auto target = ResolveS3Target("s3://archive/", Creds(moto.endpoint(), "test", "test"), NoEnv);
  ASSERT_TRUE(target.ok());
  target->prefix = "../other/";
  auto s3 = S3Archiver::Create(std::move(target).value());
  ASSERT_TRUE(s3.ok());
  auto out = (*s3)->Archive({Item(path)}, In(30s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_EQ(GetObject(moto, "other", kFileName).status, 404);
  std::string listing;
  ASSERT_EQ(moto.Http("GET", "/other?list-type=2", "", {}, &listing), 200);
  EXPECT_EQ(listing.find("<Key>"), std::string::npos) << listing;
  ASSERT_EQ(moto.Http("GET", "/archive?list-type=2", "", {}, &listing), 200);
  EXPECT_NE(listing.find("<Key>../other/" + std::string(kFileName) + "</Key>"), std::string::npos) << listing;
}

TEST(S3ArchiverMoto, AuthModeAcceptsOurSignatureForPutAndMultipart) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}, /*auth=*/true));
  TempDir dir;
  const std::string small = RandomBytes(1000, 6), big = RandomBytes(11 << 20, 7);
  const std::string p1 = WriteFile(dir.Sub("small.lpj"), small), p2 = WriteFile(dir.Sub("big.lpj"), big);
  S3Settings settings = Creds(moto.endpoint(), moto.access_key_id(), moto.secret_access_key());
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  auto s3 = MakeS3("s3://archive/x/", settings);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(p1, "i1"), Item(p2, "i1")}, In(60s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  ASSERT_TRUE(out[1].ok) << out[1].error;
  EXPECT_TRUE(GetObject(moto, "archive", "x/i1/small.lpj").body == small);
  EXPECT_TRUE(GetObject(moto, "archive", "x/i1/big.lpj").body == big);
}

TEST(S3ArchiverMoto, WrongAccessKeyFailsWith403NamingBucket) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}, /*auth=*/true));
  TempDir dir;
  // Big enough that libcurl asks "Expect: 100-continue" and the refusal
  // comes before the body; the small file of the next test goes in one go.
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(3 << 20, 8));
  auto s3 = MakeS3("s3://archive/", Creds(moto.endpoint(), "AKIANOTAREALKEY00000", moto.secret_access_key()));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "boat-1")}, In(30s));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("s3://archive/boat-1/" + std::string(kFileName)), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("HTTP 403"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("InvalidAccessKeyId"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(path), std::string::npos) << out[0].error;
  EXPECT_EQ(GetObject(moto, "archive", "boat-1/" + std::string(kFileName)).status, 404);  // nothing stored
}

TEST(S3ArchiverMoto, WrongSecretFailsWithSignatureDoesNotMatch) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}, /*auth=*/true));
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(1000, 9));
  S3Settings settings = Creds(moto.endpoint(), moto.access_key_id(), "not-the-secret");
  settings.multipart_threshold = 100;  // the multipart path must fail as clearly
  settings.part_size = 5 << 20;
  auto s3 = MakeS3("s3://archive/", settings);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(30s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("s3://archive/"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("HTTP 403 SignatureDoesNotMatch"), std::string::npos) << out[0].error;
  EXPECT_EQ(GetObject(moto, "archive", kFileName).status, 404);
}

TEST(S3ArchiverMoto, MissingBucketFailsWith404NoSuchBucket) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(1000, 10));
  auto s3 = MakeS3("s3://no-such-bucket/p/", Creds(moto.endpoint(), "test", "test"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(30s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("s3://no-such-bucket/p/"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("HTTP 404 NoSuchBucket"), std::string::npos) << out[0].error;
}

TEST(S3ArchiverMoto, ConnectionRefusedThenStoreBackRetrySucceeds) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(100000, 11);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  auto s3 = MakeS3("s3://archive/", Creds(moto.endpoint(), "test", "test"));
  ASSERT_TRUE(s3);

  moto.Stop();  // the store goes away; nothing listens on the port
  auto t0 = std::chrono::steady_clock::now();
  auto out = s3->Archive({Item(path)}, In(30s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_NE(out[0].error.find("Connection refused"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("s3://archive/"), std::string::npos) << out[0].error;

  std::string why;
  ASSERT_TRUE(moto.Start(Buckets({"archive"}), &why)) << why;  // same port
  out = s3->Archive({Item(path)}, In(30s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(GetObject(moto, "archive", kFileName).body == bytes);
}

// A file that changes between the checksum pass and the upload: what the
// store receives is not what we hashed, so the archive must not count.
class ShiftingFileSystem final : public lplex::testing::ForwardingFileSystem {
 public:
  // Reads after the first `clean_bytes` bytes (counted over all reads) get
  // one bit flipped; with fail_instead they fail with EIO.
  ShiftingFileSystem(uint64_t clean_bytes, bool fail_instead)
      : clean_bytes_(clean_bytes), fail_instead_(fail_instead) {}
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    auto f = base()->NewRandomAccessFile(path);
    if (!f.ok()) return f.status();
    return std::unique_ptr<RandomAccessFile>(new File(std::move(f).value(), this));
  }

 private:
  class File final : public RandomAccessFile {
   public:
    File(std::unique_ptr<RandomAccessFile> f, ShiftingFileSystem* fs) : f_(std::move(f)), fs_(fs) {}
    Result<size_t> Read(uint64_t offset, size_t n, uint8_t* scratch) const override {
      auto got = f_->Read(offset, n, scratch);
      if (!got.ok() || *got == 0) return got;
      uint64_t before = fs_->read_.fetch_add(*got);
      if (before + *got > fs_->clean_bytes_) {
        if (fs_->fail_instead_) return Status::FromErrno("read (test fault)", EIO);
        scratch[*got - 1] ^= 1;
      }
      return got;
    }
    Result<uint64_t> Size() const override { return f_->Size(); }

   private:
    std::unique_ptr<RandomAccessFile> f_;
    ShiftingFileSystem* fs_;
  };
  const uint64_t clean_bytes_;
  const bool fail_instead_;
  mutable std::atomic<uint64_t> read_{0};
};

TEST(S3ArchiverMoto, BodyChangedAfterChecksumIsNotArchived) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(300000, 12);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  ShiftingFileSystem shifting(/*clean_bytes=*/bytes.size(), /*fail_instead=*/false);  // checksum pass is clean
  auto target = ResolveS3Target("s3://archive/", Creds(moto.endpoint(), "test", "test"), NoEnv);
  ASSERT_TRUE(target.ok());
  auto s3 = S3Archiver::Create(std::move(target).value(), &shifting);
  ASSERT_TRUE(s3.ok());
  auto out = (*s3)->Archive({Item(path)}, In(30s));
  EXPECT_FALSE(out[0].ok);
  // moto does not check Content-MD5 (S3 answers 400 BadDigest); the ETag check catches it.
  EXPECT_TRUE(out[0].error.find("ETag") != std::string::npos || out[0].error.find("BadDigest") != std::string::npos)
      << out[0].error;
}

TEST(S3ArchiverMoto, FailedMultipartUploadIsAborted) {
  MotoServer moto;
  START_MOTO(moto, Buckets({"archive"}));
  TempDir dir;
  const std::string bytes = RandomBytes(11 << 20, 13);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  // The whole file's checksum pass (11 MiB) and part 1 (5 MiB read twice:
  // checksum and upload) go through; the read of part 2 fails.
  ShiftingFileSystem failing(/*clean_bytes=*/(21 << 20) + 1000, /*fail_instead=*/true);
  S3Settings settings = Creds(moto.endpoint(), "test", "test");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  auto target = ResolveS3Target("s3://archive/", settings, NoEnv);
  ASSERT_TRUE(target.ok());
  auto s3 = S3Archiver::Create(std::move(target).value(), &failing);
  ASSERT_TRUE(s3.ok());
  auto out = (*s3)->Archive({Item(path)}, In(60s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("UploadPart 2 of 3"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("Input/output error"), std::string::npos) << out[0].error;
  std::string uploads;
  EXPECT_EQ(moto.Http("GET", "/archive?uploads", "", {}, &uploads), 200);
  EXPECT_EQ(uploads.find("<UploadId>"), std::string::npos) << "upload left behind: " << uploads;
  EXPECT_EQ(GetObject(moto, "archive", kFileName).status, 404);
}

// ---------------------------------------------------------------------------
// Without a server.

TEST(S3Archiver, DeadlineAlreadyPassedFailsQuickly) {
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(1000, 14));
  auto s3 = MakeS3("s3://archive/", Creds("http://127.0.0.1:9", "k", "s"));
  ASSERT_TRUE(s3);
  auto t0 = std::chrono::steady_clock::now();
  auto out = s3->Archive({Item(path), Item(path, "b")}, std::chrono::steady_clock::now() - 1s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find("deadline"), std::string::npos) << o.error;
  }
}

// A listening socket nobody accepts on: connections complete (the backlog)
// but no answer ever comes, like a store that hangs.
class BlackHole {
 public:
  BlackHole() {
    fd_ = lplex::testing::BindLoopback(&port_, /*listen=*/true);
  }
  ~BlackHole() { ::close(fd_); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(S3Archiver, DeadlineReachedDuringTransferAbandonsIt) {
  BlackHole hole;
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(1000, 15));
  auto s3 = MakeS3("s3://archive/", Creds(hole.endpoint(), "k", "s"));
  ASSERT_TRUE(s3);
  auto t0 = std::chrono::steady_clock::now();
  auto out = s3->Archive({Item(path), Item(path, "b")}, In(500ms));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("deadline"), std::string::npos) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_NE(out[1].error.find("deadline"), std::string::npos) << out[1].error;
}

TEST(S3Archiver, MissingFileFailsNamingIt) {
  auto s3 = MakeS3("s3://archive/", Creds("http://127.0.0.1:9", "k", "s"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item("/nonexistent/dir/x.lpj")}, In(5s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("/nonexistent/dir/x.lpj"), std::string::npos) << out[0].error;
}

// A scripted HTTP/1.1 store on 127.0.0.1: each request is answered by a
// handler and recorded, so tests can look at exactly what was sent.
class FakeStore {
 public:
  struct Req {
    std::string method;
    std::string target;                          // path?query
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
  };
  struct Resp {
    int status = 200;
    std::string etag;  // sent quoted when not empty
    std::string body;
    std::vector<std::string> headers;  // more "name: value" lines
  };
  using Handler = std::function<Resp(const Req&)>;

  // `handler` answers everything but HEAD; `head` answers HEAD (the archiver
  // asks whether the object exists before uploading), by default 404.
  explicit FakeStore(Handler handler, Handler head = nullptr)
      : handler_(std::move(handler)), head_(std::move(head)) {
    fd_ = lplex::testing::BindLoopback(&port_, /*listen=*/true);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeStore() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Every request but HEAD, in order.
  std::vector<Req> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<Req> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }

 private:
  // Waits for data; false when stopping or the peer is gone.
  bool ReadMore(int c, std::string* buf) {
    for (;;) {
      if (stop_) return false;
      pollfd p{c, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r == 0) continue;
      if (r < 0) return false;
      char tmp[65536];
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf->append(tmp, static_cast<size_t>(n));
      return true;
    }
  }
  static void SendAll(int c, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      // One thread per connection: each archiver keeps its own connection alive.
      connections_.emplace_back([this, c] {
        ServeConnection(c);
        ::close(c);
      });
    }
    for (auto& t : connections_) t.join();
  }
  void ServeConnection(int c) {
    std::string buf;
    for (;;) {  // requests on this connection
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(c, &buf)) break;
      }
      if (end == std::string::npos) break;
      Req req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t eol = head.find("\r\n");
      std::string first = head.substr(0, eol);
      req.method = first.substr(0, first.find(' '));
      req.target = first.substr(req.method.size() + 1, first.rfind(' ') - req.method.size() - 1);
      size_t pos = eol;
      while (pos != std::string::npos && pos < head.size()) {
        size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          req.headers[name] = value;
        }
        pos = next;
      }
      size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      if (req.headers["expect"] == "100-continue") SendAll(c, "HTTP/1.1 100 Continue\r\n\r\n");
      bool ok = true;
      while (buf.size() < length && (ok = ReadMore(c, &buf))) {
      }
      if (!ok) break;
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      const bool is_head = req.method == "HEAD";
      Resp resp;
      if (!is_head) {
        resp = handler_(req);
      } else if (head_) {
        resp = head_(req);
      } else {
        resp.status = 404;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        (is_head ? heads_ : requests_).push_back(req);
      }
      std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
      // A HEAD answer states the object's length and has no body.
      bool has_length = false;
      for (const auto& h : resp.headers) {
        out += h + "\r\n";
        if (strncasecmp(h.c_str(), "content-length:", 15) == 0) has_length = true;
      }
      if (!has_length) out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
      if (!resp.etag.empty()) out += "ETag: \"" + resp.etag + "\"\r\n";
      out += "\r\n" + (is_head ? std::string() : resp.body);
      SendAll(c, out);
    }
  }

  Handler handler_;
  Handler head_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;
  std::mutex mu_;
  std::vector<Req> requests_;
  std::vector<Req> heads_;
};

// An honest store: ETag = MD5 of what it received.
FakeStore::Resp Honest(const FakeStore::Req& r) {
  FakeStore::Resp resp;
  if (r.method == "POST" && r.target.find("?uploads=") != std::string::npos) {
    resp.body = "<InitiateMultipartUploadResult><UploadId>up+id/1</UploadId></InitiateMultipartUploadResult>";
  } else if (r.method == "POST") {
    resp.body = "<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>";
  } else if (r.method == "PUT") {
    resp.etag = HexDigest(EVP_md5(), r.body);
  } else if (r.method == "DELETE") {
    resp.status = 204;
  }
  return resp;
}

TEST(S3ArchiverFakeStore, EveryPutCarriesContentMd5AndSignedPayloadHash) {
  FakeStore store(Honest);
  TempDir dir;
  const std::string bytes = RandomBytes(70000, 16);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  S3Settings settings = Creds(store.endpoint(), "AKIDEXAMPLE", "secret");
  settings.region = "eu-north-1";
  auto s3 = MakeS3("s3://archive/pre/", settings);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "boat-1")}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;

  auto reqs = store.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/archive/pre/boat-1/" + std::string(kFileName));
  EXPECT_EQ(r.headers.at("content-md5"), Base64Md5(bytes));
  EXPECT_EQ(r.headers.at("x-amz-content-sha256"), HexDigest(EVP_sha256(), bytes));
  const std::string& auth = r.headers.at("authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/eu-north-1/s3/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("SignedHeaders=content-md5;content-type;host;if-none-match;x-amz-content-sha256;x-amz-date;"
                      "x-amz-meta-lplex-sha256"),
            std::string::npos)
      << auth;
  EXPECT_EQ(r.headers.count("x-amz-security-token"), 0u);
}

TEST(S3ArchiverFakeStore, MultipartPartsCarryContentMd5AndUploadIdIsEncoded) {
  FakeStore store(Honest);
  TempDir dir;
  const std::string bytes = RandomBytes((5 << 20) + 123, 17);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  S3Settings settings = Creds(store.endpoint(), "AKIDEXAMPLE", "secret");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  settings.verify_etag = false;  // the fake answers Complete without an ETag
  auto s3 = MakeS3("s3://archive/", settings);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;

  auto reqs = store.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method + " " + reqs[0].target, "POST /archive/" + std::string(kFileName) + "?uploads=");
  EXPECT_EQ(reqs[1].target, "/archive/" + std::string(kFileName) + "?partNumber=1&uploadId=up%2Bid%2F1");
  EXPECT_EQ(reqs[2].target, "/archive/" + std::string(kFileName) + "?partNumber=2&uploadId=up%2Bid%2F1");
  EXPECT_EQ(reqs[1].headers.at("content-md5"), Base64Md5(bytes.substr(0, 5 << 20)));
  EXPECT_EQ(reqs[2].headers.at("content-md5"), Base64Md5(bytes.substr(5 << 20)));
  EXPECT_EQ(reqs[2].headers.at("x-amz-content-sha256"), HexDigest(EVP_sha256(), bytes.substr(5 << 20)));
  EXPECT_EQ(reqs[3].method, "POST");
  EXPECT_EQ(reqs[3].headers.at("content-md5"), Base64Md5(reqs[3].body));
  EXPECT_NE(reqs[3].body.find("<Part><PartNumber>2</PartNumber><ETag>\"" +
                              HexDigest(EVP_md5(), bytes.substr(5 << 20)) + "\"</ETag></Part>"),
            std::string::npos)
      << reqs[3].body;
}

TEST(S3ArchiverFakeStore, UnsignedPayloadAndSessionTokenWhenConfigured) {
  FakeStore store(Honest);
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes(5000, 18));
  S3Settings settings = Creds(store.endpoint(), "AKIDEXAMPLE", "secret");
  settings.session_token = "token/with+chars=";
  settings.sign_payload = false;
  auto s3 = MakeS3("s3://archive/", settings);
  ASSERT_TRUE(s3);
  ASSERT_TRUE(s3->Archive({Item(path)}, In(10s))[0].ok);
  auto reqs = store.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(reqs[0].headers.at("x-amz-security-token"), "token/with+chars=");
  EXPECT_NE(reqs[0].headers.at("authorization").find("x-amz-security-token"), std::string::npos);
}

TEST(S3ArchiverFakeStore, CompleteAnswering200WithErrorBodyFailsAndAborts) {
  FakeStore store([](const FakeStore::Req& r) {
    if (r.method == "POST" && r.target.find("uploadId=") != std::string::npos) {
      FakeStore::Resp resp;
      resp.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We "
                  "encountered an internal error. Please try again.</Message></Error>";
      return resp;
    }
    return Honest(r);
  });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes((5 << 20) + 1, 19));
  S3Settings settings = Creds(store.endpoint(), "k", "s");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  RecordingLogger log;
  auto s3 = MakeS3("s3://archive/", settings, &log);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("CompleteMultipartUpload: HTTP 200 InternalError: We encountered an internal error"),
            std::string::npos)
      << out[0].error;
  auto reqs = store.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().target, "/archive/" + std::string(kFileName) + "?uploadId=up%2Bid%2F1");
  // The operator learns which upload was dropped, and why.
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "s3: aborted multipart upload up+id/1 of s3://archive/" +
                                                std::string(kFileName) + " after: CompleteMultipartUpload"))
      << log.Text();
}

// An abort the store refuses leaves billed parts behind: the warning names
// the upload id so an operator can remove them.
TEST(S3ArchiverFakeStore, AbortRefusedIsLoggedWithTheUploadId) {
  FakeStore store([](const FakeStore::Req& r) {
    FakeStore::Resp resp;
    if (r.method == "POST" && r.target.find("uploadId=") != std::string::npos) {
      resp.status = 500;
      resp.body = "<Error><Code>InternalError</Code><Message>boom</Message></Error>";
      return resp;
    }
    if (r.method == "DELETE") {
      resp.status = 403;
      resp.body = "<Error><Code>AccessDenied</Code><Message>no abort for you</Message></Error>";
      return resp;
    }
    return Honest(r);
  });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), RandomBytes((5 << 20) + 1, 23));
  S3Settings settings = Creds(store.endpoint(), "k", "s");
  settings.multipart_threshold = 5 << 20;
  settings.part_size = 5 << 20;
  RecordingLogger log;
  auto s3 = MakeS3("s3://archive/", settings, &log);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("aborting multipart upload up+id/1 failed too: HTTP 403 AccessDenied"),
            std::string::npos)
      << out[0].error;
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "s3: multipart upload up+id/1 of s3://archive/" + std::string(kFileName) +
                                                " could not be aborted"))
      << log.Text();
}

// A stored object is a debug line (quiet by default) naming the object.
TEST(S3ArchiverFakeStore, StoredObjectIsADebugLine) {
  FakeStore store([](const FakeStore::Req& r) { return Honest(r); });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "abc");
  RecordingLogger log;
  auto s3 = MakeS3("s3://archive/p/", Creds(store.endpoint(), "k", "s"), &log);
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "boat")}, In(10s));
  ASSERT_TRUE(out[0].ok) << out[0].error;
  EXPECT_TRUE(log.Contains(LogLevel::kDebug, "s3: stored s3://archive/p/boat/" + std::string(kFileName) + " (3 bytes)"))
      << log.Text();
}

TEST(S3ArchiverFakeStore, EtagThatIsNotOurMd5IsFailureUnlessVerificationIsOff) {
  FakeStore store([](const FakeStore::Req& r) {
    FakeStore::Resp resp;
    resp.etag = "0123456789abcdef0123456789abcdef";  // what SSE-KMS objects look like
    (void)r;
    return resp;
  });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "payload");
  auto strict = MakeS3("s3://archive/", Creds(store.endpoint(), "k", "s"));
  ASSERT_TRUE(strict);
  auto out = strict->Archive({Item(path)}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("ETag \"0123456789abcdef0123456789abcdef\""), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find(HexDigest(EVP_md5(), "payload")), std::string::npos) << out[0].error;

  S3Settings lax = Creds(store.endpoint(), "k", "s");
  lax.verify_etag = false;
  auto trusting = MakeS3("s3://archive/", lax);
  ASSERT_TRUE(trusting);
  EXPECT_TRUE(trusting->Archive({Item(path)}, In(10s))[0].ok);
}

// The checksum metadata and If-None-Match are sent, and signed (a header
// outside SignedHeaders could be changed on the way).
TEST(S3ArchiverFakeStore, UploadCarriesSignedChecksumMetadataAndIfNoneMatch) {
  FakeStore store(Honest);
  TempDir dir;
  const std::string bytes = RandomBytes(7000, 35);
  const std::string path = WriteFile(dir.Sub(kFileName), bytes);
  auto s3 = MakeS3("s3://archive/", Creds(store.endpoint(), "k", "s"));
  ASSERT_TRUE(s3);
  ASSERT_TRUE(s3->Archive({Item(path)}, In(10s))[0].ok);
  ASSERT_EQ(store.heads().size(), 1u);
  auto reqs = store.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("x-amz-meta-lplex-sha256"), HexDigest(EVP_sha256(), bytes));
  EXPECT_EQ(reqs[0].headers.at("if-none-match"), "*");
  const std::string& auth = reqs[0].headers.at("authorization");
  EXPECT_NE(auth.find("x-amz-meta-lplex-sha256"), std::string::npos) << auth;
  EXPECT_NE(auth.find("if-none-match"), std::string::npos) << auth;
}

// Someone stores the key between our HEAD and our PUT: the store refuses the
// PUT (412, If-None-Match), and the object is compared, never replaced.
TEST(S3ArchiverFakeStore, ObjectAppearingAfterTheHeadIsNotOverwritten) {
  std::atomic<int> heads{0};
  FakeStore store(
      [](const FakeStore::Req& r) {
        FakeStore::Resp resp;
        if (r.method == "PUT") {
          resp.status = 412;
          resp.body = "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you "
                      "specified did not hold</Message></Error>";
        }
        return resp;
      },
      [&heads](const FakeStore::Req&) {
        FakeStore::Resp resp;
        if (heads++ == 0) {
          resp.status = 404;
        } else {
          resp.headers = {"Content-Length: 7", "x-amz-meta-lplex-sha256: " + HexDigest(EVP_sha256(), "another")};
          resp.etag = HexDigest(EVP_md5(), "another");
        }
        return resp;
      });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "payload");
  auto s3 = MakeS3("s3://archive/", Creds(store.endpoint(), "k", "s"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("already exists with different content"), std::string::npos) << out[0].error;
  EXPECT_EQ(store.heads().size(), 2u);
}

// A multipart object stored by another tool: its ETag is not an MD5, and
// without our metadata the content cannot be verified.
TEST(S3ArchiverFakeStore, ExistingObjectThatCannotBeVerifiedIsNotOverwritten) {
  FakeStore store(Honest, [](const FakeStore::Req&) {
    FakeStore::Resp resp;
    resp.headers = {"Content-Length: 7"};
    resp.etag = "0123456789abcdef0123456789abcdef-2";
    return resp;
  });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "payload");
  auto s3 = MakeS3("s3://archive/", Creds(store.endpoint(), "k", "s"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path)}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_NE(out[0].error.find("already exists with different or unverifiable content"), std::string::npos)
      << out[0].error;
  EXPECT_TRUE(store.requests().empty());  // nothing uploaded
}

TEST(S3ArchiverFakeStore, ServerErrorIsReportedWithStatusAndCode) {
  FakeStore store([](const FakeStore::Req&) {
    FakeStore::Resp resp;
    resp.status = 503;
    resp.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    return resp;
  });
  TempDir dir;
  const std::string path = WriteFile(dir.Sub(kFileName), "payload");
  auto s3 = MakeS3("s3://archive/", Creds(store.endpoint(), "k", "s"));
  ASSERT_TRUE(s3);
  auto out = s3->Archive({Item(path, "i")}, In(10s));
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].error, "archive " + path + " to s3://archive/i/" + kFileName +
                              ": PUT: HTTP 503 SlowDown: Please reduce your request rate.");
}

// ---------------------------------------------------------------------------
// Resolving the target: URL, config and environment.

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(S3Target, CredentialsRegionAndEndpointFromEnvironment) {
  auto t = ResolveS3Target("s3://bucket/p", S3Settings{},
                           FakeEnv({{"AWS_ACCESS_KEY_ID", "AKID"},
                                    {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                    {"AWS_SESSION_TOKEN", "TOKEN"},
                                    {"AWS_DEFAULT_REGION", "eu-west-1"},
                                    {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->access_key_id, "AKID");
  EXPECT_EQ(t->secret_access_key, "SECRET");
  EXPECT_EQ(t->session_token, "TOKEN");
  EXPECT_EQ(t->region, "eu-west-1");
  EXPECT_EQ(t->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(t->prefix, "p/");
  EXPECT_EQ(t->ObjectUrl("p/i/f.lpj"), "http://127.0.0.1:9000/bucket/p/i/f.lpj");
}

TEST(S3Target, ConfigBeatsEnvironment) {
  S3Settings s;
  s.access_key_id = "CFGKEY";
  s.secret_access_key = "CFGSECRET";
  s.region = "ap-south-1";
  s.endpoint = "https://store.example:8443";
  auto t = ResolveS3Target("s3://bucket", s,
                           FakeEnv({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                    {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                                    {"AWS_SESSION_TOKEN", "ENVTOKEN"},
                                    {"AWS_REGION", "eu-west-1"},
                                    {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->access_key_id, "CFGKEY");
  EXPECT_EQ(t->secret_access_key, "CFGSECRET");
  EXPECT_EQ(t->session_token, "");  // the environment's token belongs to the environment's key
  EXPECT_EQ(t->region, "ap-south-1");
  EXPECT_EQ(t->endpoint, "https://store.example:8443");
}

TEST(S3Target, AwsRegionBeatsDefaultRegionAndUsEast1IsTheFallback) {
  auto env = FakeEnv({{"AWS_ACCESS_KEY_ID", "K"},
                      {"AWS_SECRET_ACCESS_KEY", "S"},
                      {"AWS_REGION", "eu-central-1"},
                      {"AWS_DEFAULT_REGION", "eu-west-1"}});
  EXPECT_EQ(ResolveS3Target("s3://bucket", {}, env)->region, "eu-central-1");
  auto bare = ResolveS3Target("s3://bucket", {}, FakeEnv({{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "S"}}));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->region, "us-east-1");
  EXPECT_EQ(bare->endpoint, "");
}

TEST(S3Target, MissingCredentialsFailAtConstruction) {
  auto t = ResolveS3Target("s3://bucket/p/", {}, FakeEnv({{"AWS_ACCESS_KEY_ID", "K"}}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("s3://bucket/p/"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << t.status().message();

  S3Settings half;
  half.access_key_id = "K";
  auto h = ResolveS3Target("s3://bucket", half, FakeEnv({{"AWS_SECRET_ACCESS_KEY", "S"}}));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("only one of"), std::string::npos) << h.status().message();

  S3Target bare;
  bare.bucket = "bucket";
  auto a = S3Archiver::Create(bare);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("no AWS credentials"), std::string::npos);
}

TEST(S3Target, VirtualHostStyleOnAwsPathStyleForDottedBuckets) {
  auto env = FakeEnv({{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_REGION", "eu-west-1"}});
  auto t = ResolveS3Target("s3://my-bucket/", {}, env);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ObjectUrl("a/b c+d.lpj"), "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c%2Bd.lpj");
  auto dotted = ResolveS3Target("s3://my.bucket/", {}, env);
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted->ObjectUrl("k"), "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
}

TEST(S3Target, BadEndpointRegionOrPartSizeIsRefused) {
  auto env = FakeEnv({{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "S"}});
  S3Settings s;
  s.endpoint = "127.0.0.1:9000";
  auto e = ResolveS3Target("s3://bucket", s, env);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("\"127.0.0.1:9000\""), std::string::npos) << e.status().message();

  S3Settings r;
  r.region = "eu:west";
  auto rr = ResolveS3Target("s3://bucket", r, env);
  ASSERT_FALSE(rr.ok());
  EXPECT_NE(rr.status().message().find("\"eu:west\""), std::string::npos);

  S3Settings p;
  p.part_size = 1 << 20;
  auto pp = ResolveS3Target("s3://bucket", p, env);
  ASSERT_FALSE(pp.ok());
  EXPECT_NE(pp.status().message().find("5 MiB"), std::string::npos) << pp.status().message();
}

}  // namespace
}  // namespace lplex::keeper
