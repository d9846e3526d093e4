#include "runner/config/runs.h"

#include <algorithm>
#include <map>

#include "runner/config/diagnostics.h"  // fail, describe
#include "runner/config/literals.h"     // toml_string
#include "runner/config/schema.h"       // key lists and enumerations
#include "runner/config/sections.h"     // read_train, homes_except

namespace ftbench::config::detail {
namespace {

// Where each run id was first defined, to name both places when one repeats.
class RunIds {
 public:
  void add(const RunSpec& run, const std::string& at) {
    const auto [it, inserted] = first_.emplace(run.id, at);
    if (!inserted) {
      fail(at, "run '" + run.id + "' is defined twice (first at " + it->second +
                   "); change the model, strategy or seed of one of them, or give each [[runs]] its own name");
    }
  }

 private:
  std::map<std::string, std::string> first_;
};

void check_model(const TableReader& table, const toml::node& node, const std::string& name,
                 const ParseOptions& options) {
  const std::string model = *node.value<std::string>();
  const auto& known = options.known_models;
  if (std::find(known.begin(), known.end(), model) != known.end()) return;
  if (known.empty()) {
    fail(table.where(node), "unknown model " + toml_string(model) + " in " + name + "; no models are registered");
  }
  std::string hint = choices_hint(model, known);
  if (hint.rfind("did you mean", 0) == 0) hint += " (known models: " + join_quoted(known) + ")";
  fail(table.where(node), "unknown model " + toml_string(model) + " in " + name + "; " + hint);
}

// A strategy: one of kStrategies, or "freeze:<stage>" with a stage that every model in `models` has (when
// the caller told us the models' stages) and that leaves something to train.
void check_strategy(const TableReader& table, const toml::node& node, const std::string& name,
                    const std::vector<std::string>& models, const ParseOptions& options) {
  const std::string strategy = *node.value<std::string>();
  if (std::find(kStrategies.begin(), kStrategies.end(), strategy) != kStrategies.end()) return;
  if (strategy.rfind(kFreezePrefix, 0) != 0) {
    std::vector<std::string> all = kStrategies;
    all.push_back("freeze:<stage>");
    fail_choice(table.where(node), name, strategy, all);
  }
  const std::string stage = strategy.substr(kFreezePrefix.size());
  for (const auto& model : models) {
    const auto it = options.model_stages.find(model);
    if (it == options.model_stages.end()) continue;
    const std::vector<std::string>& stages = it->second;
    const auto found = std::find(stages.begin(), stages.end(), stage);
    if (found == stages.end()) {
      std::string hint = choices_hint(stage, stages);
      fail(table.where(node), name + " = " + toml_string(strategy) + ": " + model + " has no stage " +
                                  toml_string(stage) + "; " + hint + " (" + model + "'s stages, input to output: " +
                                  join_quoted(stages) + ")");
    }
    if (found + 1 == stages.end()) {
      fail(table.where(node), name + " = " + toml_string(strategy) + " freezes every stage of " + model +
                                  ", so nothing would train; freeze an earlier stage, or use \"linear_probe\" "
                                  "to train only the head");
    }
  }
}

// A non-empty array of distinct strings, each checked by `check`.
template <typename Check>
std::vector<std::string> read_names(const TableReader& table, const std::string& key, const std::string& example,
                                    Check check) {
  const toml::node* node = table.get(key);
  if (!node->is_array()) table.fail_type(key, *node, "an array of strings", key + " = " + example);
  const toml::array& items = *node->as_array();
  if (items.empty()) fail(table.where(*node), table.dotted(key) + " must not be empty; e.g. " + key + " = " + example);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string name = table.dotted(key) + "[" + std::to_string(i) + "]";
    if (!items[i].is_string()) {
      fail(table.where(items[i]),
           name + " must be a string, got " + describe(items[i]) + "; e.g. " + key + " = " + example);
    }
    const std::string value = *items[i].value<std::string>();
    check(items[i], name);
    if (std::find(names.begin(), names.end(), value) != names.end()) {
      fail(table.where(items[i]), table.dotted(key) + " lists " + toml_string(value) + " twice; remove the duplicate");
    }
    names.push_back(value);
  }
  return names;
}

// `weights`: "none", "torchvision", or a path (any other non-empty string; whether the file exists and
// fits is checked once the launch knows the model registry and the rank that reads it).
void read_weights(const TableReader& table, std::string& weights, bool& strict) {
  if (table.get("weights") != nullptr) {
    const toml::node& node = *table.get("weights");
    if (!node.is_string() || node.value<std::string>()->empty()) {
      table.fail_type("weights", node, "\"none\", \"torchvision\" or the path of a weights file",
                      "weights = \"torchvision\"");
    }
    weights = *node.value<std::string>();
  }
  table.read("strict_weights", strict);
}

Matrix read_matrix(const TableReader& matrix, const ParseOptions& options) {
  matrix.reject_unknown_keys(kMatrixKeys, homes_except("matrix"));
  Matrix out;
  if (matrix.get("models") == nullptr) matrix.fail_missing("models", "[\"resnet18\"]");
  out.models = read_names(matrix, "models", "[\"resnet18\"]", [&](const toml::node& node, const std::string&) {
    check_model(matrix, node, "matrix.models", options);
  });
  if (matrix.get("strategies") != nullptr) {
    out.strategies =
        read_names(matrix, "strategies", "[\"full\"]", [&](const toml::node& node, const std::string& name) {
          check_strategy(matrix, node, name, out.models, options);
        });
  }
  read_weights(matrix, out.weights, out.strict_weights);
  return out;
}

void expand_matrix(const Matrix& matrix, const TableReader& table, Experiment& experiment) {
  RunIds ids;
  const toml::array& models = *table.get("models")->as_array();
  for (std::size_t m = 0; m < matrix.models.size(); ++m) {
    for (const auto& strategy : matrix.strategies) {
      for (const int64_t seed : experiment.seeds) {
        RunSpec run;
        run.model = matrix.models[m];
        run.strategy = strategy;
        run.weights = matrix.weights;
        run.strict_weights = matrix.strict_weights;
        run.seed = seed;
        run.id = make_run_id(run.model, run.strategy, run.seed);
        run.train = experiment.train;
        ids.add(run, table.where(models[m]));
        experiment.runs.push_back(std::move(run));
      }
    }
  }
}

// One [[runs]] table: one run, or one per experiment seed when it gives no seed.
void read_run(const TableReader& table, const ParseOptions& options, RunIds& ids, Experiment& experiment) {
  table.reject_unknown_keys(kRunKeys, {KeyHome{table.name() + ".train", "[runs.train]", &kTrainKeys}});
  RunSpec run;
  if (table.read("name", run.name)) {
    const bool safe = !run.name.empty() && std::all_of(run.name.begin(), run.name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
             c == '-';
    });
    if (!safe) {
      fail(table.where(*table.get("name")), table.dotted("name") + " must be a non-empty run name of letters, digits, "
                                            "'_', '.' and '-', got " + toml_string(run.name) +
                                            "; e.g. name = \"resnet18-lr0.01\"");
    }
  }
  if (!table.read("model", run.model)) table.fail_missing("model", "\"resnet18\"");
  check_model(table, *table.get("model"), table.dotted("model"), options);
  run.strategy = "full";
  if (table.read("strategy", run.strategy)) {
    check_strategy(table, *table.get("strategy"), table.dotted("strategy"), {run.model}, options);
  }
  run.weights = "none";
  read_weights(table, run.weights, run.strict_weights);
  run.train = experiment.train;
  if (const toml::table* train = table.table("train")) {
    const TableReader overrides(*train, table.name() + ".train", "[runs.train]", table.file());
    overrides.reject_unknown_keys(kTrainKeys);
    read_train(overrides, run.train);
  }
  std::vector<int64_t> seeds = experiment.seeds;
  int64_t seed = 0;
  if (table.read("seed", seed)) seeds = {seed};
  for (const int64_t s : seeds) {
    RunSpec one = run;
    one.seed = s;
    one.id = one.name.empty() ? make_run_id(one.model, one.strategy, one.seed)
                              : one.name + "-s" + std::to_string(one.seed);
    ids.add(one, table.where_header());
    experiment.runs.push_back(std::move(one));
  }
}

