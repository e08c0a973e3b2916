#include "keeper/s3_target.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/hex.h"

namespace lplex::keeper {
namespace {

constexpr std::string_view kScheme = "s3://";
constexpr uint64_t kMinPartSize = uint64_t{5} << 20;   // S3: every part but the last
constexpr uint64_t kMaxObjectPut = uint64_t{5} << 30;  // S3: one PUT or one part

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Status BadS3Url(std::string_view url, std::string_view why) {
  return Status::InvalidArgument(
      fmt::format("bad S3 archive target \"{}\": {}; the form is s3://bucket or s3://bucket/prefix/", url, why));
}

// The first non-empty of the named variables.
std::optional<std::string> FirstEnv(const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto v = env(name); v && !v->empty()) return v;
  }
  return std::nullopt;
}

Status CheckRegion(const std::string& region) {
  bool ok = !region.empty() && region.size() <= 64;
  for (char c : region) {
    if (!(IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_')) ok = false;
  }
  if (!ok) {
    return Status::InvalidArgument(fmt::format(
        "bad S3 region \"{}\": expected letters, digits, '-' or '_' (at most 64), e.g. \"eu-west-1\"", region));
  }
  return Status::Ok();
}

// "http://host[:port][/path]" without a trailing '/'.
Result<std::string> CheckEndpoint(std::string endpoint) {
  size_t host_at = 0;
  if (endpoint.rfind("http://", 0) == 0) {
    host_at = 7;
  } else if (endpoint.rfind("https://", 0) == 0) {
    host_at = 8;
  }
  bool ok = host_at != 0;
  while (ok && endpoint.size() > host_at && endpoint.back() == '/') endpoint.pop_back();
  if (ok && (endpoint.size() == host_at || endpoint[host_at] == '/')) ok = false;  // no host
  for (char c : endpoint) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == 0x7f) ok = false;
  }
  if (!ok) {
    return Status::InvalidArgument(fmt::format(
        "bad S3 endpoint \"{}\": expected http://host[:port] or https://host[:port], e.g. \"http://127.0.0.1:9000\"",
        endpoint));
  }
  return endpoint;
}

}  // namespace

Result<S3Url> ParseS3Url(std::string_view url) {
  if (url.substr(0, kScheme.size()) != kScheme) return BadS3Url(url, "it does not start with s3://");
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (bucket.empty()) return BadS3Url(url, "the bucket name is missing");
  if (bucket.size() < 3 || bucket.size() > 63) {
    return BadS3Url(url, fmt::format("bucket \"{}\" must be 3 to 63 characters long", bucket));
  }
  for (char c : bucket) {
    if (!(IsLowerAlnum(c) || c == '.' || c == '-' || c == '_')) {
      return BadS3Url(url, fmt::format("bucket \"{}\" may hold only lowercase letters, digits, '.', '-' and '_'",
                                       bucket));
    }
  }
  if (!IsLowerAlnum(bucket.front()) || !IsLowerAlnum(bucket.back())) {
    return BadS3Url(url, fmt::format("bucket \"{}\" must start and end with a letter or digit", bucket));
  }
  // The prefix becomes the start of every object key and of the URL path:
  // a "." or ".." segment would be folded by an HTTP client or proxy (with
  // path-style URLs, "../other/" is another bucket), an empty one ("//")
  // or a backslash gives keys that tools show and resolve differently.
  for (char c : prefix) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
      return BadS3Url(url, fmt::format("the prefix contains the control character 0x{:02x}",
                                       static_cast<unsigned>(static_cast<unsigned char>(c))));
    }
    if (c == '\\') return BadS3Url(url, "the prefix contains a backslash");
  }
  std::string_view rest_of_prefix = prefix;
  while (!rest_of_prefix.empty()) {
    size_t end = rest_of_prefix.find('/');
    std::string_view segment = rest_of_prefix.substr(0, end);
    if (segment.empty()) return BadS3Url(url, "the prefix has an empty path segment (\"//\" or a leading '/')");
    if (segment == "." || segment == "..") {
      return BadS3Url(url, fmt::format("the prefix has a \"{}\" path segment (not allowed: it would be resolved "
                                       "to another key or bucket)",
                                       segment));
    }
    if (end == std::string_view::npos) break;
    rest_of_prefix.remove_prefix(end + 1);
  }
  S3Url out;
  out.bucket = std::string(bucket);
  out.prefix = std::string(prefix);
  if (!out.prefix.empty() && out.prefix.back() != '/') out.prefix += '/';
  return out;
}

