// Helpers for the mDNS tests: pointing avahi's client at a D-Bus system bus
// of the test's choosing, a private bus run by dbus-daemon, and a bus that
// never answers.
//
// libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per process (avahi connects
// with dbus_bus_get_private, which caches the address), so an in-process
// test that sets it must make its avahi calls in a fresh process:
// LPLEX_EXPECT_IN_FRESH_PROCESS below. A server started as a child process is fresh anyway.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "server/server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::testing {

// Sets an environment variable for the life of the object (tests in one
// binary run one after another, so this does not race).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Runs `call` in a process of its own and expects the text it returns to
// match the POSIX extended regex `expected`, and the call to take less than
// `limit`. gtest's "fast" death-test style forks without exec, so the child
// sees the environment set now and shares nothing with later tests; its
// libdbus is untouched because these tests never call avahi in the parent
// (fork would copy a lock an abandoned connect thread holds).
#define LPLEX_EXPECT_IN_FRESH_PROCESS(call, limit, expected)                                               \
  do {                                                                                                   \
    GTEST_FLAG_SET(death_test_style, "fast");                                                      \
    EXPECT_EXIT(                                                                                         \
        {                                                                                                \
          const auto t0_ = std::chrono::steady_clock::now();                                             \
          const std::string text_ = (call)();                                                            \
          const auto took_ = std::chrono::steady_clock::now() - t0_;                                     \
          std::fprintf(stderr, "result: %s\ntook %lld ms\n", text_.c_str(),                              \
                       static_cast<long long>(                                                          \
                           std::chrono::duration_cast<std::chrono::milliseconds>(took_).count()));       \
          std::fflush(stderr);                                                                           \
          std::_Exit(took_ < (limit) ? 0 : 3);                                                           \
        },                                                                                               \
        ::testing::ExitedWithCode(0), std::string("result: ") + (expected));                             \
  } while (0)

inline constexpr char kDbusDaemon[] = "/usr/bin/dbus-daemon";
inline constexpr char kAvahiDaemon[] = "/usr/sbin/avahi-daemon";

// A D-Bus bus of its own (dbus-daemon, open policy) listening on
// `dir`/bus: a system bus on which no avahi daemon runs, unless the test
// starts one.
class PrivateBus {
 public:
  explicit PrivateBus(const TempDir& dir) : dir_(dir), daemon_(kDbusDaemon) {}

  // False when dbus-daemon is missing or did not come up within 5 s.
  bool Start() {
    if (::access(kDbusDaemon, X_OK) != 0) return false;
    const std::string conf = dir_.Sub("bus.conf");
    std::ofstream(conf) << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                           "<busconfig>\n"
                           "  <type>system</type>\n"
                           "  <listen>unix:path=" << socket_path() << "</listen>\n"
                           "  <auth>EXTERNAL</auth>\n"
                           "  <policy context=\"default\">\n"
                           "    <allow user=\"*\"/>\n"
                           "    <allow own=\"*\"/>\n"
                           "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                           "    <allow receive_sender=\"*\"/>\n"
                           "  </policy>\n"
                           "</busconfig>\n";
    if (!daemon_.Start({"--config-file=" + conf, "--nofork", "--nopidfile"}, dir_.Sub("dbus.log"))) return false;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      if (std::filesystem::exists(socket_path())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string socket_path() const { return dir_.Sub("bus"); }
  std::string address() const { return "unix:path=" + socket_path(); }
  std::string Log() const { return FileText(dir_.Sub("dbus.log")); }

 private:
  const TempDir& dir_;
  ChildServer daemon_;
};

// A unix socket that accepts connections and never says a word: counts
// who connects (a bus address no real program should be talking to).
class SilentSocket {
 public:
  explicit SilentSocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0;
  }
  ~SilentSocket() {
    for (int c : accepted_) ::close(c);
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }
  std::string address() const { return "unix:path=" + path_; }
  // Accepts what is pending; returns how many connected so far.
  int Connections() {
    for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted_.push_back(c);
    return static_cast<int>(accepted_.size());
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
  std::vector<int> accepted_;
};

}  // namespace lplex::testing
