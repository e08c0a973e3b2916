#include "core/prometheus_text.h"

#include <fmt/format.h>

#include <iterator>

namespace lplex {

void AppendPrometheusMetric(std::string* out, std::string_view name, std::string_view type, std::string_view help,
                            std::string_view value) {
  fmt::format_to(std::back_inserter(*out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

void AppendPrometheusMetric(std::string* out, std::string_view name, std::string_view type, std::string_view help,
                            uint64_t value) {
  fmt::format_to(std::back_inserter(*out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

}  // namespace lplex
