#include "keeper/s3_archiver.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "core/hex.h"
#include "core/strings.h"

namespace lplex::keeper {
namespace {

using std::chrono::milliseconds;

constexpr size_t kReadChunk = size_t{1} << 20;        // digest pass and upload reads
constexpr size_t kMaxResponseBody = size_t{1} << 20;  // XML answers are small; cap what we keep
constexpr uint64_t kMaxParts = 10000;                 // S3's limit per multipart upload
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// curl_global_init is not thread-safe and must run once before any handle.
CURLcode GlobalInitCurl() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc;
}

std::string Base64(const uint8_t* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

// One-shot digest of bytes in memory.
std::vector<uint8_t> DigestOf(const EVP_MD* md, std::string_view data) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  out.resize(len);
  return out;
}

// The text of the first <tag>...</tag> in an S3 XML answer, entities
// resolved; "" when absent. S3's answers are flat enough for this.
std::string XmlText(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag);
  const std::string close = fmt::format("</{}>", tag);
  size_t b = xml.find(open);
  if (b == std::string_view::npos) return "";
  b += open.size();
  size_t e = xml.find(close, b);
  if (e == std::string_view::npos) return "";
  std::string_view raw = xml.substr(b, e - b);
  std::string out;
  out.reserve(raw.size());
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
      {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}}};
  for (size_t i = 0; i < raw.size();) {
    bool replaced = false;
    if (raw[i] == '&') {
      for (const auto& [name, ch] : kEntities) {
        if (raw.substr(i, name.size()) == name) {
          out += ch;
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += raw[i++];
  }
  return out;
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// Rounded up, so a transfer given this as its timeout ends at or after the
// deadline (and its timeout is recognised as the deadline's). This is where
// the archiver's clock meets real I/O: curl gets the time left on `clock` as
// a real timeout (on a FakeClock, the fake time left).
milliseconds TimeLeft(const lplex::Clock& clock, Deadline deadline) {
  return std::chrono::ceil<milliseconds>(deadline - clock.Monotonic());
}

struct RequestBody {
  const std::string* memory = nullptr;  // POST body, or
  RandomAccessFile* file = nullptr;     // PUT body: file[offset, offset + length)
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Request {
  const char* method = "GET";  // GET, PUT (with a file body), POST (with a memory body), DELETE
  std::string url;
  std::vector<std::string> headers;
  RequestBody body;
  milliseconds timeout{0};
};

struct Response {
  CURLcode curl = CURLE_OK;
  std::string transfer_error;  // curl's message, or why reading the file failed
  long status = 0;
  std::string etag;  // quotes removed
  std::string body;  // up to kMaxResponseBody
  // From a HEAD: the object's size and our checksum metadata ("" when absent).
  std::optional<uint64_t> content_length;
  std::string meta_sha256;
};

// Object metadata with the SHA-256 (hex) of the whole file, written on every
// upload so that a later archiver can tell an equal copy from a different
// one without downloading it.
constexpr std::string_view kShaMetaHeader = "x-amz-meta-lplex-sha256";

// The value of "name: value" when `line` is that header, else nullopt.
std::optional<std::string_view> HeaderValue(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':' || !StartsWithIgnoreCase(line, name)) {
    return std::nullopt;
  }
  std::string_view v = line.substr(name.size() + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return v;
}

}  // namespace

// One reused libcurl easy handle that performs signed S3 requests.
class S3Archiver::Http {
 public:
  explicit Http(const S3Target& target)
      : sigv4_("aws:amz:" + target.region + ":s3"),
        user_(target.access_key_id),
        secret_(target.secret_access_key),
        session_token_(target.session_token),
        settings_(target.settings) {}
  ~Http() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  Status Init() {
    CURLcode rc = GlobalInitCurl();
    if (rc != CURLE_OK) return Status::IOError(std::string("curl_global_init: ") + curl_easy_strerror(rc));
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return Status::IOError("curl_easy_init failed");
    return Status::Ok();
  }

  Response Perform(const Request& req) {
    Response resp;
    req_ = &req;
    resp_ = &resp;
    sent_ = 0;
    read_error_.clear();
    errbuf_[0] = '\0';

    // A clean slate for every request (options of the previous one, say
    // UPLOAD, must not leak), while connections stay cached for reuse.
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    // Keys are sent as written: without this, libcurl folds "/./" and
    // "/../" in the path, which would store an object under another key, or
    // (path style) in another bucket. ParseS3Url refuses such prefixes
    // already; this is the second guard.
    curl_easy_setopt(curl_, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "lplex++ keeper");
    curl_easy_setopt(curl_, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(curl_, CURLOPT_USERNAME, user_.c_str());
    curl_easy_setopt(curl_, CURLOPT_PASSWORD, secret_.c_str());
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(settings_.low_speed_bytes_per_s));
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings_.low_speed_time.count()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, std::max<long>(1, static_cast<long>(req.timeout.count())));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Http::OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Http::OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);

    // libcurl (7.88) signs every header set here plus host and x-amz-date,
    // and takes the payload hash from our x-amz-content-sha256 header. The
    // header is required: without it libcurl hashes CURLOPT_POSTFIELDS,
    // i.e. the empty string for an upload from a read callback, and S3
    // needs the header on every SigV4 request anyway. The query string is
    // signed as written, so callers pass it in canonical form (sorted
    // keys, "uploads=" with its '=', values URI-encoded).
    struct curl_slist* headers = nullptr;
    for (const std::string& h : req.headers) headers = curl_slist_append(headers, h.c_str());
    std::string token_header;
    if (!session_token_.empty()) {
      token_header = "x-amz-security-token: " + session_token_;
      headers = curl_slist_append(headers, token_header.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);

    if (std::strcmp(req.method, "PUT") == 0) {
      curl_easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.length));
      curl_easy_setopt(curl_, CURLOPT_READFUNCTION, &Http::OnRead);
      curl_easy_setopt(curl_, CURLOPT_READDATA, this);
      curl_easy_setopt(curl_, CURLOPT_SEEKFUNCTION, &Http::OnSeek);
      curl_easy_setopt(curl_, CURLOPT_SEEKDATA, this);
      curl_easy_setopt(curl_, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(512 * 1024));
    } else if (std::strcmp(req.method, "POST") == 0) {
      const std::string& body = *req.body.memory;
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    } else if (std::strcmp(req.method, "HEAD") == 0) {
      curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    } else if (std::strcmp(req.method, "GET") != 0) {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, req.method);
    }

    resp.curl = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_slist_free_all(headers);
    if (resp.curl != CURLE_OK) {
      if (!read_error_.empty()) {
        resp.transfer_error = read_error_;
      } else {
        resp.transfer_error = curl_easy_strerror(resp.curl);
        if (errbuf_[0] != '\0') resp.transfer_error += std::string(" (") + errbuf_ + ")";
        // libcurl 7.88 words a refused connection "Couldn't connect to
        // server"; the errno says what an operator needs to know.
        long os_errno = 0;
        if (curl_easy_getinfo(curl_, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno != 0) {
          std::string why = std::strerror(static_cast<int>(os_errno));
          if (resp.transfer_error.find(why) == std::string::npos) resp.transfer_error += ": " + why;
        }
      }
    }
    req_ = nullptr;
    resp_ = nullptr;
    return resp;
  }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<Http*>(self_ptr);
    size_t bytes = size * n;
    std::string& body = self->resp_->body;
    if (body.size() < kMaxResponseBody) body.append(data, std::min(bytes, kMaxResponseBody - body.size()));
    return bytes;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<Http*>(self_ptr);
    size_t bytes = size * n;
    std::string_view line(data, bytes);
    Response& r = *self->resp_;
    if (line.substr(0, 5) == "HTTP/") {
      // A new response (after "100 Continue").
      r.etag.clear();
      r.content_length.reset();
      r.meta_sha256.clear();
    } else if (auto etag = HeaderValue(line, "etag")) {
      r.etag = StripQuotes(std::string(*etag));
    } else if (auto length = HeaderValue(line, "content-length")) {
      uint64_t n = 0;
      bool ok = !length->empty() && length->size() <= 19;
      for (char c : *length) {
        if (c < '0' || c > '9') ok = false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (ok) r.content_length = n;
    } else if (auto sha = HeaderValue(line, kShaMetaHeader)) {
      r.meta_sha256 = std::string(*sha);
    }
    return bytes;
  }

  static size_t OnRead(char* buffer, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<Http*>(self_ptr);
    const RequestBody& body = self->req_->body;
    uint64_t left = body.length - self->sent_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * n));
    if (want == 0) return 0;
    auto got = body.file->Read(body.offset + self->sent_, want, reinterpret_cast<uint8_t*>(buffer));
    if (!got.ok()) {
      self->read_error_ = got.status().message();
      return CURL_READFUNC_ABORT;
    }
    if (*got == 0) {
      self->read_error_ = fmt::format("the file ended after {} of {} bytes (it shrank during the upload)",
                                      body.offset + self->sent_, body.offset + body.length);
      return CURL_READFUNC_ABORT;
    }
    self->sent_ += *got;
    return *got;
  }

  static int OnSeek(void* self_ptr, curl_off_t offset, int origin) {
    auto* self = static_cast<Http*>(self_ptr);
    if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > self->req_->body.length) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    self->sent_ = static_cast<uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  const std::string sigv4_;
  const std::string user_;
  const std::string secret_;
  const std::string session_token_;
  const S3Settings settings_;
  CURL* curl_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE];

  // State of the request in flight.
  const Request* req_ = nullptr;
  Response* resp_ = nullptr;
  uint64_t sent_ = 0;
  std::string read_error_;
};

