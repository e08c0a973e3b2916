// MotoServer: a real S3 API on 127.0.0.1 for integration tests, started and
// stopped by the test (RAII).
//
//   lplex::testing::MotoServer moto;
//   std::string why;
//   if (!lplex::testing::MotoServer::Available(&why)) GTEST_SKIP() << why;
//   MotoServer::Options opt;
//   opt.buckets = {"archive"};
//   opt.iam_auth = true;           // signatures and access keys are checked
//   ASSERT_TRUE(moto.Start(opt, &why)) << why;
//   ... moto.endpoint() == "http://127.0.0.1:<port>",
//       moto.access_key_id(), moto.secret_access_key() ...
//
// How it runs: `python3 -m moto.server -H 127.0.0.1 -p <port>` in its own
// process group, stdout+stderr into a log file (log() returns it, for failure
// messages). The port is chosen by binding port 0 and closing the socket just
// before the start (a tiny race another process could win; Start() then fails
// with the log). The python is $LPLEX_MOTO_PYTHON if set, otherwise "python3"
// looked up on PATH (here the pyenv one that has moto 5.x; /usr/bin/python3
// does not). The destructor (and Stop()) sends SIGTERM to the group, waits up to
// 3 s, then SIGKILLs the group and reaps the child: no orphan survives a test.
//
// Auth mode (Options::iam_auth). moto checks nothing by default: every access
// key works. Its switch is INITIAL_NO_AUTH_ACTION_COUNT (moto/settings.py): the
// first N actions skip authentication, every later one needs a SigV4 signature
// from an access key that exists in moto's IAM and a policy allowing the
// action; the default is infinity. The same switch exists at run time as
// `POST /moto-api/reset-auth` with the count as body, which also resets the
// action counter. Start() therefore, while auth is still off, creates an IAM
// user `lplex-test` with an inline policy allowing s3:* on everything and an
// access key for it, creates Options::buckets, and then posts "0" to
// /moto-api/reset-auth: from then on every request must be signed with
// access_key_id()/secret_access_key(); a wrong key gets InvalidAccessKeyId
// (403) and a wrong secret SignatureDoesNotMatch (403). Without iam_auth,
// access_key_id() is "test" and secret_access_key() "test" (any value works).
// Known moto 5.x quirk under auth: it recomputes the signature from the
// decoded query string, so requests whose canonical query has escapes or
// empty values (`aws s3 ls` sends `delimiter=%2F&prefix=`) fail with
// SignatureDoesNotMatch although they are signed correctly. Object PUT/GET/
// HEAD, multipart uploads and `s3api list-objects` pass.
//
// Buckets are created in us-east-1 (moto's default; no location constraint).
// Requests to a URL whose service moto cannot tell from the host or the
// Authorization header go to its S3 backend, which is why plain
// `PUT /<bucket>` creates a bucket here.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/loopback_socket.h"

extern char** environ;

namespace lplex::testing {

class MotoServer {
 public:
  struct Options {
    bool iam_auth = false;             // see the comment at the top
    std::vector<std::string> buckets;  // created before auth is switched on
    std::chrono::milliseconds ready_timeout{30000};
  };

  MotoServer() = default;
  ~MotoServer() {
    Stop();
    if (!log_path_.empty()) ::unlink(log_path_.c_str());
  }
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  // Whether `python3 -m moto.server` can run here; *why says what is missing.
  // The first call costs one python start (about a second); the answer is
  // kept for the rest of the process.
  static bool Available(std::string* why) {
    static const std::pair<bool, std::string> answer = [] {
      const std::string py = Python();
      std::vector<std::string> argv = {py, "-c", "import moto.server"};
      int status = 0;
      if (!RunQuiet(argv, &status)) {
        return std::make_pair(false, "cannot start " + py + ": " + std::strerror(errno));
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::make_pair(false, py + " -m moto.server is unavailable (import moto.server failed; install "
                                          "moto[server] 5.x or set LPLEX_MOTO_PYTHON)");
      }
      return std::make_pair(true, std::string());
    }();
    if (!answer.first) *why = answer.second;
    return answer.first;
  }

  // Starts the server (on the same port as before after a Stop(), so a test
  // can take the store away and bring it back), waits until it answers HTTP,
  // then performs the setup in `opt`. False with *error (including the log
  // tail) when any step fails; the process is stopped in that case.
  bool Start(const Options& opt, std::string* error) {
    if (pid_ > 0) {
      *error = "moto already running";
      return false;
    }
    opt_ = opt;
    if (port_ == 0 && !PickPort(error)) return false;
    if (log_path_.empty()) {
      std::string tmpl = "/tmp/lplex-moto-XXXXXX";
      int fd = ::mkstemp(tmpl.data());
      if (fd < 0) {
        *error = std::string("mkstemp: ") + std::strerror(errno);
        return false;
      }
      ::close(fd);
      log_path_ = tmpl;
    }
    if (!Spawn(error)) return false;
    if (!WaitReady(error) || !Setup(error)) {
      *error += "\n--- moto log ---\n" + log();
      Stop();
      return false;
    }
    return true;
  }
  // Convenience: Start with default options (no auth, no buckets).
  bool Start(std::string* error) { return Start(Options{}, error); }

  // Stops the server and reaps it. Safe to call when not running.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) break;
      if (std::chrono::steady_clock::now() >= give_up) {
        ::kill(-pid_, SIGKILL);
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Anything the server forked stays in its group: take it too.
    ::kill(-pid_, SIGKILL);
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_access_key_; }
  const char* region() const { return "us-east-1"; }

