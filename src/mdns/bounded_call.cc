#include "mdns/bounded_call.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace lplex::mdns {

bool RunWithin(std::chrono::milliseconds limit, std::function<void()> call) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, call = std::move(call)] {
    call();
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->done = true;
    shared->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(shared->mu);
  return shared->cv.wait_for(lock, limit, [&] { return shared->done; });
}

}  // namespace lplex::mdns
