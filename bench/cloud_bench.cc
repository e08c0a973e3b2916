// cloud_bench: the real lplex-cloud binary, measured from outside (issue 8,
// acceptance point 5).
//
//   cloud_bench [--cloud PATH] [--boats B] [--fps F] [--warmup W] [--seconds S]
//               [--ring-size R] [--instances N] [--starts K] [--hours H] [--only live|idle|backfill]
//
// 1. live: `lplex-cloud -insecure-plaintext` on 127.0.0.1 with a fresh data
//    dir (journals on: zstd, PT1H rotation, the defaults) and B boats
//    (default 100) simulated in this process, each on its own channel (its
//    own TCP connection): Handshake, then one Live stream of LiveUpstream
//    frames seq 1, 2, ... (PGN 129025, 8-byte payload), paced at F frames/s
//    (default 2,000) in 10 ms steps by a writer thread per boat, acks read by
//    a reader thread per boat. After W seconds (default 8), S seconds
//    (default 30) are measured: frames sent, the cloud's utime+stime from
//    /proc/<pid>/stat, its VmRSS/VmHWM. Then every boat half-closes its
//    stream and waits for the cloud's last ack; the cloud is stopped with
//    SIGTERM and its journals are read back (frames, and per boat whether
//    every seq it sent is there exactly once). --ring-size R passes
//    -ring-size R to the cloud (default: the cloud's own, 65,536).
// 2. idle: N registered instances (default 10,000), each
//    {data-dir}/instances/boat-NNNNN/ with a state.json (EncodeInstanceState)
//    and one small finished journal file (not timed); then K times (default
//    3): spawn lplex-cloud on that data dir and time until GET /readyz
//    answers 200 (polled every 2 ms); its VmRSS, threads and open files at
//    that moment and 3 s later; SIGTERM.
// 3. backfill: H hours (default 24) of a boat's journal (the simulated full
//    bus after reassembly, 1 h rotation, zstd, 256 KiB blocks; not timed), a
//    cloud instance whose state.json says it has seen the boat's whole seq
//    range and misses all of it (one hole [1, head]), the real cloud, and the
//    real ReplicationClient in this process over that journal with a broker
//    whose head is the journal's last seq. Timed: Start() until the client's
//    cloud cursor (continuous_through) reaches the head. MB/s = bytes of
//    blocks sent (the stored zstd payloads) / that time.
//
// Everything runs in a fresh temporary directory, deleted at the end.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "broker/broker.h"
#include "core/log.h"
#include "journal/format.h"
#include "journal/reader.h"
#include "journal/writer.h"
#include "lplex/replication/v1/replication.grpc.pb.h"
#include "replication/instance_state.h"
#include "replication/replication_client.h"

extern char** environ;

namespace {

using namespace lplex;
namespace fs = std::filesystem;
namespace pb = lplex::replication::v1;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cloud_bench: %s\n", what.c_str());
  std::exit(2);
}

// The cloud on 127.0.0.1, started in `dir` (no ./lplex-cloud.conf there)
// with stdout and stderr to dir/cloud.log.
struct Cloud {
  pid_t pid = -1;
  uint16_t grpc_port = 0;
  uint16_t http_port = 0;
  std::string log;
  Steady::time_point spawned;
};

Cloud SpawnCloud(const std::string& binary, const fs::path& dir, const fs::path& data_dir,
                 const std::vector<std::string>& extra = {}) {
  Cloud c;
  c.grpc_port = bench::FreeLoopbackPort();
  c.http_port = bench::FreeLoopbackPort();
  c.log = (dir / "cloud.log").string();
  std::vector<std::string> all{binary,         "-insecure-plaintext",
                               "-grpc-listen", fmt::format("127.0.0.1:{}", c.grpc_port),
                               "-http-listen", fmt::format("127.0.0.1:{}", c.http_port),
                               "-data-dir",    data_dir.string()};
  all.insert(all.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, c.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, c.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  c.spawned = Steady::now();
  const int rc = posix_spawn(&c.pid, binary.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) Die(fmt::format("cannot start {}: {}", binary, std::strerror(rc)));
  return c;
}

void Fail(const std::string& what, const std::string& log) {
  std::fprintf(stderr, "cloud_bench: %s; cloud log %s (last lines):\n", what.c_str(), log.c_str());
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) {
    std::fprintf(stderr, "  %s\n", lines[i].c_str());
  }
  std::exit(2);
}