struct S3Archiver::Digests {
  std::array<uint8_t, 16> md5{};
  std::string md5_base64;
  std::string md5_hex;
  std::string sha256_hex;  // or UNSIGNED-PAYLOAD (unless Digest was asked for it anyway)
};

namespace {

constexpr milliseconds kTimerSlack{20};

// "HTTP 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not
// exist in our records." or the transfer error.
std::string Explain(const Response& r, const lplex::Clock& clock, Deadline deadline) {
  if (r.curl != CURLE_OK) {
    std::string msg = r.transfer_error;
    // curl's timer can fire a millisecond or so before the deadline it was
    // set from; a connect timeout (seconds) is never that close by chance.
    if (r.curl == CURLE_OPERATION_TIMEDOUT && clock.Monotonic() + kTimerSlack >= deadline) {
      msg = "the archive deadline was reached during the transfer: " + msg;
    }
    if (r.status != 0) msg += fmt::format(" after HTTP {}", r.status);
    return msg;
  }
  std::string msg = fmt::format("HTTP {}", r.status);
  std::string code = XmlText(r.body, "Code");
  std::string message = XmlText(r.body, "Message");
  if (!code.empty()) msg += " " + code;
  if (!message.empty()) msg += ": " + message;
  if (code.empty() && message.empty() && !r.body.empty()) {
    std::string snippet = r.body.substr(0, 200);
    std::replace_if(snippet.begin(), snippet.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    msg += ": " + snippet;
  }
  return msg;
}

Status TooLate(std::string_view what) {
  return Status::IOError(fmt::format("the archive deadline passed before {}", what));
}

}  // namespace

Result<std::unique_ptr<S3Archiver>> S3Archiver::Create(S3Target target, FileSystem* fs, Logger* log,
                                                      lplex::Clock* clock) {
  if (target.access_key_id.empty() || target.secret_access_key.empty()) {
    return Status::InvalidArgument(fmt::format(
        "S3 archive target {}: no AWS credentials (access key id and secret access key are required)",
        target.Describe()));
  }
  auto http = std::make_unique<Http>(target);
  LPLEX_RETURN_IF_ERROR(http->Init());
  return std::unique_ptr<S3Archiver>(
      new S3Archiver(std::move(target), fs, log != nullptr ? log : Logger::Default(),
                     clock != nullptr ? clock : lplex::Clock::Real(), std::move(http)));
}

S3Archiver::S3Archiver(S3Target target, FileSystem* fs, Logger* log, lplex::Clock* clock, std::unique_ptr<Http> http)
    : target_(std::move(target)), fs_(fs), log_(log), clock_(clock), http_(std::move(http)), buffer_(kReadChunk) {}

S3Archiver::~S3Archiver() = default;

std::string S3Archiver::Describe() const { return target_.Describe(); }

std::string S3Archiver::KeyFor(const ArchiveItem& item) const { return target_.prefix + ArchiveRelativePath(item); }

Status S3Archiver::ArchiveOne(const ArchiveItem& item, Deadline deadline) {
  if (TimeLeft(*clock_, deadline).count() <= 0) return TooLate("the upload started");
  auto file = fs_->NewRandomAccessFile(item.path);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  const std::string key = KeyFor(item);
  const MonoTime start = clock_->Monotonic();

  // The whole file's digests: the SHA-256 goes into the object's metadata
  // and decides whether an existing object is this file.
  Digests whole;
  LPLEX_RETURN_IF_ERROR(Digest(**file, 0, *size, /*sha256=*/true, deadline, &whole));
  bool exists = false;
  LPLEX_RETURN_IF_ERROR(CheckExisting(key, *size, whole, deadline, &exists));
  if (exists) {
    log_->Debug("s3: s3://{}/{} is already stored with the same content", target_.bucket, key);
    return Status::Ok();
  }

  const bool multipart = *size > target_.settings.multipart_threshold;
  bool precondition_failed = false;
  Status s = multipart ? PutMultipart(**file, *size, key, whole, deadline, &precondition_failed)
                       : PutObject(**file, *size, key, whole, deadline, &precondition_failed);
  if (precondition_failed) {
    // If-None-Match: * refused: someone stored the key since our HEAD.
    Status again = CheckExisting(key, *size, whole, deadline, &exists);
    if (!again.ok()) return again;
    if (exists) return Status::Ok();
    return Status::AlreadyExists(
        "the destination already exists (the store refused to replace it: " + s.message() +
        ") but cannot be read to compare (HEAD was refused); not overwritten");
  }
  if (s.ok()) {
    log_->Debug("s3: stored s3://{}/{} ({} bytes{}) in {} ms", target_.bucket, key, *size,
                multipart ? ", multipart" : "",
                std::chrono::duration_cast<milliseconds>(clock_->Monotonic() - start).count());
  }
  return s;
}

Status S3Archiver::CheckExisting(const std::string& key, uint64_t size, const Digests& whole, Deadline deadline,
                                 bool* exists) {
  *exists = false;
  milliseconds left = TimeLeft(*clock_, deadline);
  if (left.count() <= 0) return TooLate("HEAD");
  Request head;
  head.method = "HEAD";
  head.url = target_.ObjectUrl(key);
  head.headers = {std::string("x-amz-content-sha256: ") + kEmptySha256};
  head.timeout = left;
  Response r = http_->Perform(head);
  // 404: not there. 403: S3's answer for a missing key to a client that may
  // not list the bucket, or a bad key or signature (a HEAD answer has no
  // body to tell which). Either way the upload goes ahead: If-None-Match
  // keeps it from replacing an object, and its error names the real cause.
  if (r.curl == CURLE_OK && (r.status == 404 || r.status == 403)) return Status::Ok();
  if (r.curl != CURLE_OK || r.status != 200) {
    return Status::IOError("HEAD (is the object already there?): " + Explain(r, *clock_, deadline));
  }
  *exists = true;
  if (!r.meta_sha256.empty()) {
    if (EqualsIgnoreCase(r.meta_sha256, whole.sha256_hex)) return Status::Ok();
    return Status::AlreadyExists(fmt::format(
        "the destination already exists with different content (its {} is {}, the file's SHA-256 is {}); not "
        "overwritten",
        kShaMetaHeader, r.meta_sha256, whole.sha256_hex));
  }
  // Stored by something else (an older lplex, a script): the size, then a
  // plain-MD5 ETag (not "...-N" of a multipart upload, not SSE-KMS) decide.
  if (r.content_length && *r.content_length != size) {
    return Status::AlreadyExists(fmt::format(
        "the destination already exists with different content ({} bytes there, {} in the file); not overwritten",
        *r.content_length, size));
  }
  const bool plain_md5 = r.etag.size() == 32 && r.etag.find('-') == std::string::npos;
  if (r.content_length && plain_md5 && EqualsIgnoreCase(r.etag, whole.md5_hex)) return Status::Ok();
  return Status::AlreadyExists(fmt::format(
      "the destination already exists with different or unverifiable content (no {} metadata, ETag \"{}\", the "
      "file's MD5 is {}); not overwritten",
      kShaMetaHeader, r.etag, whole.md5_hex));
}

Status S3Archiver::Digest(RandomAccessFile& file, uint64_t offset, uint64_t length, bool sha256, Deadline deadline,
                          Digests* out) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md5(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool sign = sha256;
  if (!md5 || !sha || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1 ||
      (sign && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1)) {
    return Status::IOError("OpenSSL cannot compute MD5/SHA-256 (is MD5 disabled, e.g. in FIPS mode?)");
  }
  uint64_t done = 0;
  while (done < length) {
    if (TimeLeft(*clock_, deadline).count() <= 0) return TooLate("the checksums were computed");
    size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, buffer_.size()));
    auto got = file.Read(offset + done, want, buffer_.data());
    if (!got.ok()) return got.status();
    if (*got == 0) {
      return Status::IOError(fmt::format("the file ended after {} of {} bytes", offset + done, offset + length));
    }
    EVP_DigestUpdate(md5.get(), buffer_.data(), *got);
    if (sign) EVP_DigestUpdate(sha.get(), buffer_.data(), *got);
    done += *got;
  }
  unsigned int len = 0;
  EVP_DigestFinal_ex(md5.get(), out->md5.data(), &len);
  out->md5_base64 = Base64(out->md5.data(), out->md5.size());
  out->md5_hex = hex::Encode(out->md5);
  if (sign) {
    std::array<uint8_t, 32> sha256{};
    EVP_DigestFinal_ex(sha.get(), sha256.data(), &len);
    out->sha256_hex = hex::Encode(sha256);
  } else {
    out->sha256_hex = "UNSIGNED-PAYLOAD";
  }
  return Status::Ok();
}

