// LplexClient: the boat API (spec/boat.md §2) as typed calls — devices,
// values, the ephemeral stream and buffered sessions — on top of
// HttpClient. What `lplex tail`, `lplex values` and `lplex devices` use; the
// counterpart of the reference's Go client lplexc (§5.7).
//
// Errors are values: IOError when the server cannot be reached, and for an
// unexpected HTTP status a Status naming the request, the status and the
// server's one-line message (NotFound for 404, InvalidArgument for 400).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.h"
#include "core/status.h"

namespace lplex::client {

// The server-side filter of §4.1: categories AND'd, values within one OR'd,
// exclusions win. NAMEs are hex text as the user typed them (the server
// checks them and says which one is bad).
struct Filter {
  std::vector<uint32_t> pgn;
  std::vector<uint32_t> exclude_pgn;
  std::vector<std::string> manufacturer;
  std::vector<uint8_t> instance;
  std::vector<std::string> name;
  std::vector<std::string> exclude_name;

  bool empty() const;
  // "" or "?pgn=1&pgn=2&manufacturer=B%26G" (values percent-encoded).
  std::string QueryString() const;
  // The session `filter` object with only the non-empty categories, e.g.
  // {"pgn":[129025],"instance":[0,1]}; "{}" when empty. `instance` is sent
  // as an array of numbers (the reference client sends base64; our server
  // and the reference's both accept arrays).
  std::string Json() const;
};

// A frame as the server serializes it (§1.4). `ts` and `data` are kept as
// the server wrote them, so they can be passed through unchanged.
struct Frame {
  uint64_t seq = 0;
  std::string ts;
  uint8_t prio = 0;
  uint32_t pgn = 0;
  uint8_t src = 0;
  uint8_t dst = 0;
  std::string data;  // lowercase hex
};

// Parses one frame JSON object. Corruption naming the key when a required
// key (seq, pgn, src) is missing or of the wrong type, or a number is out
// of range for its field.
Result<Frame> ParseFrame(std::string_view json);

// A device as /devices and device events show it (§1.8); unknown keys
// (the "type" of an event, a "bus") are ignored.
struct Device {
  uint8_t src = 0;
  std::string name;          // 16 hex digits, "" for a source that never claimed
  std::string manufacturer;  // "" when unknown
  uint16_t manufacturer_code = 0;
  uint8_t device_class = 0;
  uint8_t device_function = 0;
  uint8_t device_instance = 0;
  std::string model_id;
  uint16_t product_code = 0;
  std::string first_seen;    // RFC 3339 as the server wrote it
  std::string last_seen;
  uint64_t packet_count = 0;
  uint64_t byte_count = 0;
};

// One device object (a /devices element or a device event).
Result<Device> ParseDevice(std::string_view json);
// A /devices body: a JSON array of device objects.
Result<std::vector<Device>> ParseDevices(std::string_view json);

// The answer to PUT /clients/{id} (§2.2).
struct SessionInfo {
  std::string client_id;
  uint64_t seq = 0;     // the newest seq the server has assigned (head-1)
  uint64_t cursor = 0;  // the last acked seq, 0 = never acked (or a new session)
  std::vector<Device> devices;
};

// A client id the server accepts: ^[A-Za-z0-9_-]{1,64}$.
bool ValidClientId(std::string_view id);

class LplexClient {
 public:
  LplexClient(ServerUrl url, ClientOptions options = {});

  const ServerUrl& url() const { return http_.url(); }

  // GET /devices: the JSON array body as sent (200 required).
  Result<std::string> DevicesJson() const;
  // GET /values or /values/decoded with the filter: the JSON body as sent.
  Result<std::string> ValuesJson(const Filter& filter, bool decoded) const;

  // GET /events with the filter: frames and device events.
  Result<std::unique_ptr<EventStream>> Subscribe(const Filter& filter) const;

  // PUT /clients/{id} with {"buffer_timeout": ..., "filter": ...}; the
  // filter key is left out when the filter is empty. `buffer_timeout` is
  // ISO 8601 ("PT5M"); "PT0S" resets the cursor (§1.6).
  Result<SessionInfo> CreateSession(std::string_view client_id, std::string_view buffer_timeout,
                                    const Filter& filter) const;

  // PUT /clients/{id}/ack {"seq":N}: 204 expected. NotFound when the
  // session no longer exists (expired, or the server restarted).
  Status Ack(std::string_view client_id, uint64_t seq) const;

  // GET /clients/{id}/events: the session's frames from cursor+1 (or live
  // when it never acked). NotFound when the session does not exist.
  Result<std::unique_ptr<EventStream>> SessionEvents(std::string_view client_id) const;

 private:
  HttpClient http_;
};

}  // namespace lplex::client
