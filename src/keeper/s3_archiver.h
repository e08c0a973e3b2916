// S3Archiver: the built-in S3 target (journal.archive.target = "s3://...").
//
// Each file becomes the object {prefix}{instance_id}/{file name}. Requests
// are signed by libcurl's AWS SigV4 ("aws:amz:<region>:s3"); every PUT (one
// object, or one part) carries Content-MD5, so the store rejects a body that
// was corrupted on the way, and x-amz-content-sha256. Files above the
// multipart threshold go up as CreateMultipartUpload, UploadPart x N,
// CompleteMultipartUpload; a failed multipart upload is aborted.
//
// An object is never replaced. Before uploading, a HEAD asks whether the key
// exists: every object we store carries the file's SHA-256 as metadata
// (x-amz-meta-lplex-sha256, covered by the signature), so an existing one is
// the same file when that matches — success without uploading again (a
// retry after a crash between upload and marker). An object without it
// (stored by a script, an older version) is the same file when its size
// matches and its ETag is a plain MD5 equal to the file's. Anything else
// fails with "the destination already exists with different (or
// unverifiable) content; not overwritten". PUT and CompleteMultipartUpload
// send If-None-Match: *, so an object stored by someone else between the
// HEAD and the upload is not replaced either (the store answers 412; the
// HEAD comparison is then repeated).
//
// An item counts as archived only when the store answered 200 and (unless
// verify_etag is off) its ETag equals the MD5 we computed; a
// CompleteMultipartUpload answer is also checked for an <Error> body, which
// S3 may send with status 200. Failures name the file, the object
// (s3://bucket/key), the HTTP status and S3's error Code and Message, or the
// transfer error (connection refused, timeout).
//
// Files are streamed from disk: one read pass computes the digests (headers
// come before the body), a second one feeds the upload (multipart: each part
// is read once more for its own digests). Every request's
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
  // log lines. `clock` (not owned, must outlive it; null = Clock::Real()) is
  // the time line of the deadlines Archive() is given; transfers get the time
  // left on it as their real timeout.
  static Result<std::unique_ptr<S3Archiver>> Create(S3Target target, FileSystem* fs = FileSystem::Default(),
                                                    Logger* log = nullptr, lplex::Clock* clock = nullptr);
  ~S3Archiver() override;

  // "s3://bucket/prefix/".
  std::string Describe() const override;

  // The object key of an item: {prefix}{instance_id}/{file name}, or
  // {prefix}{file name} without an instance id.
  std::string KeyFor(const ArchiveItem& item) const;

 private:
  class Http;
  struct Digests;

  S3Archiver(S3Target target, FileSystem* fs, Logger* log, lplex::Clock* clock, std::unique_ptr<Http> http);

  Status ArchiveOne(const ArchiveItem& item, Deadline deadline) override;
  std::string DestinationUrl(const ArchiveItem& item) const override {
    return "s3://" + target_.bucket + "/" + KeyFor(item);
  }
  // Whether `key` already holds this file (whole = the file's digests, with
  // its SHA-256): absent → ok, *exists false; there and the same (our
  // SHA-256 metadata, or size and a plain-MD5 ETag) → ok, *exists true;
  // there and different or not verifiable → AlreadyExists, never replaced.
  Status CheckExisting(const std::string& key, uint64_t size, const Digests& whole, Deadline deadline, bool* exists);
  // Both send If-None-Match: *, and set *precondition_failed when the store
  // refused because the key appeared meanwhile.
  Status PutObject(RandomAccessFile& file, uint64_t size, const std::string& key, const Digests& d,
                   Deadline deadline, bool* precondition_failed);
  Status PutMultipart(RandomAccessFile& file, uint64_t size, const std::string& key, const Digests& whole,
                      Deadline deadline, bool* precondition_failed);
  Status UploadParts(RandomAccessFile& file, uint64_t size, const std::string& url, const std::string& upload_id,
                     std::vector<std::string>* etags, std::string* md5_concat, Deadline deadline);
  // MD5 (raw) and, when `sha256`, SHA-256 (hex; else "UNSIGNED-PAYLOAD") of
  // file[offset, offset + length).
  Status Digest(RandomAccessFile& file, uint64_t offset, uint64_t length, bool sha256, Deadline deadline,
                Digests* out);

  S3Target target_;
  FileSystem* fs_;
  Logger* log_;
  lplex::Clock* clock_;
  std::unique_ptr<Http> http_;
  std::vector<uint8_t> buffer_;  // digest reads, reused
};

}  // namespace lplex::keeper
