// The replication listener's TLS files, checked before anything starts
// (-validate-config and startup, exit 2), so a missing, unreadable or wrong
// file is reported naming its flag, its path and the cause, instead of
// surfacing as a vague listen failure once the keeper has swept the data
// directory. gRPC reads the same files again when it starts listening.
#pragma once

#include <string>

#include "core/status.h"

namespace lplex::cloud_app {

// The three files of an mTLS listener, as the flags give them.
struct TlsFiles {
  std::string cert;       // -tls-cert: certificate chain (PEM), the server's certificate first
  std::string key;        // -tls-key: its private key (PEM, unencrypted)
  std::string client_ca;  // -tls-client-ca: the CA certificate(s) (PEM) of the boats
};

// Each file exists, is readable and holds what its flag says in PEM (at
// least one certificate; an unencrypted private key), and the key is the
// certificate's. InvalidArgument naming the flag and the path, with the OS
// error or what was found, and what is valid:
//   -tls-cert /etc/x.pem: cannot be read: No such file or directory (valid: ...)
//   -tls-key /etc/k.pem does not match the certificate of -tls-cert /etc/c.pem (...)
Status CheckTlsFiles(const TlsFiles& files);

}  // namespace lplex::cloud_app
