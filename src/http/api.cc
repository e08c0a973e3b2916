#include "http/api.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/device_table.h"
#include "broker/json_buffer.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/hex.h"
#include "core/prometheus_text.h"
#include "core/strings.h"
#include "core/time.h"

namespace lplex::http::internal {
namespace {

using nlohmann::json;

constexpr uint32_t kMaxPgn = 0x1FFFF;
constexpr size_t kMaxPayload = 1785;  // the fast-packet maximum
constexpr auto kMaxQueryTimeout = std::chrono::seconds(60);

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int a = HexVal(s[i + 1]), b = HexVal(s[i + 2]);
      if (a < 0 || b < 0) return std::nullopt;
      out.push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool ValidClientId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Constant time for equal lengths, so the key cannot be guessed byte by byte.
bool SameKey(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// The JSON request body as an object (null counts as {}). A Reply on error.
std::optional<Reply> ParseBody(std::string_view body, json* out) {
  *out = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    return ErrorReply(400, body.empty() ? "invalid request body: empty (send a JSON object, e.g. {})"
                                        : "invalid request body: malformed JSON");
  }
  if (out->is_null()) *out = json::object();
  if (!out->is_object()) return ErrorReply(400, "invalid request body: expected a JSON object");
  return std::nullopt;
}

// Reads an unsigned integer field (absent or null = `def`). Go's decoder
// refuses negatives, fractions and out-of-range numbers for uintN fields.
std::optional<Reply> GetUint(const json& obj, const char* key, uint64_t max, uint64_t def, uint64_t* out) {
  *out = def;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) {
    return ErrorReply(400, fmt::format("invalid request body: \"{}\" must be a non-negative integer (got {})", key,
                                       it->dump()));
  }
  if (it->get<uint64_t>() > max) {
    return ErrorReply(400, fmt::format("invalid request body: \"{}\" must be an integer 0..{} (got {})", key, max,
                                       it->dump()));
  }
  *out = it->get<uint64_t>();
  return std::nullopt;
}

std::optional<Reply> GetString(const json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    return ErrorReply(400, fmt::format("invalid request body: \"{}\" must be a string (got {})", key, it->dump()));
  }
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> Base64Decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

// The session `filter` object (spec/boat.md §2.2) into *spec.
std::optional<Reply> ParseFilterObject(const json& f, broker::FilterSpec* spec) {
  if (f.is_null()) return std::nullopt;
  if (!f.is_object()) return ErrorReply(400, "invalid request body: \"filter\" must be an object");
  auto array_of = [&](const char* key, const json** arr) -> std::optional<Reply> {
    *arr = nullptr;
    auto it = f.find(key);
    if (it == f.end() || it->is_null()) return std::nullopt;
    if (!it->is_array()) {
      return ErrorReply(400, fmt::format("invalid request body: filter.{} must be an array (got {})", key, it->dump()));
    }
    *arr = &*it;
    return std::nullopt;
  };
  const json* a;
  for (const char* key : {"pgn", "exclude_pgn"}) {
    if (auto e = array_of(key, &a)) return e;
    if (!a) continue;
    for (const auto& v : *a) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxPgn) {
        return ErrorReply(400, fmt::format("invalid {} {} in filter (valid: 0..{})", key, v.dump(), kMaxPgn));
      }
      (key[0] == 'p' ? spec->pgn : spec->exclude_pgn).push_back(v.get<uint32_t>());
    }
  }
  if (auto e = array_of("manufacturer", &a)) return e;
  if (a) {
    for (const auto& v : *a) {
      if (!v.is_string()) {
        return ErrorReply(400, fmt::format("invalid manufacturer {} in filter: must be a string", v.dump()));
      }
      spec->manufacturer.push_back(v.get<std::string>());
    }
  }
  for (const char* key : {"instance", "src"}) {
    auto it = f.find(key);
    if (it == f.end() || it->is_null()) continue;
    auto& list = key[0] == 'i' ? spec->instance : spec->src;
    if (it->is_string() && key[0] == 'i') {
      // Go decodes a []uint8 from base64, and the Go client lplexc sends that.
      auto bytes = Base64Decode(it->get<std::string>());
      if (!bytes) {
        return ErrorReply(400, fmt::format("invalid instance {} in filter: not base64 (send an array of 0..255)",
                                           it->dump()));
      }
      list.insert(list.end(), bytes->begin(), bytes->end());
      continue;
    }
    if (!it->is_array()) {
      return ErrorReply(400, fmt::format("invalid request body: filter.{} must be an array (got {})", key, it->dump()));
    }
    for (const auto& v : *it) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 255) {
        return ErrorReply(400, fmt::format("invalid {} {} in filter (valid: 0..255)", key, v.dump()));
      }
      list.push_back(v.get<uint8_t>());
    }
  }
  for (const char* key : {"name", "exclude_name"}) {
    if (auto e = array_of(key, &a)) return e;
    if (!a) continue;
    const bool exclude = key[0] == 'e';
    for (const auto& v : *a) {
      std::optional<uint64_t> n;
      if (v.is_string()) n = broker::ParseNameHex(v.get<std::string>());
      if (!n) {
        const std::string shown = v.is_string() ? QuoteLikeGo(v.get<std::string>()) : v.dump();
        return ErrorReply(400, fmt::format("invalid {}CAN name {}: must be hex", exclude ? "exclude " : "", shown));
      }
      (exclude ? spec->exclude_name : spec->name).push_back(*n);
    }
  }
  return std::nullopt;
}

