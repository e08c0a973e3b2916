// Runs a function that writes to two FILE* streams (a CLI command's stdout
// and stderr) and returns its exit code with both streams as strings.
#pragma once

#include <cstdio>
#include <string>

namespace lplex::testing {

struct Captured {
  int rc = 0;
  std::string out;
  std::string err;
};

inline std::string SlurpAndClose(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

// fn(FILE* out, FILE* err) -> int
template <typename Fn>
Captured Capture(Fn fn) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const int rc = fn(out, err);
  return {rc, SlurpAndClose(out), SlurpAndClose(err)};
}

}  // namespace lplex::testing