Status S3Archiver::PutObject(RandomAccessFile& file, uint64_t size, const std::string& key, const Digests& d,
                             Deadline deadline, bool* precondition_failed) {
  milliseconds left = TimeLeft(*clock_, deadline);
  if (left.count() <= 0) return TooLate("PUT");

  Request req;
  req.method = "PUT";
  req.url = target_.ObjectUrl(key);
  req.headers = {"Content-MD5: " + d.md5_base64,
                 "x-amz-content-sha256: " + (target_.settings.sign_payload ? d.sha256_hex : "UNSIGNED-PAYLOAD"),
                 "Content-Type: application/octet-stream", fmt::format("{}: {}", kShaMetaHeader, d.sha256_hex),
                 "If-None-Match: *"};
  req.body.file = &file;
  req.body.length = size;
  req.timeout = left;
  Response r = http_->Perform(req);
  if (r.curl == CURLE_OK && r.status == 412) *precondition_failed = true;
  if (r.curl != CURLE_OK || r.status != 200) return Status::IOError("PUT: " + Explain(r, *clock_, deadline));
  if (target_.settings.verify_etag && !EqualsIgnoreCase(r.etag, d.md5_hex)) {
    return Status::IOError(fmt::format(
        "PUT: the store answered ETag \"{}\" but the MD5 of the {} bytes sent is {} (set verify_etag off for SSE-KMS "
        "buckets)",
        r.etag, size, d.md5_hex));
  }
  return Status::Ok();
}