// Go's time.Time JSON for a µs timestamp (0 = the zero time).
std::string GoTime(int64_t us) {
  if (us == 0) return "0001-01-01T00:00:00Z";
  return timefmt::Rfc3339Nano(us);
}

}  // namespace

Result<Params> ParseQuery(std::string_view query) {
  Params out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == query.npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto k = PercentDecode(pair.substr(0, eq), true);
    auto v = PercentDecode(eq == pair.npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!k || !v) {
      return Status::InvalidArgument(
          fmt::format("invalid query parameter {}: bad percent-encoding (use %XX with two hex digits)",
                      QuoteLikeGo(pair)));
    }
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

std::optional<std::string> DecodeSegment(std::string_view s) { return PercentDecode(s, false); }

Reply ErrorReply(int status, std::string_view message) {
  Reply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body.assign(message);
  r.body.push_back('\n');
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

Api::Api(const ServerOptions& options, std::shared_ptr<broker::Broker> broker, SendPolicy policy)
    : opt_(options),
      broker_(std::move(broker)),
      policy_(std::move(policy)),
      clock_(options.clock ? options.clock : Clock::Real()) {
  tokens_ = opt_.send_rate_burst;
  last_refill_us_ = clock_->MonotonicMicros();
}

Api::Api(const ServerOptions& options, std::shared_ptr<InstanceDirectory> directory)
    : opt_(options), directory_(std::move(directory)), clock_(options.clock ? options.clock : Clock::Real()) {
  tokens_ = opt_.send_rate_burst;
  last_refill_us_ = clock_->MonotonicMicros();
}

void Api::SetMetricsHook(std::function<void(std::string*)> hook) {
  std::lock_guard lock(mu_);
  metrics_hook_ = std::move(hook);
}

void Api::SetReplicationStatusHook(std::function<std::string()> hook) {
  std::lock_guard lock(mu_);
  replication_status_hook_ = std::move(hook);
}

void Api::SetHealthHook(std::function<void(HealthReport*)> hook) {
  std::lock_guard lock(mu_);
  health_hook_ = std::move(hook);
}

Action Api::Handle(const Request& req) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  Action a;
  if (req.method == "OPTIONS") {  // any path, before routing and auth (CORS preflight)
    a.reply.status = 204;
    a.reply.headers.emplace_back("Access-Control-Max-Age", "86400");
    return a;
  }
  std::string_view path = req.target, query;
  if (const size_t q = path.find('?'); q != path.npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (!opt_.api_key.empty() && path != "/livez" && path != "/readyz" && path != "/healthz") {
    std::string_view auth = req.authorization;
    const bool bearer = auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ");
    if (!bearer || !SameKey(auth.substr(7), opt_.api_key)) {
      a.reply = ErrorReply(401, auth.empty() ? "unauthorized: send \"Authorization: Bearer <api key>\""
                                             : "unauthorized: wrong API key");
      a.reply.headers.emplace_back("WWW-Authenticate", "Bearer");
      counters_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      return a;
    }
  }
  if (!path.starts_with('/')) {
    a.reply = ErrorReply(404, "404 page not found");
  } else {
    // Split into raw segments; each is percent-decoded on its own, so an
    // escaped '/' stays inside its segment (Go matches on the escaped path).
    Segments raw;
    for (size_t s = 1;;) {
      const size_t e = path.find('/', s);
      raw.push_back(path.substr(s, e == path.npos ? path.npos : e - s));
      if (e == path.npos) break;
      s = e + 1;
    }
    a = directory_ ? RouteCloud(req, raw, query) : RouteBoat(req, raw, query);
  }
  if (a.kind == ActionKind::kReply && a.reply.status >= 400 && a.reply.status < 500) {
    counters_.bad_requests.fetch_add(1, std::memory_order_relaxed);
  }
  return a;
}

namespace {

enum class Allowed { kGet, kPut, kPost };

// 405 with Allow when `method` does not fit; GET routes answer HEAD too.
std::optional<Reply> CheckMethod(std::string_view m, Allowed allowed) {
  const bool ok = (allowed == Allowed::kGet && (m == "GET" || m == "HEAD")) ||
                  (allowed == Allowed::kPut && m == "PUT") || (allowed == Allowed::kPost && m == "POST");
  if (ok) return std::nullopt;
  Reply r = ErrorReply(405, "Method Not Allowed");
  r.headers.emplace_back("Allow", allowed == Allowed::kGet ? "GET, HEAD" : allowed == Allowed::kPut ? "PUT" : "POST");
  return r;
}

// The query's filters (spec/boat.md §4.1) into *spec, or the 400 into *a.
bool ParseFilters(std::string_view query, broker::FilterSpec* spec, Action* a) {
  auto params = ParseQuery(query);
  if (!params.ok()) {
    a->reply = ErrorReply(400, params.status().message());
    return false;
  }
  auto f = broker::ParseFilterParams(*params);
  if (!f.ok()) {
    a->reply = ErrorReply(400, f.status().message());
    return false;
  }
  *spec = std::move(f).value();
  return true;
}

// lplex HEAD's `?decode=true` on the event streams: Go's q.Get("decode") ==
// "true", so only the first `decode` value counts and anything but "true"
// (or a malformed query, which the filters report) leaves decoding off.
bool WantsDecode(std::string_view query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return false;
  for (const auto& [k, v] : *params) {
    if (k == "decode") return v == "true";
  }
  return false;
}

constexpr std::string_view kNoBroker = "instance not found or broker not running";

}  // namespace

Action Api::RouteBoat(const Request& req, const Segments& raw, std::string_view query) {
  Action a;
  enum Route { kHealthz, kMetrics, kLivez, kReadyz, kHistory } route = kHealthz;
  static constexpr std::pair<std::string_view, Route> kTop[] = {
      {"healthz", kHealthz}, {"metrics", kMetrics}, {"livez", kLivez}, {"readyz", kReadyz}, {"history", kHistory}};
  bool found = false;
  for (const auto& [name, r] : kTop) {
    if (raw.size() == 1 && raw[0] == name) found = true, route = r;
  }
  if (!found && raw.size() == 2 && raw[0] == "replication" && raw[1] == "status") {
    std::function<std::string()> hook;
    {
      std::lock_guard lock(mu_);
      hook = replication_status_hook_;
    }
    if (!hook) return a.reply = ErrorReply(404, "replication is not configured"), std::move(a);
    if (auto e = CheckMethod(req.method, Allowed::kGet)) return a.reply = std::move(*e), std::move(a);
    a.head = req.method == "HEAD";
    a.reply.content_type = "application/json";
    a.reply.body = hook();
    return a;
  }
  if (!found) {
    return RouteBroker(req, raw, 0, query, /*with_send=*/true, [this](bool) { return broker_; });
  }
  if (auto e = CheckMethod(req.method, Allowed::kGet)) return a.reply = std::move(*e), std::move(a);
  a.head = req.method == "HEAD";
  switch (route) {
    case kHealthz:
      a.reply = Health(false);
      return a;
    case kReadyz:
      a.reply = Health(true);
      return a;
    case kLivez:
      a.reply.content_type = "application/json";
      a.reply.body = "{\"status\":\"ok\"}\n";
      return a;
    case kMetrics:
      a.reply = Metrics();
      return a;
    case kHistory: {
      Action h = History(query);
      h.head = a.head;
      return h;
    }
  }
  return a;
}

Action Api::RouteCloud(const Request& req, const Segments& raw, std::string_view query) {
  Action a;
  enum Route { kInstances, kHealthz, kMetrics, kLivez, kReadyz, kStatus, kReplicationEvents } route = kInstances;
  static constexpr std::pair<std::string_view, Route> kTop[] = {{"instances", kInstances},
                                                                {"healthz", kHealthz},
                                                                {"metrics", kMetrics},
                                                                {"livez", kLivez},
                                                                {"readyz", kReadyz}};
  bool found = false;
  for (const auto& [name, r] : kTop) {
    if (raw.size() == 1 && raw[0] == name) found = true, route = r;
  }
  std::string id;
  if (!found && raw.size() >= 3 && raw[0] == "instances" && !raw[1].empty()) {
    auto decoded = DecodeSegment(raw[1]);
    if (!decoded || decoded->empty()) {
      a.reply = ErrorReply(404, "404 page not found");
      return a;
    }
    id = std::move(*decoded);
    if (raw.size() == 3 && raw[2] == "status") {
      found = true, route = kStatus;
    } else if (raw.size() == 4 && raw[2] == "replication" && raw[3] == "events") {
      found = true, route = kReplicationEvents;
    } else {
      // The boat's routes on this instance's broker. Streams and sessions
      // may start it; read-only requests never do (P9).
      return RouteBroker(req, raw, 2, query, /*with_send=*/false,
                         [this, &id](bool start) { return directory_->BrokerFor(id, start); });
    }
  }
  if (!found) {
    a.reply = ErrorReply(404, "404 page not found");
    return a;
  }
  if (auto e = CheckMethod(req.method, Allowed::kGet)) return a.reply = std::move(*e), std::move(a);
  a.head = req.method == "HEAD";
  switch (route) {
    case kInstances:
      a.reply = Instances();
      return a;
    case kStatus:
      a.reply = InstanceStatusReply(id);
      return a;
    case kReplicationEvents:
      a.reply = ReplicationEventsReply(id, query);
      return a;
    case kHealthz:
      a.reply = CloudHealth(false);
      return a;
    case kReadyz:
      a.reply = CloudHealth(true);
      return a;
    case kLivez:
      a.reply.content_type = "application/json";
      a.reply.body = "{\"status\":\"ok\"}\n";
      return a;
    case kMetrics:
      a.reply = Metrics();
      return a;
  }
  return a;
}

Action Api::RouteBroker(const Request& req, const Segments& raw, size_t first, std::string_view query,
                        bool with_send, const BrokerGetter& get) {
  Action a;
  const size_t n = raw.size() - first;
  auto seg = [&](size_t i) { return raw[first + i]; };
  enum Route { kEvents, kCreate, kSessionEvents, kAck, kSend, kQuery, kDevices, kValues, kDecoded } route = kEvents;
  Allowed allowed = Allowed::kGet;
  std::string client_id;
  bool found = false;
  auto one = [&](std::string_view name, Route r, Allowed m) {
    if (!found && n == 1 && seg(0) == name) found = true, route = r, allowed = m;
  };
  one("events", kEvents, Allowed::kGet);
  one("devices", kDevices, Allowed::kGet);
  one("values", kValues, Allowed::kGet);
  if (with_send) {
    one("send", kSend, Allowed::kPost);
    one("query", kQuery, Allowed::kPost);
  }
  if (!found && n == 2 && seg(0) == "values" && seg(1) == "decoded") {
    found = true, route = kDecoded, allowed = Allowed::kGet;
  }
  if (!found && (n == 2 || n == 3) && seg(0) == "clients" && !seg(1).empty()) {
    if (auto id = DecodeSegment(seg(1))) {
      client_id = std::move(*id);
      if (n == 2) {
        found = true, route = kCreate, allowed = Allowed::kPut;
      } else if (seg(2) == "events") {
        found = true, route = kSessionEvents, allowed = Allowed::kGet;
      } else if (seg(2) == "ack") {
        found = true, route = kAck, allowed = Allowed::kPut;
      }
    }
  }
  if (!found) {
    a.reply = ErrorReply(404, "404 page not found");
    return a;
  }
  if (auto e = CheckMethod(req.method, allowed)) return a.reply = std::move(*e), std::move(a);
  a.head = req.method == "HEAD";

  // Streams and sessions hold the broker while the client stays; the rest
  // only reads what it has.
  const bool start = route == kEvents || route == kCreate || route == kSessionEvents || route == kAck;
  std::shared_ptr<broker::Broker> b = get(start);
  if (!b) {
    a.reply = ErrorReply(404, kNoBroker);
    return a;
  }

  switch (route) {
    case kEvents:
      if (ParseFilters(query, &a.filter, &a)) {
        a.kind = ActionKind::kEvents;
        a.decode = WantsDecode(query);
        a.broker = std::move(b);
      }
      return a;
    case kSessionEvents: {
      auto c = b->OpenSession(client_id);
      if (!c.ok()) {
        a.reply = ErrorReply(404, "session not found, create it first with PUT /clients/{id}");
        return a;
      }
      a.kind = ActionKind::kSessionEvents;
      a.decode = WantsDecode(query);
      a.consumer = std::move(c).value();
      a.broker = std::move(b);
      return a;
    }
    case kCreate:
      a.reply = CreateSession(*b, client_id, req.body);
      return a;
    case kAck:
      a.reply = Ack(*b, client_id, req.body);
      return a;
    case kSend:
      a.reply = Send(*b, req.body);
      return a;
    case kQuery: {
      Action q = Query(*b, req.body);
      if (q.kind == ActionKind::kQuery) q.broker = std::move(b);
      return q;
    }
    case kDevices:
      a.reply.content_type = "application/json";
      a.reply.body = b->DevicesJson();
      return a;
    case kValues:
    case kDecoded: {
      broker::FilterSpec f;
      if (!ParseFilters(query, &f, &a)) return a;
      a.reply.content_type = "application/json";
      a.reply.body = route == kValues ? b->ValuesJson(f) : b->DecodedValuesJson(f);
      return a;
    }
  }
  return a;
}

Reply Api::CreateSession(broker::Broker& b, const std::string& id, std::string_view body) {
  if (!ValidClientId(id)) return ErrorReply(400, "invalid client ID (valid: 1 to 64 of A-Z a-z 0-9 _ -)");
  json j;
  if (auto e = ParseBody(body, &j)) return *e;
  int64_t timeout_us = 0;
  std::string bt;
  if (auto e = GetString(j, "buffer_timeout", &bt)) return *e;
  if (!bt.empty()) {
    auto d = ParseIso8601Duration(bt);
    if (!d.ok()) return ErrorReply(400, fmt::format("invalid buffer_timeout: {}", d.status().message()));
    timeout_us = std::min<int64_t>(d->count() * 1'000'000, opt_.max_buffer_duration_us);
  } else if (j.contains("buffer_timeout") && !j["buffer_timeout"].is_null()) {
    return ErrorReply(400, "invalid buffer_timeout: \"\" is empty (e.g. PT5M)");
  }
  broker::FilterSpec filter;
  if (auto it = j.find("filter"); it != j.end()) {
    if (auto e = ParseFilterObject(*it, &filter)) return *e;
  }
  auto [session, seq] = b.CreateSession(id, timeout_us, std::move(filter));
  Reply r;
  r.content_type = "application/json";
  r.body = "{\"client_id\":";
  broker::AppendJsonString(session.id, &r.body);
  fmt::format_to(std::back_inserter(r.body), ",\"seq\":{}", seq);
  if (session.cursor != 0) fmt::format_to(std::back_inserter(r.body), ",\"cursor\":{}", session.cursor);
  r.body += ",\"devices\":";
  r.body += b.DevicesJson();
  r.body += "}\n";
  return r;
}

Reply Api::Ack(broker::Broker& b, const std::string& id, std::string_view body) {
  json j;
  if (auto e = ParseBody(body, &j)) return *e;
  // Fixes of the reference, which takes any body: a missing "seq" would
  // silently clear the cursor, and a seq past the newest frame would leave
  // the session's stream silent until the bus reaches it. Going back is
  // allowed (a client may rewind); 0 clears the cursor (the stream then
  // starts live).
  if (auto it = j.find("seq"); it == j.end() || it->is_null()) {
    return ErrorReply(400, "invalid request body: \"seq\" is required (the last seq the client processed; 0 "
                           "clears the cursor)");
  }
  uint64_t seq;
  if (auto e = GetUint(j, "seq", UINT64_MAX, 0, &seq)) return *e;
  if (!b.GetSession(id)) return ErrorReply(404, fmt::format("session not found: {}", id));
  if (const uint64_t newest = b.CurrentSeq(); seq > newest) {
    return ErrorReply(400, fmt::format("\"seq\" {} is past the newest frame (valid: 0..{})", seq, newest));
  }
  Status s = b.AckSession(id, seq);
  if (!s.ok()) return ErrorReply(404, fmt::format("session not found: {}", id));
  Reply r;
  r.status = 204;
  return r;
}

bool Api::TakeSendToken() {
  if (opt_.send_rate_per_second <= 0) return true;
  std::lock_guard lock(mu_);
  const int64_t now = clock_->MonotonicMicros();
  tokens_ = std::min<double>(opt_.send_rate_burst,
                             tokens_ + static_cast<double>(now - last_refill_us_) * opt_.send_rate_per_second / 1e6);
  last_refill_us_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Reply* Api::CheckSend(broker::Broker& b, uint32_t pgn, uint8_t bus, uint8_t dst, Reply* storage) {
  std::optional<uint64_t> dst_name;
  if (dst != 255 && policy_.needs_name()) {
    for (const auto& d : b.Devices()) {
      if (d.bus == bus && d.device.source == dst) dst_name = d.device.name;
    }
  }
  Status s = policy_.Check(pgn, dst, dst_name);
  if (!s.ok()) {
    *storage = ErrorReply(403, s.message());
    return storage;
  }
  if (!TakeSendToken()) {
    *storage = ErrorReply(429, fmt::format("send rate limit exceeded ({}/s, burst {}): try again later",
                                           opt_.send_rate_per_second, opt_.send_rate_burst));
    return storage;
  }
  return nullptr;
}

Reply Api::Send(broker::Broker& b, std::string_view body) {
  if (opt_.read_only) return ErrorReply(403, "send is disabled: the server runs with --read-only");
  json j;
  if (auto e = ParseBody(body, &j)) return *e;
  uint64_t pgn, src, dst, prio, bus;
  if (auto e = GetUint(j, "pgn", UINT32_MAX, 0, &pgn)) return *e;
  if (auto e = GetUint(j, "src", 255, 0, &src)) return *e;
  if (auto e = GetUint(j, "dst", 255, 0, &dst)) return *e;
  if (auto e = GetUint(j, "prio", 255, 0, &prio)) return *e;
  if (auto e = GetUint(j, "bus", 255, 0, &bus)) return *e;
  std::string data;
  if (auto e = GetString(j, "data", &data)) return *e;
  Reply storage;
  if (Reply* e = CheckSend(b, static_cast<uint32_t>(pgn), static_cast<uint8_t>(bus), static_cast<uint8_t>(dst),
                           &storage)) {
    return *e;
  }
  auto bytes = hex::Decode(data);
  if (!bytes.ok()) return ErrorReply(400, fmt::format("invalid hex data: {}", bytes.status().message()));
  if (pgn > kMaxPgn) return ErrorReply(400, fmt::format("invalid pgn {} (valid: 0..{})", pgn, kMaxPgn));
  if (prio > 7) return ErrorReply(400, fmt::format("invalid prio {} (valid: 0..7)", prio));
  if (bytes->size() > kMaxPayload) {
    return ErrorReply(400, fmt::format("data too long: {} bytes (valid: 0..{})", bytes->size(), kMaxPayload));
  }
  const unsigned buses = std::max<unsigned>(1, b.options().buses);
  if (bus >= buses) return ErrorReply(400, fmt::format("invalid bus {} (valid: 0..{})", bus, buses - 1));
  broker::TxFrame f;
  f.bus = static_cast<uint8_t>(bus);
  f.header.priority = static_cast<uint8_t>(prio);
  f.header.pgn = static_cast<uint32_t>(pgn);
  f.header.source = static_cast<uint8_t>(src);
  f.header.destination = static_cast<uint8_t>(dst);
  f.data = std::move(bytes).value();
  if (!b.Send(std::move(f)).ok()) return ErrorReply(503, "tx queue full");
  Reply r;
  r.status = 202;
  return r;
}

Action Api::Query(broker::Broker& b, std::string_view body) {
  Action a;
  if (opt_.read_only) {
    a.reply = ErrorReply(403, "query is disabled: the server runs with --read-only");
    return a;
  }
  json j;
  if (auto e = ParseBody(body, &j)) {
    a.reply = *e;
    return a;
  }
  uint64_t pgn, dst;
  std::string timeout;
  if (auto e = GetUint(j, "pgn", UINT32_MAX, 0, &pgn)) return a.reply = *e, std::move(a);
  if (auto e = GetUint(j, "dst", 255, 0, &dst)) return a.reply = *e, std::move(a);
  if (auto e = GetString(j, "timeout", &timeout)) return a.reply = *e, std::move(a);
  if (pgn == 0) return a.reply = ErrorReply(400, "pgn is required"), std::move(a);
  if (pgn > kMaxPgn) {
    return a.reply = ErrorReply(400, fmt::format("invalid pgn {} (valid: 1..{})", pgn, kMaxPgn)), std::move(a);
  }
  if (dst == 0) dst = 255;  // as the reference: address 0 cannot be queried
  Reply storage;
  if (Reply* e = CheckSend(b, static_cast<uint32_t>(pgn), 0, static_cast<uint8_t>(dst), &storage)) {
    return a.reply = *e, std::move(a);
  }
  std::chrono::milliseconds t{2000};
  if (!timeout.empty()) {
    auto d = ParseIso8601Duration(timeout);
    if (!d.ok()) return a.reply = ErrorReply(400, fmt::format("invalid timeout: {}", d.status().message())), std::move(a);
    if (*d > kMaxQueryTimeout || d->count() <= 0) {
      // PT0S would answer 504 before any device could reply.
      return a.reply = ErrorReply(400, fmt::format("invalid timeout {}: valid PT1S..PT1M", QuoteLikeGo(timeout))),
             std::move(a);
    }
    t = *d;
  }
  a.kind = ActionKind::kQuery;
  a.query_pgn = static_cast<uint32_t>(pgn);
  a.query_dst = static_cast<uint8_t>(dst);
  a.query_timeout = t;
  return a;
}

bool Api::CollectHealth(HealthReport* report) {
  {
    std::lock_guard lock(mu_);
    if (health_hook_) health_hook_(report);
  }
  bool degraded = false;
  for (const auto& c : report->components) degraded = degraded || c.degraded;
  return degraded;
}

namespace {

void AppendComponents(const HealthReport& report, std::string* out) {
  if (report.components.empty()) return;
  *out += ",\"components\":{";
  for (size_t i = 0; i < report.components.size(); ++i) {
    const auto& c = report.components[i];
    if (i > 0) *out += ',';
    broker::AppendJsonString(c.name, out);
    *out += ":{\"status\":";
    broker::AppendJsonString(c.status, out);
    if (!c.message.empty()) {
      *out += ",\"message\":";
      broker::AppendJsonString(c.message, out);
    }
    *out += '}';
  }
  *out += '}';
}

}  // namespace

Reply Api::Health(bool readyz) {
  const broker::BrokerStats st = broker_->Stats();
  HealthReport report;
  if (broker_->bus_silent()) {
    report.components.push_back(
        {"can_bus", "silent", "no frames received within silence threshold", /*degraded=*/true});
  }
  const bool degraded = CollectHealth(&report);
  const bool ready = ready_.load();
  Reply r;
  r.content_type = "application/json";
  r.status = (readyz && !ready) ? 503 : 200;
  const char* status = (readyz && !ready) ? "starting" : degraded ? "degraded" : "ok";
  fmt::format_to(std::back_inserter(r.body),
                 "{{\"status\":\"{}\",\"broker\":{{\"status\":\"ok\",\"frames_total\":{},\"head_seq\":{},"
                 "\"last_frame_time\":\"{}\",\"device_count\":{},\"ring_entries\":{},\"ring_capacity\":{}}}",
                 status, st.frames_total, st.head_seq, GoTime(st.last_frame_time_us), st.device_count,
                 st.ring_entries, st.ring_capacity);
  AppendComponents(report, &r.body);
  r.body += "}\n";
  return r;
}

void Api::AppendServerMetrics(std::string* out) {
  auto& c = counters_;
  AppendPrometheusMetric(out, "lplex_http_requests_total", "counter", "HTTP requests received.", c.requests.load());
  AppendPrometheusMetric(out, "lplex_http_bad_requests_total", "counter", "Requests answered with a 4xx status.",
               c.bad_requests.load());
  AppendPrometheusMetric(out, "lplex_http_connections", "gauge", "Open HTTP connections.", c.connections.load());
  AppendPrometheusMetric(out, "lplex_http_connections_rejected_total", "counter",
               "Connections refused because max_connections was reached.", c.connections_rejected.load());
  AppendPrometheusMetric(out, "lplex_http_streams", "gauge", "Open SSE and /history streams.", c.streams.load());
  AppendPrometheusMetric(out, "lplex_http_sse_messages_total", "counter", "SSE messages written.", c.sse_messages.load());
  AppendPrometheusMetric(out, "lplex_http_stalled_clients_total", "counter",
               "Streams closed because the client stopped reading (a write made no progress within the write timeout).",
               c.stalled_clients.load());
  AppendPrometheusMetric(out, "lplex_http_sse_fallen_behind_total", "counter",
               "Session streams ended because the client fell behind what the ring and journal hold.",
               c.fallen_behind.load());
}

namespace {

std::vector<InstanceSummary> SortedById(std::vector<InstanceSummary> list) {
  std::sort(list.begin(), list.end(), [](const InstanceSummary& a, const InstanceSummary& b) { return a.id < b.id; });
  return list;
}

// lag_seqs of spec/cloud.md §2.7, clamped at 0 (P10): a cursor ahead of the
// last reported boat head (the boat reports its head every 5 s) is no lag.
uint64_t LagSeqs(uint64_t boat_head_seq, uint64_t cursor) {
  return boat_head_seq > cursor ? boat_head_seq - cursor : 0;
}

// A Prometheus label value: backslash, double quote and newline escaped.
void AppendLabelValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      out->push_back(c);
    }
  }
}

// One gauge with a line per instance: HELP and TYPE once, then
// name{instance="<id>"} value.
template <typename F>
void AppendInstanceGauge(std::string* out, std::string_view name, std::string_view help,
                         const std::vector<InstanceSummary>& list, F value) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  for (const auto& s : list) {
    *out += name;
    *out += "{instance=\"";
    AppendLabelValue(s.id, out);
    fmt::format_to(std::back_inserter(*out), "\"}} {}\n", value(s));
  }
}

}  // namespace

