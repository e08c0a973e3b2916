// Whole-file reads and writes for tests that look at what a command left on
// disk (or put input there), byte for byte.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace lplex::testing {

// The file's bytes; "" when it cannot be opened (a test then fails on the
// content it expected, naming the file).
inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace lplex::testing
