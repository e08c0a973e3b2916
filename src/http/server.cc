// The networking of the HTTP API: the one translation unit that includes
// Beast and Asio (they cost ~15 s of compile time per unit; docs/http.md).
//
// Model: one io_context, `io_threads` threads; each connection lives on its
// own strand. A connection reads a request (bounded size and time), asks
// internal::Api for an Action, and then either writes a reply (keep-alive
// goes on reading) or runs a stream until it ends:
//  - /events: a broker Subscriber whose on_ready posts Pump() to the strand;
//    Pump pops what is queued (about kBatchBytes at most) into one chunk and
//    writes it. Writes are coalesced: at most one per kCoalesce slot of
//    steady_clock, one slot grid for every connection. The first frame in a
//    slot goes out at once; a wake-up later in the slot of the last write
//    pops nothing and arms the slot's timer: frames wait in the broker's
//    queue (sized for half a second of a full bus), which, being non-empty,
//    posts no further wake-up. So a client at a full bus costs ~250 writes a
//    second and no per-frame work on the io thread, a quiet one no timer,
//    and a frame waits at most kCoalesce.
//    A write is first tried without blocking (most fit the socket buffer);
//    only the rest goes through an asynchronous write, during which nothing
//    is popped: a client that does not read leaves messages in the broker's
//    bounded queue, where they are dropped and counted
//    (lplex_subscriber_dropped_messages_total), and a write that makes no
//    progress for write_timeout closes the connection
//    (lplex_http_stalled_clients_total).
//  - /clients/{id}/events: a Consumer, pulled without waiting; a wake-only
//    Subscriber (it keeps no messages) tells it that there are new frames. A stalled client simply stops pulling: its cursor stays,
//    nothing is buffered for it.
//  - /history: the HistoryStream, one chunk per write.
//  - /query: a Subscriber on the PGN, a timer for the 504.
// Per connection, memory is bounded by one batch plus the broker's queue.
#include "http/server.h"

#include <array>
#include <atomic>
#include <optional>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "broker/broker.h"
#include "broker/decoded_json.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "http/api.h"

namespace lplex::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using internal::Action;
using internal::ActionKind;
using internal::Reply;

constexpr size_t kBatchBytes = 64 * 1024;  // one write of a stream at most (about)
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kPopChunk = 64;  // messages taken from a subscriber per lock
// An event stream writes at most once per slot of this length (see the top).
// Adds at most this to the delivery latency of a frame.
constexpr std::chrono::microseconds kCoalesce{4000};

void AddCors(bhttp::fields* f) {
  f->set("Access-Control-Allow-Origin", "*");
  f->set("Access-Control-Allow-Methods", "GET, PUT, POST, PATCH, DELETE, OPTIONS");
  f->set("Access-Control-Allow-Headers", "*");
  f->set("Access-Control-Expose-Headers", "*");
}

}  // namespace

class Connection;

class Server::Impl {
 public:
  Impl(ServerOptions opt, std::shared_ptr<broker::Broker> broker, SendPolicy policy)
      : opt_(std::move(opt)),
        api_(opt_, std::move(broker), std::move(policy)),
        log_(opt_.log ? opt_.log : Logger::Discard()),
        acceptor_(ioc_) {}
  Impl(ServerOptions opt, std::shared_ptr<InstanceDirectory> directory)
      : opt_(std::move(opt)),
        api_(opt_, std::move(directory)),
        log_(opt_.log ? opt_.log : Logger::Discard()),
        acceptor_(ioc_) {}

  Status Start();
  void Stop(std::chrono::milliseconds grace);
  void Accept();

  void Register(Connection* c, std::weak_ptr<Connection> w) {
    std::lock_guard lock(conns_mu_);
    conns_.emplace(c, std::move(w));
  }
  void Unregister(Connection* c) {
    std::lock_guard lock(conns_mu_);
    conns_.erase(c);
  }
  std::vector<std::shared_ptr<Connection>> Live() {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard lock(conns_mu_);
    for (auto& [p, w] : conns_) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }
  size_t LiveCount() {
    std::lock_guard lock(conns_mu_);
    return conns_.size();
  }