Reply Api::Metrics() {
  Reply r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (directory_) {
    const FleetCounts counts = directory_->Counts();
    AppendPrometheusMetric(&r.body, "lplex_cloud_instances_total", "gauge", "Registered instances.",
                           static_cast<uint64_t>(counts.total));
    AppendPrometheusMetric(&r.body, "lplex_cloud_instances_connected", "gauge",
                           "Instances whose boat is streaming now.", static_cast<uint64_t>(counts.connected));
    const std::vector<InstanceSummary> list = SortedById(directory_->List());
    AppendInstanceGauge(&r.body, "lplex_cloud_instance_connected", "1 while the instance's boat is streaming.", list,
                        [](const InstanceSummary& s) { return s.connected ? 1 : 0; });
    AppendInstanceGauge(&r.body, "lplex_cloud_instance_lag_seqs",
                        "Seqs the cloud is behind the boat's last reported head (0 when ahead).", list,
                        [](const InstanceSummary& s) { return LagSeqs(s.boat_head_seq, s.cursor); });
    AppendInstanceGauge(&r.body, "lplex_cloud_instance_cursor", "The instance's replication cursor.", list,
                        [](const InstanceSummary& s) { return s.cursor; });
    AppendInstanceGauge(&r.body, "lplex_cloud_instance_holes", "Seq ranges the cloud is still missing.", list,
                        [](const InstanceSummary& s) { return s.holes; });
  } else {
    broker_->AppendMetrics(&r.body);
  }
  AppendServerMetrics(&r.body);
  std::lock_guard lock(mu_);
  if (metrics_hook_) metrics_hook_(&r.body);
  return r;
}

