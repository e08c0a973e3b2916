#include "config/pem_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace lplex::config {
namespace {

// Certificates and keys are a few KiB; a file far larger is not one of them
// (and is not read whole just to say so).
constexpr size_t kMaxPemBytes = 1 << 20;

// The labels of the "-----BEGIN <label>-----" lines of `text`.
std::vector<std::string> BeginLabels(std::string_view text) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::vector<std::string> labels;
  for (size_t at = text.find(kBegin); at != std::string_view::npos; at = text.find(kBegin, at + 1)) {
    const size_t start = at + kBegin.size();
    const size_t end = text.find("-----", start);
    const size_t eol = text.find('\n', start);
    if (end == std::string_view::npos || (eol != std::string_view::npos && eol < end)) continue;
    labels.emplace_back(text.substr(start, end - start));
  }
  return labels;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

Status CheckPemFile(std::string_view setting, const std::string& path, PemContent content) {
  const bool cert = content == PemContent::kCertificate;
  const char* what = cert ? "PEM certificate" : "PEM private key";
  const char* valid = cert ? "a readable PEM file with a \"-----BEGIN CERTIFICATE-----\" block"
                           : "a readable PEM file with a \"-----BEGIN PRIVATE KEY-----\" (or RSA/EC PRIVATE KEY) block";
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(fmt::format("{} {}: {} (valid: {})", setting, path, why, valid));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return bad("a directory, not a file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad(fmt::format("cannot be read: {}", errno != 0 ? std::strerror(errno) : "open failed"));
  std::string text;
  text.resize(kMaxPemBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return bad("cannot be read: read failed");
  if (text.empty()) return bad(fmt::format("the file is empty, not a {}", what));
  if (text.size() > kMaxPemBytes) return bad(fmt::format("larger than {} bytes, not a {}", kMaxPemBytes, what));
  const std::vector<std::string> labels = BeginLabels(text);
  if (labels.empty()) return bad(fmt::format("not a {}: no \"-----BEGIN\" line", what));
  for (const std::string& label : labels) {
    if (cert ? EndsWith(label, "CERTIFICATE") : EndsWith(label, "PRIVATE KEY")) return Status::Ok();
  }
  return bad(fmt::format("not a {}: it holds \"-----BEGIN {}-----\"", what, labels.front()));
}

}  // namespace lplex::config