  // Declaration order matters: the io_context (and with it every pending
  // handler that may hold a Connection) is destroyed first, while the
  // registry and the counters the Connection destructor touches still exist.
  const ServerOptions opt_;
  internal::Api api_;  // owns the broker (boat) or the instance directory (cloud)
  Logger* const log_;
  std::mutex conns_mu_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> conns_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint16_t> port_{0};
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl* srv, tcp::socket socket) : srv_(srv), stream_(std::move(socket)) {
    srv_->api_.counters().connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Connection() {
    ReleaseBrokerHandles();
    if (streaming_) srv_->api_.counters().streams.fetch_sub(1, std::memory_order_relaxed);
    srv_->api_.counters().connections.fetch_sub(1, std::memory_order_relaxed);
    srv_->Unregister(this);
  }

  void Begin() {
    srv_->Register(this, weak_from_this());
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    ReadRequest();
  }

  // Over max_connections: one 503 and close, without reading.
  void Reject() {
    srv_->Register(this, weak_from_this());
    srv_->api_.counters().connections_rejected.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = false;
    WriteReply(internal::ErrorReply(503, "too many connections"), false, 11);
  }

  // From Stop(): end streams (with their terminating chunk), cancel reads.
  void Shutdown() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->keep_alive_ = false;
      if (self->mode_ == Mode::kRead) {
        self->stream_.cancel();
      } else if (self->mode_ == Mode::kStream) {
        self->ending_ = true;
        self->ReleaseBrokerHandles();
        self->Pump();
      } else if (self->mode_ == Mode::kQuery) {
        self->timer_.cancel();
      }
    });
  }

  // Unsubscribes and closes consumers; safe once no io thread runs.
  void ReleaseBrokerHandles() {
    sub_.reset();
    wake_.reset();
    if (consumer_) consumer_->Close();
    consumer_.reset();
    decode_broker_.reset();
  }

  void ForceClose() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Mode { kRead, kReply, kStream, kQuery };

  std::function<void()> WakeCallback() {
    // Runs on the broker's thread, under its lock: only post, never touch the
    // connection (it may be going away) or the broker.
    return [ex = stream_.get_executor(), w = weak_from_this()] {
      asio::post(ex, [w] {
        if (auto c = w.lock()) c->OnWake();
      });
    };
  }

  void ReadRequest() {
    mode_ = Mode::kRead;
    if (srv_->stopping_.load()) return Close();
    parser_.emplace();
    parser_->body_limit(srv_->opt_.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(srv_->opt_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return WriteReply(internal::ErrorReply(413, fmt::format("request body too large (limit {} bytes)",
                                                              srv_->opt_.max_body_bytes)),
                        false, 11);
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return WriteReply(
          internal::ErrorReply(431, fmt::format("request header too large (limit {} bytes)", kHeaderLimit)), false,
          11);
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return Close();
    }
    if (ec) {
      // A malformed request: say what, then close (the stream cannot be resynchronized).
      keep_alive_ = false;
      return WriteReply(internal::ErrorReply(400, fmt::format("malformed HTTP request: {}", ec.message())), false, 11);
    }
    auto req = parser_->release();
    parser_.reset();
    keep_alive_ = req.keep_alive() && !srv_->stopping_.load();
    version_ = req.version();
    internal::Request r;
    const auto method = req.method_string();
    r.method = std::string_view(method.data(), method.size());
    const auto target = req.target();
    r.target = std::string_view(target.data(), target.size());
    if (auto it = req.find(bhttp::field::authorization); it != req.end()) {
      r.authorization = std::string_view(it->value().data(), it->value().size());
    }
    r.body = req.body();
    Action a = srv_->api_.Handle(r);
    head_ = a.head;
    switch (a.kind) {
      case ActionKind::kReply:
        return WriteReply(std::move(a.reply), a.head, version_);
      case ActionKind::kEvents:
      case ActionKind::kSessionEvents:
      case ActionKind::kHistory:
        return StartStream(std::move(a));
      case ActionKind::kQuery:
        return StartQuery(a);
    }
  }

  void WriteReply(Reply reply, bool head, unsigned version) {
    mode_ = Mode::kReply;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(reply.status),
                                                                     version);
    AddCors(&res->base());
    for (auto& [k, v] : reply.headers) res->set(k, v);
    if (!reply.content_type.empty()) res->set(bhttp::field::content_type, reply.content_type);
    res->keep_alive(keep_alive_);
    const size_t n = reply.body.size();
    if (reply.status == 204 || reply.status == 304) {
      // no body, no Content-Length
    } else if (head) {
      res->content_length(n);  // what GET would send; no body
    } else {
      res->body() = std::move(reply.body);
      res->prepare_payload();
    }
    stream_.expires_after(srv_->opt_.write_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->ReadRequest();
    });
  }

  // ---- streams -------------------------------------------------------------

  void StartStream(Action a) {
    mode_ = Mode::kStream;
    chunked_ = version_ >= 11;
    keep_alive_ = false;  // a stream ends the connection
    streaming_ = true;
    srv_->api_.counters().streams.fetch_add(1, std::memory_order_relaxed);
    stream_res_ = std::make_unique<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, version_);
    auto& res = *stream_res_;
    AddCors(&res.base());
    if (a.kind == ActionKind::kHistory) {
      res.set(bhttp::field::content_type, "application/json");
      history_ = std::move(a.history);
    } else {
      res.set(bhttp::field::content_type, "text/event-stream");
      res.set(bhttp::field::cache_control, "no-cache");
      res.set(bhttp::field::connection, "keep-alive");
      res.set("X-Accel-Buffering", "no");
    }
    if (chunked_) res.chunked(true);
    if (!head_) {
      // Subscribe before the headers go out, so nothing published after the
      // client saw them is missed.
      // a.broker: the boat's, or the instance's on the cloud. Subscribers
      // and consumers keep it alive; its Shutdown (the cloud stopping an
      // idle instance) ends the stream.
      if (a.kind == ActionKind::kEvents) {
        // ?decode=true: the broker decodes each frame once for all such
        // subscribers and pushes the decoded JSON.
        sub_ = a.broker->Subscribe(std::move(a.filter), WakeCallback(), a.decode);
      } else if (a.kind == ActionKind::kSessionEvents) {
        consumer_ = std::move(a.consumer);
        if (a.decode) {
          // A session reads the ring and the journal by its own cursor, so
          // it decodes its own frames (only those its filter passes).
          session_decoder_ = std::make_unique<broker::FrameDecoder>();
          decode_broker_ = a.broker;
        }
        wake_ = a.broker->Subscribe({}, WakeCallback());
        wake_->SetWakeOnly();
      }
    }
    serializer_ = std::make_unique<bhttp::response_serializer<bhttp::empty_body>>(res);
    writing_ = true;
    stream_.expires_after(srv_->opt_.write_timeout);
    bhttp::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->Close();
      if (self->head_) return self->Close();  // a HEAD response has no body, not even a last chunk
      beast::error_code nb;
      self->stream_.socket().non_blocking(true, nb);  // for Pump's first, synchronous try
      if (nb) return self->Close();
      self->WatchForClose();
      self->Pump();
    });
  }

  // A stream never reads, so a client that went away would only be noticed
  // at the next write (never, on a quiet filter). A read on the raw socket
  // (no tcp_stream timeout) notices the close; stray bytes are ignored.
  void WatchForClose() {
    stream_.socket().async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->WatchForClose();
    });
  }

  void OnWake() {
    if (mode_ == Mode::kQuery) return PumpQuery();
    Pump();
  }

  // The session stream's wake-up subscriber (wake-only): an empty pop
  // re-arms it; the consumer has the frames.
  void DrainWake() {
    broker::JsonRef discard;
    while (wake_->TryPop(&discard)) {
    }
  }

  // Fills one chunk from the stream's source and writes it (strand only).
  void Pump() {
    if (mode_ != Mode::kStream || closed_) return;
    if (writing_) return;
    if (!ending_ && !history_ && !last_write_full_ && InSlotOfLastWrite()) {
      // Event streams: at most one write per kCoalesce slot (unless the last
      // write was a full batch: a client catching up gets the next at once).
      // Until the next slot starts the messages stay in the broker's queue
      // (sized for far more than one slot of a full bus); as it stays
      // non-empty, the broker posts no further wake-up: the slot's timer
      // pops them all.
      Park();
      return;
    }
    if (wake_) DrainWake();  // re-arms the session's wake-up
    if (!ending_) {
      if (sub_) {
        uint64_t n = 0;
        while (body_.size() < kBatchBytes) {
          popped_.clear();
          if (sub_->TryPopMany(&popped_, kPopChunk) == 0) break;
          for (const broker::JsonRef& m : popped_) AppendEvent(m.view());
          n += popped_.size();
        }
        popped_.clear();
        srv_->api_.counters().sse_messages.fetch_add(n, std::memory_order_relaxed);
        if (n == 0 && sub_->closed()) ending_ = true;  // broker shut down
      } else if (consumer_) {
        broker::ConsumerItem item;
        uint64_t n = 0;
        while (body_.size() < kBatchBytes) {
          const broker::NextResult r = consumer_->Next(&item, std::chrono::milliseconds(0));
          if (r == broker::NextResult::kFrame) {
            if (session_decoder_) {
              AppendDecodedEvent(item);
            } else {
              AppendEvent(item.json.view());
            }
            ++n;
            continue;
          }
          if (r == broker::NextResult::kFallenBehind) {
            srv_->api_.counters().fallen_behind.fetch_add(1, std::memory_order_relaxed);
            srv_->log_->Info("http: session stream ended: {}", consumer_->error().message());
            ending_ = true;
          } else if (r == broker::NextResult::kClosed) {
            ending_ = true;
          }
          break;
        }
        srv_->api_.counters().sse_messages.fetch_add(n, std::memory_order_relaxed);
      } else if (history_) {
        if (!history_->Next(&body_, kBatchBytes)) ending_ = true;
      } else {
        ending_ = true;  // HEAD
      }
    }
    if (body_.empty() && !ending_) return;  // wait for the next wake-up
    // Frame the chunk (and the last chunk when ending).
    const size_t body_size = body_.size();
    out_.clear();
    if (chunked_) {
      if (!body_.empty()) {
        fmt::format_to(std::back_inserter(out_), "{:x}\r\n", body_.size());
        out_ += body_;
        out_ += "\r\n";
      }
      if (ending_) out_ += "0\r\n\r\n";
    } else {
      out_.swap(body_);
    }
    body_.clear();
    if (out_.empty()) return Close();
    last_write_ = std::chrono::steady_clock::now();
    last_write_full_ = body_size >= kBatchBytes;
    const bool last = ending_;
    // Most writes fit the socket's send buffer: try a non-blocking send
    // first, which needs no asynchronous operation, completion handler or
    // timeout timer (at 1,000 streams those cost more than the send).
    beast::error_code ec;
    size_t sent = 0;
    if (!last) {
      sent = stream_.socket().write_some(asio::buffer(out_), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        sent = 0;
      }
      if (ec) return Close();
      if (sent == out_.size()) {
        if (last_write_full_ || history_) {
          // A client catching up (or /history, which nothing else wakes):
          // the next batch at once, from the strand's queue (not
          // recursively: a long catch-up would grow the stack).
          asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Pump(); });
        }
        // Otherwise everything queued was popped: the next frame's wake-up
        // calls Pump, which writes at once or waits for the next slot.
        return;
      }
    }
    // The rest waits for the socket, bounded by write_timeout.
    writing_ = true;
    stream_.expires_after(srv_->opt_.write_timeout);
    asio::async_write(stream_, asio::buffer(out_.data() + sent, out_.size() - sent),
                      [self = shared_from_this(), last](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) {
        if (ec == beast::error::timeout) {
          self->srv_->api_.counters().stalled_clients.fetch_add(1, std::memory_order_relaxed);
          self->srv_->log_->Info("http: closed a stream whose client stopped reading");
        }
        return self->Close();
      }
      if (last) return self->Close();
      self->Pump();
    });
  }

  // The slots are one grid for all connections (kCoalesce slots of
  // steady_clock), so the streams' flush timers expire together: one
  // io-thread wake-up per slot for all of them, not one per stream.
  static int64_t SlotOf(std::chrono::steady_clock::time_point t) { return t.time_since_epoch() / kCoalesce; }
  bool InSlotOfLastWrite() const { return SlotOf(std::chrono::steady_clock::now()) == SlotOf(last_write_); }

  // Waits for the next slot without popping (see Pump).
  void Park() {
    if (flush_armed_) return;
    flush_armed_ = true;
    const int64_t next = SlotOf(std::chrono::steady_clock::now()) + 1;
    flush_timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(kCoalesce * next)));
    flush_timer_.async_wait([self = shared_from_this()](beast::error_code) {
      self->flush_armed_ = false;
      self->Pump();
    });
  }

  void AppendEvent(std::string_view json) {
    body_ += "data: ";
    body_ += json;
    body_ += "\n\n";
  }

  // A session frame with its "decoded" key (?decode=true). The payload is
  // read back from the frame's JSON (the ring keeps no copy); the sender's
  // claim is looked up only for proprietary PGNs.
  void AppendDecodedEvent(const broker::ConsumerItem& item) {
    const std::string_view json = item.json.view();
    body_ += "data: ";
    if (broker::FramePayload(json, &payload_)) {
      std::optional<uint16_t> manufacturer;
      if (pgn::IsProprietary(item.header.pgn)) {
        manufacturer = decode_broker_->ClaimedManufacturer(item.bus, item.header.source);
      }
      session_decoder_->Append(json, item.bus, item.header, payload_, manufacturer, &body_);
    } else {
      body_ += json;
    }
    body_ += "\n\n";
  }

  // ---- /query --------------------------------------------------------------

  void StartQuery(const Action& a) {
    mode_ = Mode::kQuery;
    broker::FilterSpec f;
    f.pgn.push_back(a.query_pgn);
    sub_ = a.broker->Subscribe(std::move(f), WakeCallback());
    if (!a.broker->SendIsoRequest(0, a.query_pgn, a.query_dst).ok()) {
      sub_.reset();
      return WriteReply(internal::ErrorReply(503, "tx queue full"), false, version_);
    }
    timer_.expires_after(a.query_timeout);
    timer_.async_wait([self = shared_from_this(), gen = ++query_gen_](beast::error_code) {
      if (self->mode_ != Mode::kQuery || gen != self->query_gen_) return;
      self->sub_.reset();
      self->WriteReply(internal::ErrorReply(504, "timeout waiting for response"), false, self->version_);
    });
    PumpQuery();
  }

  void PumpQuery() {
    if (mode_ != Mode::kQuery || !sub_) return;
    broker::JsonRef m;
    while (sub_->TryPop(&m)) {
      // Device events ignore filters; the answer is a frame (no "type" key).
      if (m.view().starts_with("{\"type\"")) continue;
      Reply r;
      r.content_type = "application/json";
      r.body.assign(m.view());
      sub_.reset();
      timer_.cancel();
      mode_ = Mode::kReply;  // before the timer's handler runs
      return WriteReply(std::move(r), false, version_);
    }
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    ReleaseBrokerHandles();
    timer_.cancel();
    flush_timer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  Server::Impl* const srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer timer_{stream_.get_executor()};
  asio::steady_timer flush_timer_{stream_.get_executor()};  // a coalesced stream's next write
  std::chrono::steady_clock::time_point last_write_{};
  bool last_write_full_ = false;
  std::vector<broker::JsonRef> popped_;  // reused by Pump
  bool flush_armed_ = false;
  Mode mode_ = Mode::kRead;
  uint64_t query_gen_ = 0;
  std::array<char, 256> scratch_{};
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool chunked_ = true;
  bool streaming_ = false;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  std::unique_ptr<broker::Subscriber> sub_;
  std::unique_ptr<broker::Subscriber> wake_;
  std::unique_ptr<broker::Consumer> consumer_;
  std::unique_ptr<broker::FrameDecoder> session_decoder_;  // ?decode=true on a session stream
  std::shared_ptr<broker::Broker> decode_broker_;          // its device claims
  std::vector<uint8_t> payload_;                           // reused by AppendDecodedEvent
  std::unique_ptr<HistoryStream> history_;
  std::unique_ptr<bhttp::response<bhttp::empty_body>> stream_res_;
  std::unique_ptr<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  std::string body_;
  std::string out_;
};