// ---- the cloud's endpoints (spec/cloud.md §2.7) -----------------------------

Reply Api::Instances() {
  const std::vector<InstanceSummary> list = SortedById(directory_->List());
  Reply r;
  r.content_type = "application/json";
  if (list.empty()) {
    r.body = "{\"instances\":null}\n";  // the reference's nil slice (P10: kept)
    return r;
  }
  r.body = "{\"instances\":[";
  for (size_t i = 0; i < list.size(); ++i) {
    const InstanceSummary& s = list[i];
    if (i > 0) r.body += ',';
    r.body += "{\"id\":";
    broker::AppendJsonString(s.id, &r.body);
    fmt::format_to(std::back_inserter(r.body),
                   ",\"connected\":{},\"cursor\":{},\"boat_head_seq\":{},\"holes\":{},\"lag_seqs\":{},"
                   "\"last_seen\":\"{}\"}}",
                   s.connected, s.cursor, s.boat_head_seq, s.holes, LagSeqs(s.boat_head_seq, s.cursor),
                   GoTime(s.last_seen_us.value_or(0)));
  }
  r.body += "]}\n";
  return r;
}

Reply Api::InstanceStatusReply(const std::string& id) {
  const std::optional<InstanceStatus> st = directory_->Find(id);
  if (!st) return ErrorReply(404, "instance not found");
  Reply r;
  r.content_type = "application/json";
  r.body = "{\"id\":";
  broker::AppendJsonString(st->id, &r.body);
  fmt::format_to(std::back_inserter(r.body), ",\"connected\":{},\"cursor\":{},\"boat_head_seq\":{},\"boat_journal_bytes\":{}",
                 st->connected, st->cursor, st->boat_head_seq, st->boat_journal_bytes);
  if (!st->holes.empty()) {  // omitempty, with Go's field names (no JSON tags)
    r.body += ",\"holes\":[";
    for (size_t i = 0; i < st->holes.size(); ++i) {
      if (i > 0) r.body += ',';
      fmt::format_to(std::back_inserter(r.body), "{{\"Start\":{},\"End\":{}}}", st->holes[i].start,
                     st->holes[i].end);
    }
    r.body += ']';
  }
  fmt::format_to(std::back_inserter(r.body), ",\"lag_seqs\":{},\"last_seen\":\"{}\"}}\n",
                 LagSeqs(st->boat_head_seq, st->cursor), GoTime(st->last_seen_us.value_or(0)));
  return r;
}

