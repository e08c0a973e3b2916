// TLS files named in settings (the boat's -replication-tls-*, the cloud's
// -tls-*), checked when the configuration is checked: left to gRPC, a
// missing or garbage file shows only after startup, as error lines of a
// connection retried forever.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lplex::config {

// What a PEM file must hold.
enum class PemContent {
  kCertificate,  // a "-----BEGIN CERTIFICATE-----" block (also TRUSTED/X509 CERTIFICATE)
  kPrivateKey,   // a "-----BEGIN ... PRIVATE KEY-----" block (PKCS#8, RSA, EC)
};

// Checks that `path` is a readable file holding a PEM block of `content`.
// This is a sanity check, not a parse: a file that passes can still be a
// bad certificate (gRPC says so when it connects); one that fails never
// works. A certificate given where the key belongs (or the reverse) fails.
// Returns OK or InvalidArgument starting with `setting` and the path, with
// the OS error or what was found, and what is valid (the wording of the
// cloud's apps/lplex-cloud/tls_files.h), e.g.
//   -replication-tls-cert garbage.pem: not a PEM certificate: no "-----BEGIN"
//   line (valid: a readable PEM file with a "-----BEGIN CERTIFICATE-----" block)
Status CheckPemFile(std::string_view setting, const std::string& path, PemContent content);

}  // namespace lplex::config