Status Server::Impl::Start() {
  if (started_) return Status::InvalidArgument("server already started");
  beast::error_code ec;
  const auto addr = asio::ip::make_address(opt_.bind_address, ec);
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("invalid bind address \"{}\": {} (e.g. 0.0.0.0 or ::)", opt_.bind_address, ec.message()));
  }
  const std::string where = fmt::format("{}:{}", opt_.bind_address, opt_.port);
  const tcp::endpoint ep(addr, opt_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return Status::IOError(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  port_.store(acceptor_.local_endpoint().port());
  started_ = true;
  work_.emplace(ioc_.get_executor());
  Accept();
  const int n = std::max(1, opt_.io_threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] {
    SetCurrentThreadName("lplex-http");
    ioc_.run();
  });
  log_->Info("http: listening on {}:{}", opt_.bind_address, port_.load());
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      const bool over = LiveCount() >= opt_.max_connections;
      auto c = std::make_shared<Connection>(this, std::move(socket));
      if (over) {
        c->Reject();
      } else {
        c->Begin();
      }
    } else if (ec == asio::error::no_descriptors) {
      log_->Warn("http: accept failed: {}", ec.message());
    }
    Accept();
  });
}

void Server::Impl::Stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& c : Live()) c->Shutdown();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (LiveCount() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever is left (a client that does not read its last chunk) is cut.
  for (auto& c : Live()) c->ForceClose();
  work_.reset();
  const auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (LiveCount() > 0 && std::chrono::steady_clock::now() < hard) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // No io thread runs now: give the broker back its subscribers, so it never
  // posts to an io_context being destroyed.
  for (auto& c : Live()) c->ReleaseBrokerHandles();
  log_->Info("http: stopped");
}

