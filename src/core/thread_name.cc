#include "core/thread_name.h"

#include <pthread.h>

#include <string>

namespace lplex {

void SetCurrentThreadName(std::string_view name) {
  constexpr size_t kMax = 15;  // the kernel's TASK_COMM_LEN - 1
  const std::string cut(name.substr(0, kMax));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace lplex
