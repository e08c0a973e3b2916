// A small blocking HTTP/1.1 client for the boat API (spec/boat.md §2): JSON
// requests and Server-Sent Event streams, with timeouts and cancellation, so
// that `lplex tail` can stop promptly on Ctrl-C however quiet the stream is.
//
// Plain http:// only (https is not supported yet). One connection per
// request (Connection: close): the CLI makes a request every few seconds at
// most, so keeping connections alive would buy nothing.
//
// This header is free of Boost: the HTTP parsing (Beast) lives in
// http_client.cc, so users of this file compile fast.
//
// Threading: an HttpClient may be used from several threads at once (each
// call has its own connection). An EventStream is read by one thread; its
// Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lplex::client {

// A server address as the user typed it, taken apart.
struct ServerUrl {
  std::string host;       // "127.0.0.1", "inuc1.local", "::1" (no brackets)
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" (no trailing '/'); prepended to every request path
  // "http://host:port/prefix", as given minus any trailing '/'.
  std::string text;
};

// Parses "http://HOST[:PORT][/PREFIX]" (IPv6 hosts in brackets). Errors
// (InvalidArgument) quote the text and say what is valid, e.g.
//   "ftp://x" has an unsupported scheme (valid: http://HOST[:PORT])
//   "https://x": https is not supported yet (use http://)
//   "http://x:99999" has a bad port (valid: 1..65535)
Result<ServerUrl> ParseServerUrl(std::string_view text);

struct ClientOptions {
  // Giving up on name resolution plus the TCP connect.
  std::chrono::milliseconds connect_timeout{5000};
  // A whole non-streaming request (send, headers, body).
  std::chrono::milliseconds request_timeout{10000};
  // Largest response body of a non-streaming request (a /values reply of a
  // big bus is a few MB).
  size_t max_body_bytes = 64 * 1024 * 1024;
  // When set and true, every blocked call returns Status IOError
  // "cancelled" within about 100 ms. Meant for a flag a signal handler sets.
  const std::atomic<bool>* cancel = nullptr;
};

struct Response {
  int status = 0;
  std::string content_type;
  std::string body;  // de-chunked
};

// One message of an SSE stream: the JSON after "data: ".
struct StreamEvent {
  enum class Kind { kFrame, kDevice };
  Kind kind = Kind::kFrame;
  std::string json;
};

// True when `status` is the "cancelled" error of ClientOptions::cancel or
// EventStream::Stop.
bool IsCancelled(const Status& status);

// A live SSE response. Lines other than "data: <json object>" are skipped
// (the boat sends no others), and so are malformed ones; a JSON object with
// a top-level "type" key is a device event, anything else a frame
// (spec/boat.md §5.7).
class EventStream {
 public:
  // Longest SSE line accepted; a longer one ends the stream with Corruption
  // (the reference's scanner fails the same way at 64 KiB).
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  virtual ~EventStream() = default;

  // The next event; nullopt when `wait` passed with none (the stream is
  // still open: call again). Errors: IOError "stream closed by server" when
  // the server ended the response; IOError "cancelled" after Stop() or the
  // client's cancel flag; IOError for a broken connection; Corruption for a
  // line over kMaxLineBytes or an unparsable HTTP body.
  virtual Result<std::optional<StreamEvent>> Next(std::chrono::milliseconds wait) = 0;

  // Makes a blocked or later Next return "cancelled" within about 100 ms.
  // Any thread; idempotent.
  virtual void Stop() = 0;
};

class HttpClient {
 public:
  explicit HttpClient(ServerUrl url, ClientOptions options = {});

  const ServerUrl& url() const { return url_; }

  // GET base_path + `target` ("/devices", "/values?pgn=1"). Any HTTP status
  // is a successful Result; IOError when the server cannot be reached or
  // does not answer within request_timeout ("GET http://h:p/devices: ...").
  Result<Response> Get(std::string_view target) const;

  // PUT with a JSON body (Content-Type: application/json). As Get.
  Result<Response> Put(std::string_view target, std::string_view json_body) const;

  // GET `target` with Accept: text/event-stream and keeps the connection
  // open. A status other than 200 is an error naming the status and the
  // server's message: NotFound for 404, InvalidArgument for 400, IOError
  // otherwise. The headers must arrive within request_timeout; after that
  // the stream has no timeout (the boat sends no heartbeats).
  Result<std::unique_ptr<EventStream>> OpenStream(std::string_view target) const;

 private:
  ServerUrl url_;
  ClientOptions options_;
};

}  // namespace lplex::client