namespace {

Status CheckOptions(const ServerOptions& options) {
  if (options.io_threads < 1 || options.io_threads > 64) {
    return Status::InvalidArgument(fmt::format("io_threads {} out of range (valid: 1..64)", options.io_threads));
  }
  if (options.max_body_bytes == 0) return Status::InvalidArgument("max_body_bytes 0 out of range (valid: >= 1)");
  if (options.max_connections == 0) return Status::InvalidArgument("max_connections 0 out of range (valid: >= 1)");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::CreateCloud(ServerOptions options,
                                                    std::shared_ptr<InstanceDirectory> directory) {
  if (!directory) return Status::InvalidArgument("http server needs an instance directory");
  if (Status s = CheckOptions(options); !s.ok()) return s;
  // The boat-only options have no effect here; refusing them would make one
  // config file unusable for both apps, so they are ignored (docs/http.md).
  auto impl = std::make_unique<Impl>(std::move(options), std::move(directory));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, std::shared_ptr<broker::Broker> broker) {
  if (!broker) return Status::InvalidArgument("http server needs a broker");
  if (Status s = CheckOptions(options); !s.ok()) return s;
  auto rules = ParseSendRules(options.send_rules);
  if (!rules.ok()) return Status::InvalidArgument(fmt::format("send rules: {}", rules.status().message()));
  SendPolicy policy(options.send_enabled, std::move(rules).value());
  auto impl = std::make_unique<Impl>(std::move(options), std::move(broker), std::move(policy));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(std::chrono::seconds(1)); }
Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port_.load(); }
uint64_t Server::open_streams() const { return impl_->api_.counters().streams.load(std::memory_order_relaxed); }
void Server::SetReady(bool ready) { impl_->api_.SetReady(ready); }
void Server::SetMetricsHook(std::function<void(std::string*)> hook) { impl_->api_.SetMetricsHook(std::move(hook)); }
void Server::SetHealthHook(std::function<void(HealthReport*)> hook) { impl_->api_.SetHealthHook(std::move(hook)); }
void Server::SetReplicationStatusHook(std::function<std::string()> hook) {
  impl_->api_.SetReplicationStatusHook(std::move(hook));
}
void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }

}  // namespace lplex::http