  // The server's stdout+stderr so far.
  std::string log() const {
    std::ifstream in(log_path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (s.size() > 8192) s = "..." + s.substr(s.size() - 8192);
    return s;
  }

  // One unsigned HTTP/1.0 request to the server; returns the status code
  // (0 when the connection failed) and fills *body when given.
  int Http(const std::string& method, const std::string& path, const std::string& body = "",
           const std::vector<std::string>& headers = {}, std::string* response_body = nullptr) const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return 0;
    }
    std::string req = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "\r\n" + body;
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        return 0;
      }
      off += static_cast<size_t>(n);
    }
    std::string resp;
    char buf[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int pr = ::poll(&p, 1, 10000);
      if (pr <= 0) break;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      resp.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (resp.compare(0, 7, "HTTP/1.") != 0 || resp.size() < 12) return 0;
    int code = std::atoi(resp.c_str() + 9);
    if (response_body) {
      size_t h = resp.find("\r\n\r\n");
      *response_body = h == std::string::npos ? "" : resp.substr(h + 4);
    }
    return code;
  }

 private:
  static std::string Python() {
    const char* p = std::getenv("LPLEX_MOTO_PYTHON");
    return p && *p ? p : "python3";
  }

  // Runs argv (PATH lookup) with stdin/stdout/stderr on /dev/null; waits.
  static bool RunQuiet(const std::vector<std::string>& argv, int* status) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd <= 2; ++fd) posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      errno = rc;
      return false;
    }
    while (::waitpid(pid, status, 0) < 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }

  bool PickPort(std::string* error) {
    int fd = BindLoopback(&port_, /*listen=*/false);
    if (fd < 0) {
      *error = std::string("bind 127.0.0.1:0: ") + std::strerror(errno);
      return false;
    }
    ::close(fd);
    return true;
  }

  bool Spawn(std::string* error) {
    const std::string py = Python();
    const std::string port = std::to_string(port_);
    std::vector<std::string> argv = {py, "-m", "moto.server", "-H", "127.0.0.1", "-p", port};
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The environment of the test, minus an INITIAL_NO_AUTH_ACTION_COUNT that
    // would change the auth behaviour behind our back.
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "INITIAL_NO_AUTH_ACTION_COUNT=", 29) == 0) continue;
      env_store.push_back(*e);
    }
    env_store.push_back("PYTHONUNBUFFERED=1");
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // The server must not hold the test's pipes open (a reader would never see EOF).
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      *error = "cannot start " + py + " -m moto.server: " + std::strerror(rc);
      return false;
    }
    pid_ = pid;
    return true;
  }

  bool WaitReady(std::string* error) {
    const auto give_up = std::chrono::steady_clock::now() + opt_.ready_timeout;
    for (;;) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        *error = "moto exited before it answered on " + endpoint() + " (status " + std::to_string(st) + ")";
        return false;
      }
      if (Http("GET", "/moto-api/data.json") != 0) return true;
      if (std::chrono::steady_clock::now() >= give_up) {
        *error = "moto did not answer on " + endpoint() + " within " +
                 std::to_string(opt_.ready_timeout.count()) + " ms";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  static std::string FormEscape(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  static std::string XmlField(const std::string& xml, const std::string& tag) {
    size_t b = xml.find("<" + tag + ">");
    size_t e = xml.find("</" + tag + ">");
    if (b == std::string::npos || e == std::string::npos) return "";
    b += tag.size() + 2;
    return e > b ? xml.substr(b, e - b) : "";
  }

  // One IAM query action while auth is still off (moto routes it to IAM by the
  // service in the Authorization header; the signature is not checked yet).
  bool Iam(const std::string& form, std::string* body, std::string* error) const {
    const std::vector<std::string> headers = {
        "Content-Type: application/x-www-form-urlencoded",
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, "
        "SignedHeaders=host, Signature=0"};
    int code = Http("POST", "/", form + "&Version=2010-05-08", headers, body);
    if (code != 200) {
      *error = "moto IAM setup '" + form.substr(0, form.find('&')) + "' answered " + std::to_string(code) + ": " +
               *body;
      return false;
    }
    return true;
  }

  bool Setup(std::string* error) {
    access_key_id_ = "test";
    secret_access_key_ = "test";
    std::string body;
    if (opt_.iam_auth) {
      const std::string user = "lplex-test";
      const std::string policy =
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})";
      if (!Iam("Action=CreateUser&UserName=" + user, &body, error)) return false;
      if (!Iam("Action=PutUserPolicy&UserName=" + user + "&PolicyName=s3-all&PolicyDocument=" + FormEscape(policy),
               &body, error)) {
        return false;
      }
      if (!Iam("Action=CreateAccessKey&UserName=" + user, &body, error)) return false;
      access_key_id_ = XmlField(body, "AccessKeyId");
      secret_access_key_ = XmlField(body, "SecretAccessKey");
      if (access_key_id_.empty() || secret_access_key_.empty()) {
        *error = "moto CreateAccessKey answer without a key: " + body;
        return false;
      }
    }
    for (const auto& b : opt_.buckets) {
      int code = Http("PUT", "/" + b, "", {}, &body);
      if (code != 200) {
        *error = "moto create bucket '" + b + "' answered " + std::to_string(code) + ": " + body;
        return false;
      }
    }
    if (opt_.iam_auth) {
      int code = Http("POST", "/moto-api/reset-auth", "0", {}, &body);
      if (code != 200) {
        *error = "moto reset-auth answered " + std::to_string(code) + ": " + body;
        return false;
      }
    }
    return true;
  }

  Options opt_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::string access_key_id_ = "test";
  std::string secret_access_key_ = "test";
};

}  // namespace lplex::testing
