// scripts/fetch_weights.sh downloads, for every registry model, exactly the file the registry expects
// (cli_test.py checks the same table against torchvision's own URLs).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "runner/models/registry.h"

namespace ftbench {
namespace {

TEST(FetchWeightsTable, MatchesTheRegistry) {
  const char* source = std::getenv("FTBENCH_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "FTBENCH_SOURCE_DIR is not set (CTest sets it)";
  const std::string command = std::string("bash ") + source + "/scripts/fetch_weights.sh --list";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::map<std::string, std::pair<std::string, std::string>> table;  // model -> (file, url)
  char line[1024];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::istringstream in(line);
    std::string model, file, url;
    in >> model >> file >> url;
    table[model] = {file, url};
  }
  ASSERT_EQ(::pclose(pipe), 0);
  for (const auto& entry : models::all_models()) {
    if (entry.weights_file.empty()) continue;
    ASSERT_TRUE(table.count(entry.name)) << "fetch_weights.sh has no entry for " << entry.name;
    EXPECT_EQ(table[entry.name].first, entry.weights_file) << entry.name;
    EXPECT_EQ(table[entry.name].second, "https://download.pytorch.org/models/" + entry.weights_file) << entry.name;
  }
}

}  // namespace
}  // namespace ftbench