// Polls /readyz until 200; false when the cloud exited or 60 s passed.
bool WaitReady(const Cloud& c, milliseconds poll) {
  const auto deadline = Steady::now() + std::chrono::seconds(60);
  while (Steady::now() < deadline) {
    if (bench::HttpGetStatus(c.http_port, "/readyz") == 200) return true;
    int st;
    if (::waitpid(c.pid, &st, WNOHANG) == c.pid) return false;
    std::this_thread::sleep_for(poll);
  }
  return false;
}

int Stop(const Cloud& c) {
  ::kill(c.pid, SIGTERM);
  int st = 0;
  ::waitpid(c.pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int OpenFiles(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// The body of GET `path` (Connection: close), "" on failure.
std::string HttpGetBody(uint16_t port, const std::string& path) {
  const int fd = bench::ConnectLoopback(port, false);
  if (fd < 0) return {};
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return {};
  }
  std::string all;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const size_t body = all.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : all.substr(body + 4);
}

// Sum of the values of the /metrics samples named `name` (every label set).
double MetricSum(const std::string& metrics, const std::string& name) {
  double sum = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    const size_t sp = line.rfind(' ');
    if (sp != std::string::npos) sum += std::atof(line.c_str() + sp + 1);
  }
  return sum;
}

// utime+stime in seconds of every thread of `pid`, summed by thread name
// (/proc/<pid>/task/*/comm: the cloud names its threads).
std::map<std::string, double> CpuByThreadName(pid_t pid) {
  std::map<std::string, double> out;
  std::error_code ec;
  const std::string base = "/proc/" + std::to_string(pid) + "/task";
  for (auto it = fs::directory_iterator(base, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::ifstream comm(it->path() / "comm");
    std::string name;
    std::getline(comm, name);
    std::ifstream in(it->path() / "stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t rp = all.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream rest(all.substr(rp + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    out[name] += static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return out;
}

// The first line of `log` that contains `what` ("" when none).
std::string LogLine(const std::string& log, const std::string& what) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(what) != std::string::npos) return line;
  }
  return {};
}

// ---------------------------------------------------------------------------
// 1. live

std::shared_ptr<grpc::Channel> OwnChannel(uint16_t port) {
  grpc::ChannelArguments args;
  // One TCP connection per boat, as a fleet has: without a local pool, gRPC
  // would share one subchannel among channels with the same target and args.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials(), args);
}

// PGN 129025 (position, rapid update), priority 2, from source 10: PDU2.
constexpr uint32_t kCanId = (2u << 26) | (129025u << 8) | 10u;

class Boat {
 public:
  Boat(int index, uint16_t port) : id_(fmt::format("boat-{:03d}", index)), stub_(pb::Replication::NewStub(OwnChannel(port))) {}

  // Handshake, then opens the Live stream and starts the reader thread.
  void Connect() {
    grpc::ClientContext hctx;
    hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    pb::HandshakeRequest req;
    req.set_instance_id(id_);
    pb::HandshakeResponse resp;
    grpc::Status s = stub_->Handshake(&hctx, req, &resp);
    if (!s.ok()) Die(fmt::format("{}: handshake: {}", id_, s.error_message()));
    next_seq_ = std::max<uint64_t>(1, resp.live_start_from());
    first_seq_ = next_seq_;
    ctx_.AddMetadata("x-instance-id", id_);
    stream_ = stub_->Live(&ctx_);
    reader_ = std::thread([this] {
      pb::LiveDownstream down;
      while (stream_->Read(&down)) acked_.store(down.acked_through(), std::memory_order_relaxed);
    });
  }

  // Sends `fps` frames/s from `t0` (10 ms steps; frames due and not sent
  // yet go out at the next step, at most 250 at once: under the cloud's
  // default burst of 500) until `stop`; then half-closes.
  void StartWriter(Steady::time_point t0, double fps, const std::atomic<bool>& stop) {
    writer_ = std::thread([this, t0, fps, &stop] {
      pb::LiveUpstream up;
      pb::LiveFrame* f = up.mutable_frame();
      f->set_can_id(kCanId);
      auto next = t0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_until(next);
        next += milliseconds(10);
        const auto due = static_cast<uint64_t>(std::chrono::duration<double>(Steady::now() - t0).count() * fps);
        const uint64_t sent = sent_.load(std::memory_order_relaxed);
        const uint64_t n = std::min<uint64_t>(due > sent ? due - sent : 0, 250);
        const int64_t now_us = WallUs();
        for (uint64_t k = 0; k < n; ++k) {
          const uint64_t seq = next_seq_++;
          char data[8];
          for (int i = 0; i < 8; ++i) data[i] = static_cast<char>((seq >> (8 * i)) ^ (0x5a + i));
          f->set_seq(seq);
          f->set_timestamp_us(now_us);
          f->set_data(data, sizeof data);
          // Coalesce a step's frames into few TCP writes; the last one flushes.
          grpc::WriteOptions wo;
          if (k + 1 < n) wo.set_buffer_hint();
          if (!stream_->Write(up, wo)) {
            failed_ = true;
            return;
          }
          sent_.store(sent + k + 1, std::memory_order_relaxed);
        }
      }
      stream_->WritesDone();
    });
  }

  // Waits for the writer and for the cloud's last ack; the stream's status.
  grpc::Status Finish() {
    writer_.join();
    reader_.join();
    return stream_->Finish();
  }

  const std::string& id() const { return id_; }
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  uint64_t first_seq() const { return first_seq_; }
  bool failed() const { return failed_; }

 private:
  const std::string id_;
  std::unique_ptr<pb::Replication::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::LiveUpstream, pb::LiveDownstream>> stream_;
  std::thread writer_, reader_;
  uint64_t next_seq_ = 1;
  uint64_t first_seq_ = 1;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> acked_{0};
  std::atomic<bool> failed_{false};
};

