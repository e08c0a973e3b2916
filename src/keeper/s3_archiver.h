// S3Archiver: the built-in S3 target (journal.archive.target = "s3://...").
//
// Each file becomes the object {prefix}{instance_id}/{file name}. Requests
// are signed by libcurl's AWS SigV4 ("aws:amz:<region>:s3"); every PUT (one
// object, or one part) carries Content-MD5, so the store rejects a body that
// was corrupted on the way, and x-amz-content-sha256. Files above the
// multipart threshold go up as CreateMultipartUpload, UploadPart x N,
// CompleteMultipartUpload; a failed multipart upload is aborted.
//
// An item counts as archived only when the store answered 200 and (unless
// verify_etag is off) its ETag equals the MD5 we computed; a
// CompleteMultipartUpload answer is also checked for an <Error> body, which
// S3 may send with status 200. Failures name the file, the object
// (s3://bucket/key), the HTTP status and S3's error Code and Message, or the
// transfer error (connection refused, timeout).
//
// Files are streamed from disk: one read pass computes the digests (headers
// come before the body), a second one feeds the upload. Every request's
// timeout is the time left until the Archive deadline; once it has passed,
// the remaining items fail at once.
//
// Log lines (to the Logger given, "s3: ..."): each object stored (debug) and
// each multipart upload that had to be aborted (warning, naming the upload
// id, since parts left behind are billed). Failures are not logged here:
// they are returned as outcomes, and the keeper logs those.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/file_system.h"
#include "core/log.h"
#include "core/status.h"
#include "keeper/archiver.h"
#include "keeper/s3_target.h"

namespace lplex::keeper {

class S3Archiver final : public PerFileArchiver {
 public:
  // Fails when the target has no credentials or libcurl cannot start. `fs`
  // (not owned, must outlive the archiver) is where journal files are read;
  // `log` (not owned, must outlive it; null = Logger::Default()) gets the
  // log lines.
  static Result<std::unique_ptr<S3Archiver>> Create(S3Target target, FileSystem* fs = FileSystem::Default(),
                                                    Logger* log = nullptr);
  ~S3Archiver() override;

  // "s3://bucket/prefix/".
  std::string Describe() const override;

  // The object key of an item: {prefix}{instance_id}/{file name}, or
  // {prefix}{file name} without an instance id.
  std::string KeyFor(const ArchiveItem& item) const;

 private:
  class Http;
  struct Digests;

  S3Archiver(S3Target target, FileSystem* fs, Logger* log, std::unique_ptr<Http> http);

  Status ArchiveOne(const ArchiveItem& item, Deadline deadline) override;
  std::string DestinationUrl(const ArchiveItem& item) const override {
    return "s3://" + target_.bucket + "/" + KeyFor(item);
  }
  Status PutObject(RandomAccessFile& file, uint64_t size, const std::string& key, Deadline deadline);
  Status PutMultipart(RandomAccessFile& file, uint64_t size, const std::string& key, Deadline deadline);
  Status UploadParts(RandomAccessFile& file, uint64_t size, const std::string& url, const std::string& upload_id,
                     std::vector<std::string>* etags, std::string* md5_concat, Deadline deadline);
  // MD5 (raw) and SHA-256 (hex) of file[offset, offset + length).
  Status Digest(RandomAccessFile& file, uint64_t offset, uint64_t length, Deadline deadline, Digests* out);

  S3Target target_;
  FileSystem* fs_;
  Logger* log_;
  std::unique_ptr<Http> http_;
  std::vector<uint8_t> buffer_;  // digest reads, reused
};

}  // namespace lplex::keeper