void read_explicit_runs(const TableReader& root, const toml::node& node, const ParseOptions& options,
                        Experiment& experiment) {
  const std::string hint = "write each run as a [[runs]] table (double brackets) with model = \"resnet18\"";
  if (!node.is_array()) root.fail_type("runs", node, "an array of tables", "[[runs]]");
  const toml::array& runs = *node.as_array();
  if (runs.empty()) fail(root.where(node), "runs must not be empty; " + hint);
  RunIds ids;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string name = "runs[" + std::to_string(i) + "]";
    if (!runs[i].is_table())
      fail(root.where(runs[i]), name + " must be a table, got " + describe(runs[i]) + "; " + hint);
    read_run(TableReader(*runs[i].as_table(), name, "[[runs]]", root.file()), options, ids, experiment);
  }
}

}  // namespace

std::optional<Matrix> read_runs(const TableReader& root, const ParseOptions& options, Experiment& experiment) {
  const toml::table* matrix = root.table("matrix");
  const toml::node* runs = root.get("runs");
  if (matrix != nullptr && runs != nullptr) {
    const toml::node& first = runs->is_array() && !runs->as_array()->empty() ? (*runs->as_array())[0] : *runs;
    fail(root.where(first), "both [matrix] (at " + root.where_entry("matrix") +
                                ") and [[runs]] are given; use [matrix] for a cross product of models, strategies "
                                "and seeds, or [[runs]] for explicit runs, not both");
  }
  if (matrix == nullptr && runs == nullptr) {
    fail(root.file() + ":1:1",
         "no runs: the file has neither [matrix] nor [[runs]]; add [matrix] with "
         "models = [\"resnet18\"], or [[runs]] tables");
  }
  if (runs != nullptr) {
    read_explicit_runs(root, *runs, options, experiment);
    return std::nullopt;
  }
  const TableReader table(*matrix, "matrix", "[matrix]", root.file());
  Matrix out = read_matrix(table, options);
  expand_matrix(out, table, experiment);
  return out;
}

}  // namespace ftbench::config::detail
