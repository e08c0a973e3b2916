// The Prometheus text exposition format (version 0.0.4), as /metrics serves
// it. Broker, HTTP server and the server app each add their own metrics to
// one body; they all write them through here so the layout cannot drift.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lplex {

// Appends "# HELP name help\n# TYPE name type\nname value\n". `type` is
// "counter" or "gauge". The string form takes a value already formatted
// (e.g. "%.6f" for the gauges the reference prints with fixed decimals).
void AppendPrometheusMetric(std::string* out, std::string_view name, std::string_view type, std::string_view help,
                            std::string_view value);
void AppendPrometheusMetric(std::string* out, std::string_view name, std::string_view type, std::string_view help,
                            uint64_t value);

}  // namespace lplex