uint64_t SumSent(const std::vector<std::unique_ptr<Boat>>& boats) {
  uint64_t n = 0;
  for (const auto& b : boats) n += b->sent();
  return n;
}
uint64_t SumAcked(const std::vector<std::unique_ptr<Boat>>& boats) {
  uint64_t n = 0;
  for (const auto& b : boats) n += b->acked();
  return n;
}

void LivePart(const std::string& binary, const fs::path& tmp, int nboats, double fps, double warmup, double seconds,
              int ring_size) {
  const fs::path dir = tmp / "live";
  fs::create_directories(dir / "data");
  std::vector<std::string> extra;
  if (ring_size > 0) extra = {"-ring-size", std::to_string(ring_size)};
  const Cloud cloud = SpawnCloud(binary, dir, dir / "data", extra);
  if (!WaitReady(cloud, milliseconds(20))) Fail("the cloud did not get ready", cloud.log);

  std::vector<std::unique_ptr<Boat>> boats;
  for (int i = 0; i < nboats; ++i) boats.push_back(std::make_unique<Boat>(i + 1, cloud.grpc_port));
  for (auto& b : boats) b->Connect();
  std::atomic<bool> stop{false};
  const auto t0 = Steady::now() + milliseconds(50);
  for (int i = 0; i < nboats; ++i) {
    // Boats' 10 ms steps spread over the step, as independent boats would be.
    boats[i]->StartWriter(t0 + std::chrono::microseconds(10'000 * i / nboats), fps, stop);
  }
  const double bench_cpu0 = bench::ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));

  const uint64_t s0 = SumSent(boats), a0 = SumAcked(boats);
  const double cursor0 = MetricSum(HttpGetBody(cloud.http_port, "/metrics"), "lplex_cloud_instance_cursor");
  const double c0 = bench::PidCpuSeconds(cloud.pid);
  const auto threads0 = CpuByThreadName(cloud.pid);
  const double b0 = bench::ProcessCpuSeconds();
  const auto w0 = Steady::now();
  long rss_max = 0;
  while (Since(w0) < seconds) {
    std::this_thread::sleep_for(milliseconds(250));
    rss_max = std::max(rss_max, bench::ProcStatusKib(cloud.pid, "VmRSS"));
  }
  const double wall = Since(w0);
  const double cpu = bench::PidCpuSeconds(cloud.pid) - c0;
  const auto threads1 = CpuByThreadName(cloud.pid);
  const double bench_cpu = bench::ProcessCpuSeconds() - b0;
  const uint64_t s1 = SumSent(boats), a1 = SumAcked(boats);
  const double cursor1 = MetricSum(HttpGetBody(cloud.http_port, "/metrics"), "lplex_cloud_instance_cursor");
  const double schedule = std::chrono::duration<double>(Steady::now() - t0).count() * fps * nboats;
  const long rss = bench::ProcStatusKib(cloud.pid, "VmRSS");
  const long hwm = bench::ProcStatusKib(cloud.pid, "VmHWM");
  const long threads = bench::ProcStatusKib(cloud.pid, "Threads");

  // The end: every boat half-closes and waits for the cloud's last ack.
  stop.store(true);
  const auto e0 = Steady::now();
  int failed = 0;
  std::string first_error;
  for (auto& b : boats) {
    grpc::Status s = b->Finish();
    if (!s.ok() || b->failed()) {
      ++failed;
      if (first_error.empty()) first_error = fmt::format("{}: {}", b->id(), s.error_message());
    }
  }
  const double finish_s = Since(e0);
  const uint64_t sent = SumSent(boats), acked = SumAcked(boats);
  const double total_cpu = bench::PidCpuSeconds(cloud.pid);
  const double bench_total_cpu = bench::ProcessCpuSeconds() - bench_cpu0;
  const int rc = Stop(cloud);

  // Read the cloud's journals back.
  const auto r0 = Steady::now();
  uint64_t journaled = 0, files = 0, bytes = 0;
  int complete = 0;
  std::string first_gap;
  for (const auto& b : boats) {
    const fs::path jdir = dir / "data" / "instances" / b->id() / "journal";
    std::vector<uint8_t> seen(b->sent() + 2, 0);
    uint64_t dup = 0, out = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(jdir, ec)) {
      if (e.path().extension() != ".lpj") continue;
      ++files;
      bytes += e.file_size();
      auto r = journal::JournalReader::OpenPath(e.path().string());
      if (!r.ok()) Die(r.status().ToString());
      while ((*r)->Next()) {
        const uint64_t seq = (*r)->frame().seq;
        ++journaled;
        if (seq == 0 || seq >= seen.size()) {
          ++out;
        } else if (seen[seq]++) {
          ++dup;
        }
      }
      if (!(*r)->status().ok()) Die((*r)->status().ToString());
    }
    uint64_t missing = 0;
    for (uint64_t s = b->first_seq(); s < b->first_seq() + b->sent() && s < seen.size(); ++s) missing += seen[s] == 0;
    if (missing == 0 && dup == 0 && out == 0) {
      ++complete;
    } else if (first_gap.empty()) {
      first_gap = fmt::format("{}: {} sent, {} missing, {} duplicated, {} out of range", b->id(), b->sent(), missing,
                              dup, out);
    }
  }

  fmt::print("live: {} boats x {:.0f} frames/s (8-byte frames, one gRPC connection each) into lplex-cloud -insecure-plaintext "
             "(zstd journals, {}), {:.0f} s after {:.0f} s of warm-up; load {}\n",
             nboats, fps, ring_size > 0 ? fmt::format("-ring-size {}", ring_size) : "defaults", wall, warmup,
             bench::LoadAverage());
  fmt::print("live: sent {:.0f} frames/s in the window (goal {:.0f}); {:.0f} frames behind the schedule at its end\n",
             (s1 - s0) / wall, fps * nboats, schedule - static_cast<double>(s1));
  fmt::print("live: acked {:.0f} frames/s in the window (acks every 5 s per boat); cloud cursors in /metrics {:.0f} frames/s\n",
             (a1 - a0) / wall, (cursor1 - cursor0) / wall);
  fmt::print("live: cloud CPU {:.1f} % of one core ({:.2f} s utime+stime in {:.1f} s), VmRSS {:.1f} MiB (max sampled {:.1f}), "
             "VmHWM {:.1f} MiB, {} threads; bench process CPU {:.1f} % of one core\n",
             100 * cpu / wall, cpu, wall, rss / 1024.0, rss_max / 1024.0, hwm / 1024.0, threads, 100 * bench_cpu / wall);
  std::vector<std::pair<double, std::string>> by_name;
  for (const auto& [name, t] : threads1) {
    const auto it = threads0.find(name);
    by_name.push_back({t - (it == threads0.end() ? 0 : it->second), name});
  }
  std::sort(by_name.rbegin(), by_name.rend());
  std::string top;
  for (size_t i = 0; i < by_name.size() && i < 6; ++i) {
    top += fmt::format("{}{} {:.1f} %", i ? ", " : "", by_name[i].second, 100 * by_name[i].first / wall);
  }
  fmt::print("live: cloud CPU by thread name (threads of a name summed): {}\n", top);
  fmt::print("live: end: {} frames sent, {} acked by the cloud's last acks ({:.1f} s after the half-close), {} streams failed{}; "
             "cloud CPU {:.1f} s in all; bench {:.1f} s; exit {}\n",
             sent, acked, finish_s, failed, first_error.empty() ? "" : " (" + first_error + ")", total_cpu,
             bench_total_cpu, rc);
  fmt::print("live: cloud log: \"{}\", \"{}\"\n", LogLine(cloud.log, "stopped replication in"),
             LogLine(cloud.log, "shutdown: done in"));
  fmt::print("live: journals read back: {} frames in {} files ({:.1f} MB, read in {:.1f} s); {} of {} boats have every "
             "seq they sent exactly once{}\n",
             journaled, files, bytes / 1e6, Since(r0), complete, nboats, first_gap.empty() ? "" : " (" + first_gap + ")");
}