Status S3Archiver::PutMultipart(RandomAccessFile& file, uint64_t size, const std::string& key, const Digests& whole,
                                Deadline deadline, bool* precondition_failed) {
  const std::string url = target_.ObjectUrl(key);
  const std::string payload_hash = target_.settings.sign_payload ? kEmptySha256 : "UNSIGNED-PAYLOAD";

  // CreateMultipartUpload. "uploads=" rather than "uploads": libcurl signs
  // the query as written, and SigV4's canonical form has the '='.
  milliseconds left = TimeLeft(*clock_, deadline);
  if (left.count() <= 0) return TooLate("CreateMultipartUpload");
  const std::string empty;
  Request create;
  create.method = "POST";
  create.url = url + "?uploads=";
  create.headers = {"x-amz-content-sha256: " + payload_hash, "Content-Type: application/octet-stream",
                    fmt::format("{}: {}", kShaMetaHeader, whole.sha256_hex)};
  create.body.memory = &empty;
  create.timeout = left;
  Response r = http_->Perform(create);
  if (r.curl != CURLE_OK || r.status != 200) {
    return Status::IOError("CreateMultipartUpload: " + Explain(r, *clock_, deadline));
  }
  const std::string upload_id = XmlText(r.body, "UploadId");
  if (upload_id.empty()) {
    return Status::IOError("CreateMultipartUpload: HTTP 200 without an UploadId: " + r.body.substr(0, 200));
  }
  const std::string upload_query = "uploadId=" + UriEncode(upload_id, /*keep_slash=*/false);

  std::vector<std::string> etags;
  std::string md5_concat;
  Status s = UploadParts(file, size, url, upload_id, &etags, &md5_concat, deadline);

  if (s.ok()) {
    // CompleteMultipartUpload.
    std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (size_t i = 0; i < etags.size(); ++i) {
      xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", i + 1, etags[i]);
    }
    xml += "</CompleteMultipartUpload>";
    std::vector<uint8_t> md5 = DigestOf(EVP_md5(), xml);
    std::string sha = target_.settings.sign_payload
                          ? hex::Encode(DigestOf(EVP_sha256(), xml))
                          : std::string("UNSIGNED-PAYLOAD");
    left = TimeLeft(*clock_, deadline);
    if (left.count() <= 0) {
      s = TooLate("CompleteMultipartUpload");
    } else {
      Request complete;
      complete.method = "POST";
      complete.url = url + "?" + upload_query;
      complete.headers = {"Content-MD5: " + Base64(md5.data(), md5.size()), "x-amz-content-sha256: " + sha,
                          "Content-Type: application/xml", "If-None-Match: *"};
      complete.body.memory = &xml;
      complete.timeout = left;
      r = http_->Perform(complete);
      if (r.curl == CURLE_OK && r.status == 412) *precondition_failed = true;
      // S3 may answer 200 and report the failure in the body.
      if (r.curl != CURLE_OK || r.status != 200 || r.body.find("<Error>") != std::string::npos) {
        s = Status::IOError("CompleteMultipartUpload: " + Explain(r, *clock_, deadline));
      } else if (r.body.find("<CompleteMultipartUpload") == std::string::npos) {  // S3: ...Result, moto: ...Response
        s = Status::IOError("CompleteMultipartUpload: HTTP 200 without a result: " + r.body.substr(0, 200));
      } else if (target_.settings.verify_etag) {
        std::vector<uint8_t> whole = DigestOf(EVP_md5(), md5_concat);
        std::string want = hex::Encode(whole) + "-" + std::to_string(etags.size());
        std::string got = StripQuotes(XmlText(r.body, "ETag"));
        if (!EqualsIgnoreCase(got, want)) {
          s = Status::IOError(fmt::format(
              "CompleteMultipartUpload: the store answered ETag \"{}\" but the parts sent give {}", got, want));
        }
      }
      if (s.ok()) return s;
      // A 200 with a wrong ETag means the object exists but is not ours to
      // trust; aborting is harmless then (the upload id is already spent).
    }
  }

  // Abort, so the parts do not linger (and cost) in the bucket. Allowed a
  // short grace beyond the deadline: leaving the upload behind is worse.
  Request abort;
  abort.method = "DELETE";
  abort.url = url + "?" + upload_query;
  abort.headers = {"x-amz-content-sha256: " + payload_hash};
  abort.timeout = std::max(TimeLeft(*clock_, deadline), target_.settings.abort_grace);
  Response ar = http_->Perform(abort);
  if (ar.curl != CURLE_OK || (ar.status != 204 && ar.status != 200 && ar.status != 404)) {
    log_->Warn("s3: multipart upload {} of s3://{}/{} could not be aborted; its parts stay in the bucket until a "
               "lifecycle rule removes them: {}",
               upload_id, target_.bucket, key, Explain(ar, *clock_, deadline));
    return Status::IOError(fmt::format("{}; aborting multipart upload {} failed too: {}", s.message(), upload_id,
                                       Explain(ar, *clock_, deadline)));
  }
  log_->Warn("s3: aborted multipart upload {} of s3://{}/{} after: {}", upload_id, target_.bucket, key, s.message());
  return s;
}

