// lplex-server: the boat daemon (docs/server.md).
#include <cstdio>
#include <string>
#include <vector>

#include "server_main.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return lplex::server::ServerMain(args, stdout, stderr);
}