// ---------------------------------------------------------------------------
// 2. idle

void IdlePart(const std::string& binary, const fs::path& tmp, int ninstances, int starts) {
  const fs::path dir = tmp / "idle";
  const fs::path data = dir / "data";
  fs::create_directories(data / "instances");
  const auto g0 = Steady::now();
  // One small finished journal (a minute of a quiet boat), copied into every
  // instance: the keeper's startup scan sees a real file per instance.
  const fs::path sample_dir = dir / "sample";
  fs::create_directories(sample_dir);
  std::string sample;
  {
    journal::WriterOptions wo;
    wo.dir = sample_dir.string();
    wo.block_size = 4096;
    wo.on_rotate = [&](const journal::RotatedFile& f) { sample = f.path; };
    auto w = journal::JournalWriter::Create(wo);
    if (!w.ok()) Die(w.status().ToString());
    const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int64_t t = WallUs() - 86'400'000'000LL;
    for (uint64_t seq = 1; seq <= 600; ++seq) {
      (void)(*w)->Append(can::Frame{.timestamp_us = t + static_cast<int64_t>(seq) * 100'000,
                                    .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF},
                                    .data = d,
                                    .seq = seq});
    }
    if (Status s = (*w)->Close(); !s.ok()) Die(s.ToString());
  }
  if (sample.empty()) Die("no sample journal file");
  for (int i = 0; i < ninstances; ++i) {
    replication::InstanceState st;
    st.id = fmt::format("boat-{:05d}", i);
    st.cursor = 600;
    st.seen_through = 600;
    st.boat_head_seq = 600;
    st.last_seen_us = WallUs() - 86'400'000'000LL;
    const fs::path idir = data / "instances" / st.id;
    fs::create_directories(idir / "journal");
    std::ofstream(idir / replication::kStateFileName) << replication::EncodeInstanceState(st);
    fs::copy_file(sample, idir / "journal" / fs::path(sample).filename());
  }
  fmt::print("idle: {} instances, each a state.json and one finished journal file of {} bytes (made in {:.1f} s, not timed)\n",
             ninstances, fs::file_size(sample), Since(g0));
  for (int k = 0; k < starts; ++k) {
    const Cloud c = SpawnCloud(binary, dir, data);
    if (!WaitReady(c, milliseconds(2))) Fail("the cloud did not get ready", c.log);
    const double ms = std::chrono::duration<double, std::milli>(Steady::now() - c.spawned).count();
    const double cpu = bench::PidCpuSeconds(c.pid);
    const long rss = bench::ProcStatusKib(c.pid, "VmRSS");
    const long threads = bench::ProcStatusKib(c.pid, "Threads");
    const int fds = OpenFiles(c.pid);
    const std::string health = HttpGetBody(c.http_port, "/healthz");
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const long rss3 = bench::ProcStatusKib(c.pid, "VmRSS");
    const long hwm = bench::ProcStatusKib(c.pid, "VmHWM");
    const long threads3 = bench::ProcStatusKib(c.pid, "Threads");
    const int fds3 = OpenFiles(c.pid);
    const double cpu3 = bench::PidCpuSeconds(c.pid);
    const int rc = Stop(c);
    fmt::print("idle: run {}: spawn to /readyz 200 in {:.1f} ms (goal <= 2000 ms; cloud CPU so far {:.0f} ms); VmRSS {:.1f} MiB, "
               "{} threads, {} open fds; 3 s later VmRSS {:.1f} MiB, VmHWM {:.1f} MiB (goal <= 200 MB), {} threads, {} fds, "
               "CPU {:.0f} ms; exit {}\n",
               k + 1, ms, cpu * 1000, rss / 1024.0, threads, fds, rss3 / 1024.0, hwm / 1024.0, threads3, fds3,
               cpu3 * 1000, rc);
    if (k == 0) fmt::print("idle: /healthz {}\n", health.substr(0, health.find('\n')));
  }
}

