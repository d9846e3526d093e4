// ftbench data synth --out DIR [--train N] [--test M] [--seed S]
#include <cstdio>
#include <memory>

#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/data/cifar10.h"

namespace ftbench::cli {
namespace {

struct SynthCommandOptions {
  std::string out;
  int64_t train = 5000;
  int64_t test = 1000;
  uint64_t seed = 0;
};

}  // namespace

Command add_data_command(CLI::App& app) {
  auto options = std::make_shared<SynthCommandOptions>();
  CLI::App* cmd = app.add_subcommand("data", "Datasets");
  cmd->require_subcommand(1);
  CLI::App* synth = cmd->add_subcommand(
      "synth", "Write a synthetic, learnable 10-class dataset in the CIFAR-10 binary layout (no download)");
  synth->add_option("--out", options->out, "Output directory")->required();
  synth->add_option("--train", options->train, "Training images (default 5000)")->check(CLI::Range(1, 50000000));
  synth->add_option("--test", options->test, "Test images (default 1000)")->check(CLI::Range(1, 10000000));
  synth->add_option("--seed", options->seed, "Generator seed (default 0)");

  return {cmd, [options](int, char**) {
            data::write_synthetic(options->out, {options->train, options->test, options->seed});
            std::printf("wrote %lld training and %lld test images (seed %llu) to %s\n",
                        static_cast<long long>(options->train), static_cast<long long>(options->test),
                        static_cast<unsigned long long>(options->seed), options->out.c_str());
            return 0;
          }};
}

}  // namespace ftbench::cli
