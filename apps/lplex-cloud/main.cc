// lplex-cloud: the cloud daemon (docs/cloud.md "Running lplex-cloud").
#include <cstdio>
#include <string>
#include <vector>

#include "cloud_main.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return lplex::cloud_app::CloudMain(args, stdout, stderr);
}