// ---------------------------------------------------------------------------
// 3. backfill

void BackfillPart(const std::string& binary, const fs::path& tmp, double hours) {
  const fs::path dir = tmp / "backfill";
  const fs::path jdir = dir / "boat-journal";
  fs::create_directories(jdir);
  // `hours` of the full bus ending now, 1 h rotation (as server_bench).
  const auto corpus = bench::SimFullBus(60);
  const int64_t span = corpus.back().timestamp_us - corpus.front().timestamp_us + 1000;
  const int64_t now_us = WallUs();
  const int64_t shift = now_us - static_cast<int64_t>(hours * 3600e6) - corpus.front().timestamp_us;
  journal::WriterOptions wo;
  wo.dir = jdir.string();
  wo.rotate_duration_us = 3600LL * 1'000'000;
  auto w = journal::JournalWriter::Create(wo);
  if (!w.ok()) Die(w.status().ToString());
  const auto g0 = Steady::now();
  uint64_t seq = 1;
  for (uint64_t i = 0;; ++i) {
    const auto& f = corpus[i % corpus.size()];
    can::Frame v = f.view();
    v.timestamp_us += shift + static_cast<int64_t>(i / corpus.size()) * span;
    if (v.timestamp_us >= now_us) break;
    v.seq = seq++;
    if (Status s = (*w)->Append(v); !s.ok()) Die(s.ToString());
  }
  if (Status s = (*w)->Close(); !s.ok()) Die(s.ToString());
  const uint64_t head = seq - 1;
  uint64_t jbytes = 0, jfiles = 0;
  for (const auto& e : fs::directory_iterator(jdir)) {
    jbytes += e.file_size();
    ++jfiles;
  }
  fmt::print("backfill: {:.0f} h of the boat's journal: {} files, {} frames, {:.1f} MB, zstd, {} KiB blocks "
             "(generated in {:.1f} s, not timed)\n",
             hours, jfiles, head, jbytes / 1e6, journal::kDefaultBlockSize / 1024, Since(g0));

  // The cloud has seen seqs 1..head and holds none of them.
  const std::string id = "boat-backfill";
  const fs::path data = dir / "data";
  {
    replication::InstanceState st;
    st.id = id;
    st.cursor = 0;
    st.seen_through = head;
    st.holes = {{1, head + 1}};
    st.boat_head_seq = head;
    fs::create_directories(data / "instances" / id);
    std::ofstream(data / "instances" / id / replication::kStateFileName) << replication::EncodeInstanceState(st);
  }
  const Cloud cloud = SpawnCloud(binary, dir, data);
  if (!WaitReady(cloud, milliseconds(10))) Fail("the cloud did not get ready", cloud.log);

  broker::BrokerOptions bo;
  bo.initial_head = head + 1;
  bo.logger = Logger::Discard();
  auto b = broker::Broker::Create(std::move(bo));
  if (!b.ok()) Die(b.status().ToString());
  // One live frame (seq head + 1) in the ring: the cloud starts the live
  // stream at the boat's head, which a boat's ring holds (this broker has no
  // journal to serve older seqs from).
  const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  (*b)->Ingest(can::Frame{.timestamp_us = now_us,
                          .header = {.priority = 2, .pgn = 129025, .source = 10, .destination = 0xFF},
                          .data = d});
  replication::ReplicationClientOptions co;
  co.target = fmt::format("127.0.0.1:{}", cloud.grpc_port);
  co.instance_id = id;
  co.insecure = true;
  co.broker = *b;
  co.journal_dir = jdir.string();
  co.logger = Logger::Discard();
  auto client = replication::ReplicationClient::Create(std::move(co));
  if (!client.ok()) Die(client.status().ToString());

  const double c0 = bench::PidCpuSeconds(cloud.pid);
  const double b0 = bench::ProcessCpuSeconds();
  const auto t0 = Steady::now();
  (*client)->Start();
  replication::ReplicationStatus st;
  for (;;) {
    st = (*client)->Status();
    if (st.cloud_cursor >= head) break;
    if (Since(t0) > 120) Fail(fmt::format("backfill not done after 120 s: cursor {} of {}, {} blocks sent; last error {}",
                                          st.cloud_cursor, head, st.backfill_blocks_sent, st.last_error),
                              cloud.log);
    std::this_thread::sleep_for(milliseconds(2));
  }
  const double secs = Since(t0);
  const double cpu = bench::PidCpuSeconds(cloud.pid) - c0;
  const double bench_cpu = bench::ProcessCpuSeconds() - b0;
  const long hwm = bench::ProcStatusKib(cloud.pid, "VmHWM");
  (*client)->Stop();
  const int rc = Stop(cloud);
  uint64_t cbytes = 0, cfiles = 0;
  for (const auto& e : fs::directory_iterator(data / "instances" / id / "journal")) {
    if (e.path().extension() != ".lpj") continue;
    cbytes += e.file_size();
    ++cfiles;
  }
  fmt::print("backfill: one hole [1, {}] closed in {:.2f} s: {} blocks, {:.1f} MB of blocks sent: {:.1f} MB/s "
             "(goal >= 100 MB/s), {:.2f} M frames/s\n",
             head, secs, st.backfill_blocks_sent, st.backfill_bytes_sent / 1e6, st.backfill_bytes_sent / 1e6 / secs,
             head / 1e6 / secs);
  fmt::print("backfill: cloud CPU {:.0f} % of one core ({:.2f} s), VmHWM {:.1f} MiB; boat (this process) CPU {:.0f} % "
             "({:.2f} s); the cloud wrote {} files, {:.1f} MB; exit {}; load {}\n",
             100 * cpu / secs, cpu, hwm / 1024.0, 100 * bench_cpu / secs, bench_cpu, cfiles, cbytes / 1e6, rc,
             bench::LoadAverage());
}

}  // namespace

