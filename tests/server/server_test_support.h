// Helpers for the lplex-server tests: the server binary as a child process,
// a one-shot HTTP GET on loopback, and reading journals back.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "can/frame.h"
#include "journal/reader.h"

namespace lplex::testing {

inline const std::string kServerBinary = std::string(LPLEX_BINARY_DIR) + "/apps/lplex-server/lplex-server";
inline const std::string kCaptures = std::string(LPLEX_SHARED_DIR) + "/data/captures";

inline std::string FileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A program (lplex-server unless told otherwise; the cloud tests run
// lplex-cloud too) in its own process group, stdout and stderr into files;
// the whole group is killed when the object goes, whatever path the test
// took. Start may be called again after the child exited (a restart).
class ChildServer {
 public:
  ChildServer() : binary_(kServerBinary) {}
  explicit ChildServer(std::string binary) : binary_(std::move(binary)) {}
  ~ChildServer() { Kill(); }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  // stdout goes to log_path + ".out".
  bool Start(const std::vector<std::string>& args, const std::string& log_path) {
    return Start(args, log_path, log_path + ".out");
  }
  bool Start(const std::vector<std::string>& args, const std::string& log_path, const std::string& out_path) {
    Kill();
    exited_ = false;
    status_ = -1;
    log_path_ = log_path;
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int e = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(e, 2);
      ::dup2(o, 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary_.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(binary_.c_str(), argv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    return true;
  }

  std::string Log() const { return FileText(log_path_); }

  // Waits until the log contains `needle`, the child exits, or the timeout.
  bool WaitForLog(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (Log().find(needle) != std::string::npos) return true;
      if (Exited()) return Log().find(needle) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void Signal(int sig) {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);  // never a reaped (maybe reused) pid
  }

  // SIGTERM, then Wait.
  int Terminate(std::chrono::milliseconds timeout) {
    Signal(SIGTERM);
    return Wait(timeout);
  }

  // The exit code (128+n for a signal), or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (Exited()) return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  void Kill() {
    if (pid_ > 0 && !exited_) {
      ::kill(-pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      exited_ = true;
    }
  }

 private:
  bool Exited() {
    if (exited_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return exited_;
  }

  const std::string binary_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
  std::string log_path_;
};

// The port from the server's "lplex-server: HTTP API at http://ADDR:PORT/" log line; 0 = none.
inline int PortFromLog(const std::string& log) {
  std::smatch m;
  static const std::regex re("HTTP API at http://[^ ]*:([0-9]+)/");
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:port/path with Connection: close (status 0 = no reply).
inline HttpReply HttpGet(int port, const std::string& path) {
  HttpReply r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return r;
  }
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (text.rfind("HTTP/1.1 ", 0) != 0 || text.size() < 12) return r;
  r.status = std::stoi(text.substr(9, 3));
  const size_t body = text.find("\r\n\r\n");
  if (body != std::string::npos) r.body = text.substr(body + 4);
  // De-chunk a chunked body (hex size line, data, CRLF).
  if (text.find("Transfer-Encoding: chunked") != std::string::npos ||
      text.find("transfer-encoding: chunked") != std::string::npos) {
    std::string out;
    size_t pos = 0;
    while (pos < r.body.size()) {
      const size_t eol = r.body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const size_t len = std::stoul(r.body.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      out += r.body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    r.body = out;
  }
  return r;
}

// One recorded frame with its bytes.
struct StoredFrame {
  uint64_t seq = 0;
  int64_t timestamp_us = 0;
  uint32_t pgn = 0;
  uint8_t source = 0;
  uint8_t destination = 0;
  uint8_t priority = 0;
  std::vector<uint8_t> data;
  std::string file;
};

// The .lpj files of `dir` (full paths, sorted by name).
inline std::vector<std::string> JournalFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".lpj") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every frame of every journal in `dir`, in seq order (file names say when a
// file started, not where its seqs lie: P15).
inline std::vector<StoredFrame> ReadJournalDir(const std::string& dir, std::string* error) {
  std::vector<StoredFrame> out;
  for (const auto& path : JournalFiles(dir)) {
    auto r = journal::JournalReader::OpenPath(path);
    if (!r.ok()) {
      *error += path + ": " + r.status().ToString() + "\n";
      continue;
    }
    while ((*r)->Next()) {
      const can::Frame& f = (*r)->frame();
      StoredFrame s;
      s.seq = f.seq;
      s.timestamp_us = f.timestamp_us;
      s.pgn = f.header.pgn;
      s.source = f.header.source;
      s.destination = f.header.destination;
      s.priority = f.header.priority;
      s.data.assign(f.data.begin(), f.data.end());
      s.file = path;
      out.push_back(std::move(s));
    }
    if (!(*r)->status().ok()) *error += path + ": " + (*r)->status().ToString() + "\n";
  }
  std::stable_sort(out.begin(), out.end(), [](const StoredFrame& a, const StoredFrame& b) { return a.seq < b.seq; });
  return out;
}

// Polls `pred` every 20 ms until it holds or `timeout` passes; the last
// answer. For state another process or thread reaches on its own time.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace lplex::testing
