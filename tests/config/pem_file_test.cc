// TLS files checked before anything starts (config/pem_file.h).
#include "config/pem_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace lplex::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
constexpr const char* kKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n";

class PemFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }
  lplex::testing::TempDir dir_;
};

TEST_F(PemFileTest, CertificateAndKeyPass) {
  EXPECT_TRUE(CheckPemFile("-f", Write("c.pem", kCert), PemContent::kCertificate).ok());
  EXPECT_TRUE(CheckPemFile("-f", Write("k.pem", kKey), PemContent::kPrivateKey).ok());
  const std::string rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
  EXPECT_TRUE(CheckPemFile("-f", Write("rsa.pem", rsa), PemContent::kPrivateKey).ok());
}

TEST_F(PemFileTest, ChainAfterAKeyInOneFileFindsTheCertificate) {
  const std::string both = std::string(kKey) + kCert;
  EXPECT_TRUE(CheckPemFile("-f", Write("both.pem", both), PemContent::kCertificate).ok());
}

TEST_F(PemFileTest, GarbageFileIsRefusedNamingThePath) {
  const std::string path = Write("garbage.pem", "garbage\n");
  const Status s = CheckPemFile("-f", path, PemContent::kCertificate);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("-f " + path + ": not a PEM certificate: no \"-----BEGIN\" line"));
}

TEST_F(PemFileTest, MissingFileIsRefusedWithTheCause) {
  const Status s = CheckPemFile("-f", dir_.Sub("missing.pem"), PemContent::kCertificate);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("missing.pem: cannot be read: No such file or directory"));
}

TEST_F(PemFileTest, EmptyFileAndDirectoryAreRefused) {
  EXPECT_THAT(CheckPemFile("-f", Write("empty.pem", ""), PemContent::kPrivateKey).message(),
              HasSubstr(": the file is empty"));
  EXPECT_THAT(CheckPemFile("-f", dir_.path(), PemContent::kPrivateKey).message(),
              HasSubstr(": a directory, not a file"));
}

TEST_F(PemFileTest, CertificateGivenAsTheKeyIsRefused) {
  const Status s = CheckPemFile("-f", Write("c.pem", kCert), PemContent::kPrivateKey);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(": not a PEM private key: it holds \"-----BEGIN CERTIFICATE-----\""));
}

TEST_F(PemFileTest, KeyGivenAsTheCertificateIsRefused) {
  const Status s = CheckPemFile("-f", Write("k.pem", kKey), PemContent::kCertificate);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(": not a PEM certificate: it holds \"-----BEGIN PRIVATE KEY-----\""));
}

}  // namespace
}  // namespace lplex::config