namespace {

constexpr size_t kDefaultEventLimit = 100;
constexpr size_t kMaxEventLimit = 1024;  // the event log's ring

// ?limit=N of /instances/{id}/replication/events: default 100; anything
// that is not a positive decimal number (a bad query included) is 100; above
// 1024 (however many digits) is 1024.
size_t EventLimit(std::string_view query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return kDefaultEventLimit;
  for (const auto& [k, v] : *params) {
    if (k != "limit") continue;
    std::string_view digits = v;
    if (digits.starts_with('+')) digits.remove_prefix(1);  // Go's Atoi takes a sign
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return kDefaultEventLimit;
    }
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (digits.size() > 4) return kMaxEventLimit;
    size_t n = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (n == 0) return kDefaultEventLimit;
    return std::min(n, kMaxEventLimit);
  }
  return kDefaultEventLimit;
}

}  // namespace

Reply Api::ReplicationEventsReply(const std::string& id, std::string_view query) {
  const size_t limit = EventLimit(query);
  auto events = directory_->ReplicationEvents(id, limit);
  if (!events) return ErrorReply(404, "instance not found");
  Reply r;
  r.content_type = "application/json";
  if (events->empty()) {
    r.body = "null\n";  // the reference's nil slice
    return r;
  }
  r.body = "[";
  const size_t n = std::min(events->size(), limit);  // whatever the directory returned
  for (size_t i = 0; i < n; ++i) {
    const ReplicationEvent& e = (*events)[i];
    if (i > 0) r.body += ',';
    r.body += "{\"time\":\"";
    r.body += timefmt::Rfc3339Nano(e.time_us);
    r.body += "\",\"type\":";
    broker::AppendJsonString(e.type, &r.body);
    if (!e.detail_json.empty() && e.detail_json != "{}") {
      r.body += ",\"detail\":";
      r.body += e.detail_json;
    }
    r.body += '}';
  }
  r.body += "]\n";
  return r;
}

