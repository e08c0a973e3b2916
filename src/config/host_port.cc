#include "config/host_port.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace lplex::config {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Why `host` (without the port) is not a host, or "" when it is one. An
// empty host is the caller's business (allowed only for listening).
std::string HostProblem(std::string_view host) {
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return fmt::format("\"{}\" is not a bracketed IPv6 address", host);
    const std::string_view inner = host.substr(1, host.size() - 2);
    // An optional zone ("%eth0") follows the address itself.
    const size_t pct = inner.find('%');
    const std::string_view addr = inner.substr(0, pct);
    const std::string_view zone = pct == std::string_view::npos ? std::string_view() : inner.substr(pct + 1);
    const bool addr_ok = addr.find(':') != std::string_view::npos &&
                         std::all_of(addr.begin(), addr.end(), [](char c) { return IsHex(c) || c == ':' || c == '.'; });
    const bool zone_ok = pct == std::string_view::npos ||
                         (!zone.empty() && std::all_of(zone.begin(), zone.end(), [](char c) {
                           return IsAlnum(c) || c == '-' || c == '_' || c == '.';
                         }));
    if (!addr_ok || !zone_ok) return fmt::format("\"{}\" is not an IPv6 address", inner);
    return "";
  }
  if (host.find(':') != std::string_view::npos) {
    // "::1:9443" or "dns:///host:9443": gRPC would read either its own way.
    return fmt::format("host \"{}\" has a ':' (an IPv6 address goes in brackets)", host);
  }
  const bool name_ok = std::all_of(host.begin(), host.end(), [](char c) {
    return IsAlnum(c) || c == '.' || c == '-' || c == '_';
  });
  if (!name_ok) return fmt::format("host \"{}\" is not a host name or IP address", host);
  return "";
}

}  // namespace

Status CheckHostPort(std::string_view address, AddressUse use) {
  const bool listen = use == AddressUse::kListen;
  const int min_port = listen ? 0 : 1;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(fmt::format(
        "\"{}\" is not valid: {} (valid: {} with PORT {}..65535, IPv6 as [addr]:port, such as {})", address, why,
        listen ? "[HOST]:PORT" : "HOST:PORT", min_port, listen ? ":9443, 0.0.0.0:9443 or [::1]:9443"
                                                                : "lplex.example.com:9443 or [2001:db8::1]:9443"));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("no :PORT");
  // The last ':' of a bare IPv6 address is not a port separator.
  if (!address.empty() && address.front() == '[' && address.back() == ']') return bad("no :PORT after the ']'");
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (port.empty()) return bad("no PORT after the ':'");
  if (!std::all_of(port.begin(), port.end(), IsDigit)) return bad(fmt::format("port \"{}\" is not a number", port));
  // More than 5 digits is out of range whatever they are (and stays clear of overflow).
  const long value = port.size() > 5 ? 100000 : std::stol(std::string(port));
  if (value < min_port || value > 65535) return bad(fmt::format("port {} is out of range", port));
  if (host.empty()) {
    if (listen) return Status::Ok();
    return bad("no HOST before the ':'");
  }
  if (std::string why = HostProblem(host); !why.empty()) return bad(why);
  return Status::Ok();
}

ValueCheck HostPortCheck(AddressUse use) {
  return [use](const SettingValue& v) {
    if (v.text.empty() && use == AddressUse::kConnect) return Status::Ok();
    return CheckHostPort(v.text, use);
  };
}

}  // namespace lplex::config
