#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>
#include <fmt/format.h>

#include <memory>

#include "mdns/avahi_error.h"
#include "mdns/bounded_call.h"
#include "mdns/mdns.h"

namespace lplex::mdns {

// How long Start waits for the system bus to take the connection. A bus
// that answers does so in milliseconds; this only bounds a wedged one.
constexpr std::chrono::milliseconds kConnectLimit{5000};

// Everything below runs either in Start() before the poll thread exists, or
// on the poll thread (the callbacks), or under the poll lock (name()), so
// the fields need no lock of their own.
struct Announcer::Impl {
  AvahiThreadedPoll* poll = nullptr;
  AvahiClient* client = nullptr;
  AvahiEntryGroup* group = nullptr;
  std::string name;
  uint16_t port = 0;
  // The first avahi error met while registering (0: none). Start() returns
  // it; later ones (after a daemon restart) can only be retried, not reported.
  int error = 0;

  ~Impl() {
    // Stop the thread first, so no callback runs while the client goes;
    // freeing the client frees its entry group, which withdraws the service.
    if (poll != nullptr) avahi_threaded_poll_stop(poll);
    if (client != nullptr) avahi_client_free(client);
    if (poll != nullptr) avahi_threaded_poll_free(poll);
  }

  void Fail(int e) {
    if (error == 0) error = e;
  }

  // Picks the next name after a collision: "inuc1" -> "inuc1 #2" -> "inuc1 #3".
  void Rename() {
    char* next = avahi_alternative_service_name(name.c_str());
    name = next;
    avahi_free(next);
  }

  // Adds the service to the (empty) entry group and commits it.
  void Register(AvahiClient* c) {
    if (group == nullptr) {
      group = avahi_entry_group_new(c, &Impl::OnGroup, this);
      if (group == nullptr) return Fail(avahi_client_errno(c));
    }
    if (!avahi_entry_group_is_empty(group)) return;
    for (;;) {
      const int r = avahi_entry_group_add_service(group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, AvahiPublishFlags(0),
                                                  name.c_str(), kServiceType, /*domain=*/nullptr, /*host=*/nullptr,
                                                  port, nullptr);
      if (r == AVAHI_ERR_COLLISION) {  // a local service has the name already
        Rename();
        avahi_entry_group_reset(group);
        continue;
      }
      if (r < 0) return Fail(r);
      break;
    }
    if (const int r = avahi_entry_group_commit(group); r < 0) Fail(r);
  }

  static void OnGroup(AvahiEntryGroup* g, AvahiEntryGroupState state, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (state) {
      case AVAHI_ENTRY_GROUP_COLLISION:  // another host on the link owns the name
        self->Rename();
        avahi_entry_group_reset(g);
        self->Register(avahi_entry_group_get_client(g));
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        self->Fail(avahi_client_errno(avahi_entry_group_get_client(g)));
        break;
      default:
        break;
    }
  }

  // Also called from inside avahi_client_new(), before `client` is set:
  // use `c`, never `client`, here.
  static void OnClient(AvahiClient* c, AvahiClientState state, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (state) {
      case AVAHI_CLIENT_S_RUNNING:
        self->Register(c);
        break;
      case AVAHI_CLIENT_S_COLLISION:
      case AVAHI_CLIENT_S_REGISTERING:
        // The daemon is (re)registering its host name: our records go with
        // it and are added again once it is running.
        if (self->group != nullptr) avahi_entry_group_reset(self->group);
        break;
      case AVAHI_CLIENT_FAILURE:
        if (avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED && self->client != nullptr) {
          // The daemon went away (restart, upgrade): wait for it to come
          // back and register again. NO_FAIL keeps the new client waiting.
          avahi_client_free(self->client);
          self->client = nullptr;
          self->group = nullptr;
          int e = 0;
          self->client = avahi_client_new(avahi_threaded_poll_get(self->poll), AVAHI_CLIENT_NO_FAIL,
                                          &Impl::OnClient, self, &e);
        } else {
          self->Fail(avahi_client_errno(c));
        }
        break;
      default:
        break;
    }
  }
};

Announcer::Announcer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Announcer::~Announcer() = default;

Result<std::unique_ptr<Announcer>> Announcer::Start(const std::string& name, uint16_t port) {
  if (name.empty() || name.size() > AVAHI_LABEL_MAX - 1 || !avahi_is_valid_service_name(name.c_str())) {
    return Status::InvalidArgument(
        fmt::format("mDNS: instance name \"{}\" is not valid (valid: 1..63 bytes of UTF-8)", name));
  }
  if (port == 0) return Status::InvalidArgument("mDNS: port 0 cannot be announced (valid: 1..65535)");
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->port = port;
  impl->poll = avahi_threaded_poll_new();
  if (impl->poll == nullptr) return Status::IOError("mDNS: cannot create avahi's poll thread");
  // Without NO_FAIL this fails at once when there is no daemon, which is
  // what the caller wants to hear about (and log) at startup. The callbacks
  // run during the connect (on its thread); the poll thread starts after.
  struct Outcome {
    AvahiClient* client = nullptr;
    int error = 0;
  };
  auto outcome = std::make_shared<Outcome>();
  Impl* raw = impl.get();
  const bool answered = RunWithin(kConnectLimit, [outcome, raw] {
    outcome->client = avahi_client_new(avahi_threaded_poll_get(raw->poll), AvahiClientFlags(0), &Impl::OnClient,
                                       raw, &outcome->error);
  });
  if (!answered) {
    // The connect may still return one day: it keeps the state it uses.
    (void)impl.release();
    return Status::IOError(fmt::format(
        "mDNS: cannot reach the avahi daemon (is avahi-daemon running?): the D-Bus system bus did not answer "
        "within {} ms",
        kConnectLimit.count()));
  }
  impl->client = outcome->client;
  if (impl->client == nullptr) return AvahiStatus("cannot connect to the avahi daemon", outcome->error);
  if (impl->error != 0) return AvahiStatus(fmt::format("cannot register \"{}\"", impl->name), impl->error);
  if (avahi_threaded_poll_start(impl->poll) < 0) return Status::IOError("mDNS: cannot start avahi's poll thread");
  return std::unique_ptr<Announcer>(new Announcer(std::move(impl)));
}

std::string Announcer::name() const {
  avahi_threaded_poll_lock(impl_->poll);
  std::string n = impl_->name;
  avahi_threaded_poll_unlock(impl_->poll);
  return n;
}

uint16_t Announcer::port() const { return impl_->port; }

}  // namespace lplex::mdns
