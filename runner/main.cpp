// ftbench: the executable. Everything it does lives in runner/cli (one file per subcommand).
#include "runner/cli/commands.h"  // ftbench::cli::main: parse, dispatch, map errors to exit codes

int main(int argc, char** argv) { return ftbench::cli::main(argc, argv); }