std::optional<std::string> ProcessEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out += ch;
    } else {
      out += '%';
      hex::AppendByte(c, &out, hex::Case::kUpper);
    }
  }
  return out;
}

std::string S3Target::Describe() const { return "s3://" + bucket + "/" + prefix; }

std::string S3Target::ObjectUrl(std::string_view key) const {
  std::string enc = UriEncode(key, /*keep_slash=*/true);
  if (!endpoint.empty()) return endpoint + "/" + bucket + "/" + enc;
  if (bucket.find('.') != std::string::npos) {
    return "https://s3." + region + ".amazonaws.com/" + bucket + "/" + enc;
  }
  return "https://" + bucket + ".s3." + region + ".amazonaws.com/" + enc;
}

Result<S3Target> ResolveS3Target(std::string_view url, const S3Settings& settings, const EnvLookup& env) {
  auto parsed = ParseS3Url(url);
  if (!parsed.ok()) return parsed.status();

  S3Target t;
  t.bucket = parsed->bucket;
  t.prefix = parsed->prefix;
  t.settings = settings;

  if (!settings.region.empty()) {
    t.region = settings.region;
  } else {
    t.region = FirstEnv(env, {"AWS_REGION", "AWS_DEFAULT_REGION"}).value_or("us-east-1");
  }
  LPLEX_RETURN_IF_ERROR(CheckRegion(t.region));

  std::string endpoint = settings.endpoint;
  if (endpoint.empty()) endpoint = FirstEnv(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}).value_or("");
  if (!endpoint.empty()) {
    auto checked = CheckEndpoint(endpoint);
    if (!checked.ok()) return checked.status();
    t.endpoint = *checked;
  }

  // Credentials come as a whole from one place: a config key id with an
  // environment secret (or token) would be a mix nobody meant.
  if (!settings.access_key_id.empty() || !settings.secret_access_key.empty()) {
    if (settings.access_key_id.empty() || settings.secret_access_key.empty()) {
      return Status::InvalidArgument(fmt::format(
          "S3 archive target {}: the config sets only one of access key id and secret access key; set both, or "
          "neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
          t.Describe()));
    }
    t.access_key_id = settings.access_key_id;
    t.secret_access_key = settings.secret_access_key;
    t.session_token = settings.session_token;
  } else {
    auto id = FirstEnv(env, {"AWS_ACCESS_KEY_ID"});
    auto secret = FirstEnv(env, {"AWS_SECRET_ACCESS_KEY"});
    if (!id || !secret) {
      return Status::InvalidArgument(fmt::format(
          "S3 archive target {}: no AWS credentials: {} is not set in the environment; set AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in the environment of the "
          "process that archives",
          t.Describe(), !id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
    }
    t.access_key_id = *id;
    t.secret_access_key = *secret;
    t.session_token = FirstEnv(env, {"AWS_SESSION_TOKEN"}).value_or("");
  }
  for (char c : t.access_key_id) {
    if (c == ':' || static_cast<unsigned char>(c) <= ' ') {
      return Status::InvalidArgument(fmt::format(
          "S3 archive target {}: access key id \"{}\" contains a ':' or whitespace", t.Describe(), t.access_key_id));
    }
  }

  if (settings.part_size < kMinPartSize || settings.part_size > kMaxObjectPut) {
    return Status::InvalidArgument(
        fmt::format("S3 part size {} bytes is out of range: S3 takes parts of 5 MiB ({}) to 5 GiB ({}) bytes",
                    settings.part_size, kMinPartSize, kMaxObjectPut));
  }
  if (settings.multipart_threshold > kMaxObjectPut) {
    return Status::InvalidArgument(fmt::format(
        "S3 multipart threshold {} bytes is above 5 GiB ({}), the largest object one PUT may upload",
        settings.multipart_threshold, kMaxObjectPut));
  }
  return t;
}

}  // namespace lplex::keeper