Status S3Archiver::UploadParts(RandomAccessFile& file, uint64_t size, const std::string& url,
                               const std::string& upload_id, std::vector<std::string>* etags,
                               std::string* md5_concat, Deadline deadline) {
  // More than 10,000 parts is refused by S3: grow the parts instead.
  uint64_t part_size = std::max(target_.settings.part_size, (size + kMaxParts - 1) / kMaxParts);
  uint64_t parts = std::max<uint64_t>(1, (size + part_size - 1) / part_size);
  const std::string id = UriEncode(upload_id, /*keep_slash=*/false);
  for (uint64_t i = 0; i < parts; ++i) {
    const uint64_t offset = i * part_size;
    const uint64_t length = std::min(part_size, size - offset);
    const std::string what = fmt::format("UploadPart {} of {} (bytes {}..{})", i + 1, parts, offset, offset + length);
    Digests d;
    LPLEX_RETURN_IF_ERROR(Digest(file, offset, length, target_.settings.sign_payload, deadline, &d).WithContext(what));
    milliseconds left = TimeLeft(*clock_, deadline);
    if (left.count() <= 0) return TooLate(what);
    Request req;
    req.method = "PUT";
    req.url = fmt::format("{}?partNumber={}&uploadId={}", url, i + 1, id);  // sorted, as SigV4 wants
    req.headers = {"Content-MD5: " + d.md5_base64, "x-amz-content-sha256: " + d.sha256_hex};
    req.body.file = &file;
    req.body.offset = offset;
    req.body.length = length;
    req.timeout = left;
    Response r = http_->Perform(req);
    if (r.curl != CURLE_OK || r.status != 200) return Status::IOError(what + ": " + Explain(r, *clock_, deadline));
    if (target_.settings.verify_etag && !EqualsIgnoreCase(r.etag, d.md5_hex)) {
      return Status::IOError(
          fmt::format("{}: the store answered ETag \"{}\" but the part's MD5 is {}", what, r.etag, d.md5_hex));
    }
    // The store's own ETag goes into Complete: with verify_etag off it need not be the MD5.
    etags->push_back(r.etag.empty() ? d.md5_hex : r.etag);
    md5_concat->append(reinterpret_cast<const char*>(d.md5.data()), d.md5.size());
  }
  return Status::Ok();
}

}  // namespace lplex::keeper
