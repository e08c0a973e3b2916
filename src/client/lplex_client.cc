#include "client/lplex_client.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/json_string.h"

namespace lplex::client {
namespace {

using nlohmann::json;

void AppendEncoded(std::string_view v, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string PathSegment(std::string_view v) {
  std::string out;
  AppendEncoded(v, &out);
  return out;
}

template <typename T>
void AddParams(std::string_view key, const std::vector<T>& values, std::string* out) {
  for (const T& v : values) {
    out->push_back(out->empty() ? '?' : '&');
    out->append(key);
    out->push_back('=');
    if constexpr (std::is_same_v<T, std::string>) {
      AppendEncoded(v, out);
    } else {
      out->append(std::to_string(static_cast<uint64_t>(v)));
    }
  }
}

// Reads an unsigned key of `j` that must fit `max`; absent = 0 unless required.
Status GetUint(const json& j, const char* key, uint64_t max, bool required, uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::Corruption(fmt::format("missing \"{}\"", key));
    *out = 0;
    return Status::Ok();
  }
  if (!it->is_number_unsigned()) return Status::Corruption(fmt::format("\"{}\" is not an unsigned integer", key));
  const uint64_t v = it->get<uint64_t>();
  if (v > max) return Status::Corruption(fmt::format("\"{}\" {} out of range (valid: 0..{})", key, v, max));
  *out = v;
  return Status::Ok();
}

void GetString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_string()) *out = it->get<std::string>();
}

Result<Device> DeviceFrom(const json& j) {
  if (!j.is_object()) return Status::Corruption("device is not a JSON object");
  Device d;
  uint64_t v = 0;
  if (Status s = GetUint(j, "src", 255, true, &v); !s.ok()) return s;
  d.src = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "manufacturer_code", 65535, false, &v); !s.ok()) return s;
  d.manufacturer_code = static_cast<uint16_t>(v);
  if (Status s = GetUint(j, "device_class", 255, false, &v); !s.ok()) return s;
  d.device_class = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "device_function", 255, false, &v); !s.ok()) return s;
  d.device_function = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "device_instance", 255, false, &v); !s.ok()) return s;
  d.device_instance = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "product_code", 65535, false, &v); !s.ok()) return s;
  d.product_code = static_cast<uint16_t>(v);
  if (Status s = GetUint(j, "packet_count", UINT64_MAX, false, &d.packet_count); !s.ok()) return s;
  if (Status s = GetUint(j, "byte_count", UINT64_MAX, false, &d.byte_count); !s.ok()) return s;
  GetString(j, "name", &d.name);
  GetString(j, "manufacturer", &d.manufacturer);
  GetString(j, "model_id", &d.model_id);
  GetString(j, "first_seen", &d.first_seen);
  GetString(j, "last_seen", &d.last_seen);
  return d;
}

// The body of a 200 answer, or an error naming the request and the status.
Result<std::string> Expect(Result<Response> r, int status, std::string_view what) {
  if (!r.ok()) return r.status();
  if (r->status == status) return std::move(r->body);
  std::string msg = r->body;
  if (const size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  if (msg.size() > 300) msg.resize(300);
  const std::string text = fmt::format("{}: HTTP {}: {}", what, r->status, msg);
  if (r->status == 404) return Status::NotFound(text);
  if (r->status == 400) return Status::InvalidArgument(text);
  return Status::IOError(text);
}

}  // namespace

bool Filter::empty() const {
  return pgn.empty() && exclude_pgn.empty() && manufacturer.empty() && instance.empty() && name.empty() &&
         exclude_name.empty();
}

std::string Filter::QueryString() const {
  std::string q;
  AddParams("pgn", pgn, &q);
  AddParams("exclude_pgn", exclude_pgn, &q);
  AddParams("manufacturer", manufacturer, &q);
  AddParams("instance", instance, &q);
  AddParams("name", name, &q);
  AddParams("exclude_name", exclude_name, &q);
  return q;
}

