// lplex: the command-line tool for journals and captures.
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) { return lplex::cli::RunMain(argc, argv, stdout, stderr); }