Reply Api::CloudHealth(bool readyz) {
  const FleetCounts counts = directory_->Counts();
  HealthReport report;
  const bool degraded = CollectHealth(&report);
  const bool ready = ready_.load();
  Reply r;
  r.content_type = "application/json";
  r.status = (readyz && !ready) ? 503 : 200;
  const char* status = (readyz && !ready) ? "starting" : degraded ? "degraded" : "ok";
  fmt::format_to(std::back_inserter(r.body), "{{\"status\":\"{}\",\"instances_total\":{},\"instances_connected\":{}",
                 status, counts.total, counts.connected);
  AppendComponents(report, &r.body);
  r.body += "}\n";
  return r;
}

Action Api::History(std::string_view query) {
  Action a;
  if (opt_.journal_dir.empty()) {
    a.reply = ErrorReply(404, "no journal configured");
    return a;
  }
  auto params = ParseQuery(query);
  if (!params.ok()) return a.reply = ErrorReply(400, params.status().message()), std::move(a);
  auto q = ParseHistoryQuery(*params);
  if (!q.ok()) return a.reply = ErrorReply(400, q.status().message()), std::move(a);
  auto h = HistoryStream::Open(opt_.journal_dir, std::move(q).value());
  if (!h.ok()) return a.reply = ErrorReply(500, fmt::format("cannot read the journal: {}", h.status().message())), std::move(a);
  a.kind = ActionKind::kHistory;
  a.history = std::move(h).value();
  return a;
}

}  // namespace lplex::http::internal
