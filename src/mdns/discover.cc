#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <fmt/format.h>
#include <net/if.h>
#include <strings.h>

#include <chrono>
#include <memory>

#include "mdns/avahi_error.h"
#include "mdns/bounded_call.h"
#include "mdns/mdns.h"

namespace lplex::mdns {
namespace {

using Clock = std::chrono::steady_clock;

// What the callbacks found so far. Single-threaded: the callbacks run
// inside avahi_simple_poll_iterate() on the caller's thread.
struct Search {
  AvahiClient* client = nullptr;
  std::optional<std::string> want;  // instance name, or any
  std::optional<std::string> ipv4_url;
  std::optional<std::string> ipv6_url;
  int resolving = 0;          // resolvers started and not finished
  bool all_for_now = false;   // the browser has reported what it had cached
  int error = 0;              // the browser or the client failed (avahi error)
  int connect_error = 0;      // avahi_client_new's error
};

std::string UrlOf(const AvahiAddress* a, AvahiIfIndex interface, uint16_t port) {
  char text[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(text, sizeof text, a);
  if (a->proto == AVAHI_PROTO_INET) return fmt::format("http://{}:{}", text, port);
  // A link-local IPv6 address means nothing without its interface: RFC 6874
  // zone, "%" escaped as "%25" inside a URL.
  std::string zone;
  const uint8_t* b = a->data.ipv6.address;
  char ifname[IF_NAMESIZE] = {};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80 && interface > 0 &&
      ::if_indextoname(static_cast<unsigned>(interface), ifname) != nullptr) {
    zone = fmt::format("%25{}", ifname);
  }
  return fmt::format("http://[{}{}]:{}", text, zone, port);
}

void OnResolved(AvahiServiceResolver* r, AvahiIfIndex interface, AvahiProtocol, AvahiResolverEvent event,
                const char*, const char*, const char*, const char*, const AvahiAddress* address, uint16_t port,
                AvahiStringList*, AvahiLookupResultFlags, void* userdata) {
  auto* s = static_cast<Search*>(userdata);
  if (event == AVAHI_RESOLVER_FOUND && address != nullptr) {
    std::optional<std::string>& slot = address->proto == AVAHI_PROTO_INET ? s->ipv4_url : s->ipv6_url;
    if (!slot) slot = UrlOf(address, interface, port);
  }
  --s->resolving;
  avahi_service_resolver_free(r);
}

void OnBrowsed(AvahiServiceBrowser* b, AvahiIfIndex interface, AvahiProtocol protocol, AvahiBrowserEvent event,
               const char* name, const char* type, const char* domain, AvahiLookupResultFlags, void* userdata) {
  auto* s = static_cast<Search*>(userdata);
  switch (event) {
    case AVAHI_BROWSER_NEW:
      if (s->want && ::strcasecmp(s->want->c_str(), name) != 0) return;
      // One resolver per (interface, protocol) the service shows up on;
      // any address family, the caller prefers IPv4 among the answers.
      if (avahi_service_resolver_new(s->client, interface, protocol, name, type, domain, AVAHI_PROTO_UNSPEC,
                                     AvahiLookupFlags(0), &OnResolved, s) != nullptr) {
        ++s->resolving;
      }
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
      s->all_for_now = true;
      break;
    case AVAHI_BROWSER_FAILURE:
      s->error = avahi_client_errno(avahi_service_browser_get_client(b));
      break;
    default:
      break;
  }
}

// The daemon going away mid-search ends it (with the reason).
void OnClient(AvahiClient* c, AvahiClientState state, void* userdata) {
  if (state == AVAHI_CLIENT_FAILURE) static_cast<Search*>(userdata)->error = avahi_client_errno(c);
}

// Frees in the order avahi needs: the client (with its browser and
// resolvers) before the poll it runs on.
struct Resources {
  AvahiSimplePoll* poll = nullptr;
  AvahiClient* client = nullptr;
  ~Resources() {
    if (client != nullptr) avahi_client_free(client);
    if (poll != nullptr) avahi_simple_poll_free(poll);
  }
};

std::string Describe(const std::optional<std::string>& name) {
  return name ? fmt::format("no {} server named \"{}\"", kServiceType, *name)
              : fmt::format("no {} server", kServiceType);
}

}  // namespace

Result<std::string> Discover(const std::optional<std::string>& instance_name, std::chrono::milliseconds timeout) {
  if (timeout <= std::chrono::milliseconds(0)) {
    return Status::InvalidArgument(fmt::format("mDNS: timeout {} ms is not positive", timeout.count()));
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  Resources res;
  res.poll = avahi_simple_poll_new();
  if (res.poll == nullptr) return Status::IOError("mDNS: cannot create avahi's poll");
  // The connect runs on a thread of its own, bounded by the timeout
  // (bounded_call.h); if it is abandoned, so are the poll and the search.
  auto shared = std::make_shared<Search>();
  Search& search = *shared;
  search.want = instance_name;
  AvahiSimplePoll* poll = res.poll;
  const bool answered = RunWithin(timeout, [shared, poll] {
    shared->client = avahi_client_new(avahi_simple_poll_get(poll), AvahiClientFlags(0), &OnClient, shared.get(),
                                      &shared->connect_error);
  });
  if (!answered) {
    res.poll = nullptr;  // still in use by the abandoned connect
    return Status::IOError(fmt::format(
        "mDNS: cannot reach the avahi daemon (is avahi-daemon running?): the D-Bus system bus did not answer "
        "within {} ms",
        timeout.count()));
  }
  res.client = search.client;
  if (res.client == nullptr) return AvahiStatus("cannot connect to the avahi daemon", search.connect_error);
  if (avahi_service_browser_new(res.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, kServiceType, "local",
                                AvahiLookupFlags(0), &OnBrowsed, &search) == nullptr) {
    return AvahiStatus(fmt::format("cannot browse {}", kServiceType), avahi_client_errno(res.client));
  }
  for (;;) {
    if (search.ipv4_url) return *search.ipv4_url;
    // IPv6 only: take it once every service seen so far has resolved.
    if (search.ipv6_url && search.all_for_now && search.resolving == 0) return *search.ipv6_url;
    if (search.error != 0) return AvahiStatus(fmt::format("browsing {} failed", kServiceType), search.error);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds(0)) break;
    // Sleeps at most `left` (rounded up so that 0.4 ms is not a busy loop).
    const int r = avahi_simple_poll_iterate(res.poll, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (r < 0) return Status::IOError("mDNS: avahi's poll failed");
    if (r > 0) break;  // quit requested (not done here)
  }
  if (search.ipv6_url) return *search.ipv6_url;
  return Status::NotFound(fmt::format("mDNS: {} in local. answered within {} ms", Describe(instance_name),
                                      timeout.count()));
}

}  // namespace lplex::mdns