int main(int argc, char** argv) {
  std::string cloud = (fs::path(argv[0]).parent_path() / "../apps/lplex-cloud/lplex-cloud").string();
  double fps = 2000, warmup = 8, seconds = 30, hours = 24;
  int boats = 100, instances = 10000, starts = 3, ring_size = 0;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--cloud")) cloud = argv[i + 1];
    else if (!std::strcmp(argv[i], "--boats")) boats = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--fps")) fps = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) warmup = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--ring-size")) ring_size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--instances")) instances = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--starts")) starts = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--hours")) hours = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: cloud_bench [--cloud PATH] [--boats B] [--fps F] [--warmup W] [--seconds S] [--ring-size R] "
                   "[--instances N] [--starts K] [--hours H] [--only live|idle|backfill]\n");
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is measured
  cloud = fs::weakly_canonical(cloud).string();
  if (!fs::exists(cloud)) {
    std::fprintf(stderr, "cloud_bench: no cloud binary at %s (--cloud PATH)\n", cloud.c_str());
    return 2;
  }
  char tmpl[] = "/tmp/lplex-cloud-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 2;
  const fs::path tmp(tmpl);
  if (only.empty() || only == "live") LivePart(cloud, tmp, boats, fps, warmup, seconds, ring_size);
  if (only.empty() || only == "idle") IdlePart(cloud, tmp, instances, starts);
  if (only.empty() || only == "backfill") BackfillPart(cloud, tmp, hours);
  fs::remove_all(tmp);
  return 0;
}
