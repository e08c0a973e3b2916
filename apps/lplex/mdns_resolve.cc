#include "mdns_resolve.h"

#include <fmt/format.h>

#include "mdns/mdns.h"

namespace lplex::cli {

Result<std::string> DiscoverServerOverMdns(const std::optional<std::string>& instance_name,
                                           std::chrono::milliseconds timeout) {
  Result<std::string> url = mdns::Discover(instance_name, timeout);
  if (url.ok()) return url;
  const Status& s = url.status();
  std::string message = fmt::format("{}; {}", s.message(), kSpecifyServerHint);
  // The kind of error stays (NotFound: nobody answered; IOError: no daemon).
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsIOError()) return Status::IOError(std::move(message));
  return Status::InvalidArgument(std::move(message));
}

}  // namespace lplex::cli
