// OpenFiles: the journal files writers still have open, shared between the
// writers (which report through WriterOptions::on_open_change) and the
// keeper (KeeperOptions::is_open). Thread-safe.
//
// Wiring, for one writer or thousands:
//   OpenFiles open;
//   writer_options.on_open_change = open.Tracker();
//   keeper_options.is_open = open.Checker();
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>

namespace lplex::keeper {

class OpenFiles {
 public:
  void Set(const std::string& path, bool open) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open) {
      paths_.insert(path);
    } else {
      paths_.erase(path);
    }
  }
  bool Contains(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_.count(path) != 0;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_.size();
  }
  // Adapters for the two option fields; the OpenFiles must outlive them.
  std::function<void(const std::string&, bool)> Tracker() {
    return [this](const std::string& p, bool open) { Set(p, open); };
  }
  std::function<bool(const std::string&)> Checker() const {
    return [this](const std::string& p) { return Contains(p); };
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> paths_;
};

}  // namespace lplex::keeper
