// S3Target: where and how the built-in S3 archiver uploads, after the
// "s3://bucket/prefix/" URL, the explicit config fields and the standard
// AWS_* environment variables have been merged (config beats environment).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lplex::keeper {

// The parts of "s3://bucket/prefix/".
struct S3Url {
  std::string bucket;
  std::string prefix;  // "" or ends in '/': "s3://b/x" and "s3://b/x/" both give "x/"
};

// Parses "s3://bucket", "s3://bucket/", "s3://bucket/prefix" or
// "s3://bucket/a/b/". The bucket must be 3–63 characters of lowercase
// letters, digits, '.', '-' or '_' and start and end with a letter or digit;
// the prefix must not have empty ("//", a leading '/'), "." or ".." path
// segments, backslashes or control characters ("s3://b/../other/" would
// otherwise upload into bucket "other"). Errors quote the URL, name the
// offending segment or character and show the valid form.
Result<S3Url> ParseS3Url(std::string_view url);

// Config fields of the S3 target. An empty string means "not configured":
// the environment (or the default) is used instead.
struct S3Settings {
  std::string region;             // else AWS_REGION, AWS_DEFAULT_REGION, then "us-east-1"
  std::string endpoint;           // else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; "" = AWS itself
  std::string access_key_id;      // with secret_access_key, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
  std::string secret_access_key;
  std::string session_token;      // used only with the config key; env keys take AWS_SESSION_TOKEN

  // Files larger than this go up as a multipart upload in parts of
  // part_size (the last one smaller). S3 needs parts of 5 MiB .. 5 GiB and
  // at most 10,000 of them; a larger part size is chosen when a file would
  // need more.
  uint64_t multipart_threshold = uint64_t{64} << 20;
  uint64_t part_size = uint64_t{16} << 20;

  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than low_speed_bytes_per_s for low_speed_time is
  // abandoned (a dead connection), independently of the Archive deadline.
  // Deliberately low: a boat's satellite link may be slow but alive, and S3
  // keeps a long CompleteMultipartUpload open with a trickle of whitespace.
  uint32_t low_speed_bytes_per_s = 1;
  std::chrono::seconds low_speed_time{60};

  // true: x-amz-content-sha256 carries the SHA-256 of the body, so the
  // signature covers the bytes (needed over plain http). false: the literal
  // UNSIGNED-PAYLOAD, which saves one SHA-256 pass; Content-MD5 still lets
  // the store reject a corrupted body.
  bool sign_payload = true;
  // true: success also needs the returned ETag to equal the MD5 of the
  // object (multipart: MD5 of the part MD5s + "-N"). Turn off for buckets
  // with SSE-KMS or SSE-C, whose ETags are not MD5s; the store still checks
  // Content-MD5 on every PUT.
  bool verify_etag = true;
  // A multipart upload that failed is aborted (DELETE ?uploadId) even when
  // the Archive deadline has passed, for at most this long; the only work
  // allowed to outlast the deadline.
  std::chrono::milliseconds abort_grace{2000};
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// ::getenv; empty values count as unset.
std::optional<std::string> ProcessEnv(const char* name);

// Everything the S3 archiver needs, fully resolved.
struct S3Target {
  std::string bucket;
  std::string prefix;    // "" or ends in '/'
  std::string region;
  std::string endpoint;  // "" (AWS: virtual-host style) or "http(s)://host[:port][/path]" without trailing '/'
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" = none
  S3Settings settings;        // the tunables (its credential/region fields are not used)

  // "s3://bucket/prefix/".
  std::string Describe() const;
  // The URL of an object. With an endpoint: path style,
  // "{endpoint}/{bucket}/{key}". Without: "https://{bucket}.s3.{region}.amazonaws.com/{key}",
  // or path style on s3.{region}.amazonaws.com when the bucket has a '.'
  // (which breaks the wildcard TLS certificate). The key is percent-encoded
  // except for unreserved characters and '/'.
  std::string ObjectUrl(std::string_view key) const;
};

// Merges url, settings and environment. Fails when the URL or endpoint is
// malformed, the region is not a plausible region name, the part sizes are
// out of S3's range, or no credentials are found (the message says where
// they are looked for).
Result<S3Target> ResolveS3Target(std::string_view url, const S3Settings& settings,
                                 const EnvLookup& env = ProcessEnv);

// Percent-encodes everything but A-Z a-z 0-9 - _ . ~ (and '/' when
// keep_slash), with uppercase hex: the encoding SigV4 canonical requests use.
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace lplex::keeper
