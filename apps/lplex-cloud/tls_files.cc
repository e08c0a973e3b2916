#include "tls_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace lplex::cloud_app {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// OpenSSL's errors of a failed parse must not linger for gRPC to find.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

// A passphrase-protected key is refused rather than asked for on the
// terminal (OpenSSL's default callback would prompt).
int NoPassphrase(char*, int, int, void*) { return -1; }

// The whole file, or the OS error naming `flag` and the path.
Result<std::string> ReadFile(const std::string& flag, const std::string& path, const char* valid) {
  auto failed = [&](int err) {
    return Status::InvalidArgument(
        fmt::format("-{} {}: cannot be read: {} (valid: {})", flag, path, std::strerror(err), valid));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed(errno);
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;  // EISDIR for a directory
      ::close(fd);
      return failed(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text.empty()) {
    return Status::InvalidArgument(fmt::format("-{} {}: the file is empty (valid: {})", flag, path, valid));
  }
  return text;
}

BioPtr MemoryBio(const std::string& text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

constexpr const char* kValidCert = "a readable PEM file with the server's certificate (-----BEGIN CERTIFICATE-----)";
constexpr const char* kValidKey =
    "a readable PEM file with the certificate's unencrypted private key (-----BEGIN PRIVATE KEY-----)";
constexpr const char* kValidCa = "a readable PEM file with the CA certificate(s) that sign the boats' certificates";

// The first certificate of a PEM file (a chain starts with the leaf).
Result<X509Ptr> FirstCertificate(const std::string& flag, const std::string& path, const char* valid) {
  LPLEX_ASSIGN_OR_RETURN(std::string text, ReadFile(flag, path, valid));
  BioPtr bio = MemoryBio(text);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!cert) {
    return Status::InvalidArgument(
        fmt::format("-{} {}: no PEM certificate in it (valid: {})", flag, path, valid));
  }
  return cert;
}

}  // namespace

Status CheckTlsFiles(const TlsFiles& f) {
  ClearErrors clear;
  LPLEX_ASSIGN_OR_RETURN(X509Ptr cert, FirstCertificate("tls-cert", f.cert, kValidCert));
  LPLEX_ASSIGN_OR_RETURN(std::string key_text, ReadFile("tls-key", f.key, kValidKey));
  BioPtr bio = MemoryBio(key_text);
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!key) {
    return Status::InvalidArgument(fmt::format(
        "-tls-key {}: no PEM private key in it, or one protected by a passphrase (valid: {})", f.key, kValidKey));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Status::InvalidArgument(fmt::format(
        "-tls-key {} does not match the certificate of -tls-cert {} (valid: the private key the certificate was "
        "issued for)",
        f.key, f.cert));
  }
  LPLEX_RETURN_IF_ERROR(FirstCertificate("tls-client-ca", f.client_ca, kValidCa).status());
  return Status::Ok();
}

}  // namespace lplex::cloud_app