std::string Filter::Json() const {
  json j = json::object();
  if (!pgn.empty()) j["pgn"] = pgn;
  if (!exclude_pgn.empty()) j["exclude_pgn"] = exclude_pgn;
  if (!manufacturer.empty()) j["manufacturer"] = manufacturer;
  if (!instance.empty()) {
    json a = json::array();
    for (uint8_t i : instance) a.push_back(static_cast<unsigned>(i));
    j["instance"] = a;
  }
  if (!name.empty()) j["name"] = name;
  if (!exclude_name.empty()) j["exclude_name"] = exclude_name;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Frame> ParseFrame(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corruption("frame is not a JSON object");
  Frame f;
  uint64_t v = 0;
  if (Status s = GetUint(j, "seq", UINT64_MAX, true, &f.seq); !s.ok()) return s;
  if (Status s = GetUint(j, "pgn", 0x3ffff, true, &v); !s.ok()) return s;
  f.pgn = static_cast<uint32_t>(v);
  if (Status s = GetUint(j, "src", 255, true, &v); !s.ok()) return s;
  f.src = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "dst", 255, false, &v); !s.ok()) return s;
  f.dst = static_cast<uint8_t>(v);
  if (Status s = GetUint(j, "prio", 7, false, &v); !s.ok()) return s;
  f.prio = static_cast<uint8_t>(v);
  GetString(j, "ts", &f.ts);
  GetString(j, "data", &f.data);
  return f;
}

Result<Device> ParseDevice(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("device is not valid JSON");
  return DeviceFrom(j);
}

Result<std::vector<Device>> ParseDevices(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return Status::Corruption("devices: not a JSON array");
  std::vector<Device> out;
  for (const json& e : j) {
    Result<Device> d = DeviceFrom(e);
    if (!d.ok()) return Status::Corruption(fmt::format("devices[{}]: {}", out.size(), d.status().message()));
    out.push_back(std::move(*d));
  }
  return out;
}

bool ValidClientId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

LplexClient::LplexClient(ServerUrl url, ClientOptions options) : http_(std::move(url), options) {}

Result<std::string> LplexClient::DevicesJson() const {
  return Expect(http_.Get("/devices"), 200, "GET " + url().text + "/devices");
}

Result<std::string> LplexClient::ValuesJson(const Filter& filter, bool decoded) const {
  const std::string target = std::string(decoded ? "/values/decoded" : "/values") + filter.QueryString();
  return Expect(http_.Get(target), 200, "GET " + url().text + target);
}

Result<std::unique_ptr<EventStream>> LplexClient::Subscribe(const Filter& filter) const {
  return http_.OpenStream("/events" + filter.QueryString());
}

Result<SessionInfo> LplexClient::CreateSession(std::string_view client_id, std::string_view buffer_timeout,
                                               const Filter& filter) const {
  std::string body = "{\"buffer_timeout\":";
  AppendJsonString(buffer_timeout, &body);
  if (!filter.empty()) body += ",\"filter\":" + filter.Json();
  body += "}";
  const std::string target = "/clients/" + PathSegment(client_id);
  Result<std::string> reply = Expect(http_.Put(target, body), 200, "PUT " + url().text + target);
  if (!reply.ok()) return reply.status();
  json j = json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corruption(fmt::format("PUT {}{}: answer is not a JSON object", url().text, target));
  SessionInfo info;
  GetString(j, "client_id", &info.client_id);
  if (Status s = GetUint(j, "seq", UINT64_MAX, false, &info.seq); !s.ok()) return s;
  if (Status s = GetUint(j, "cursor", UINT64_MAX, false, &info.cursor); !s.ok()) return s;
  if (auto it = j.find("devices"); it != j.end() && it->is_array()) {
    for (const json& e : *it) {
      Result<Device> d = DeviceFrom(e);
      if (d.ok()) info.devices.push_back(std::move(*d));
    }
  }
  return info;
}

Status LplexClient::Ack(std::string_view client_id, uint64_t seq) const {
  const std::string target = "/clients/" + PathSegment(client_id) + "/ack";
  Result<std::string> r =
      Expect(http_.Put(target, fmt::format("{{\"seq\":{}}}", seq)), 204, "PUT " + url().text + target);
  return r.status();
}

Result<std::unique_ptr<EventStream>> LplexClient::SessionEvents(std::string_view client_id) const {
  return http_.OpenStream("/clients/" + PathSegment(client_id) + "/events");
}

}  // namespace lplex::client
