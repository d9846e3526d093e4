// `ftbench report`: the comparison table, one row per configuration with mean ± std over its seeds.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "results/format.h"
#include "results/report.h"
#include "results/table.h"
#include "runner/base/error.h"
#include "runner/base/text.h"

namespace ftbench::results {
namespace {

using fmt::json;

struct MetricField {
  const char* name;
  double EpochRow::*field;
  bool higher_is_better;
  bool fraction;
};

const std::array<MetricField, 5> kMetrics{{
    {"test_acc", &EpochRow::test_acc, true, true},
    {"test_acc5", &EpochRow::test_acc5, true, true},
    {"train_acc", &EpochRow::train_acc, true, true},
    {"test_loss", &EpochRow::test_loss, false, false},
    {"train_loss", &EpochRow::train_loss, false, false},
}};

double EpochRow::*field_of(const Metric& metric) {
  for (const auto& m : kMetrics)
    if (metric.name == m.name) return m.field;
  throw InputError("unknown metric '" + metric.name + "'");
}

// One run's numbers; only for runs whose metric has a finite value in some epoch.
struct RunNumbers {
  double best, best_epoch, final, time_to_best_s, train_time_s, img_per_s, peak_memory_bytes;
};

std::optional<RunNumbers> run_numbers(const RunRecord& run, const Metric& metric) {
  const auto field = field_of(metric);
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < run.epochs.size(); ++i) {
    const double v = run.epochs[i].*field;
    if (!std::isfinite(v)) continue;
    const double b = best ? run.epochs[*best].*field : 0;
    if (!best || (metric.higher_is_better ? v > b : v < b)) best = i;  // the earliest on ties
  }
  if (!best) return std::nullopt;
  RunNumbers n{};
  n.best = run.epochs[*best].*field;
  n.best_epoch = static_cast<double>(run.epochs[*best].epoch);
  n.final = run.epochs.back().*field;
  double img_per_s = 0;
  int64_t peak = 0;
  for (std::size_t i = 0; i < run.epochs.size(); ++i) {
    const EpochRow& e = run.epochs[i];
    n.train_time_s += e.epoch_seconds;
    if (i <= *best) n.time_to_best_s += e.epoch_seconds;
    img_per_s += e.images_per_second;
    peak = std::max(peak, e.peak_memory_bytes);
  }
  n.img_per_s = img_per_s / static_cast<double>(run.epochs.size());
  // 0: not measured (a file written before peak_memory_bytes existed); left out of the mean.
  n.peak_memory_bytes = peak > 0 ? static_cast<double>(peak) : std::numeric_limits<double>::quiet_NaN();
  return n;
}

// Mean and sample standard deviation (n - 1) over the runs where the value is known (finite); std is absent
// for fewer than two values, both for none.
struct Stat {
  std::optional<double> mean, std;
};

Stat stat(const std::vector<RunNumbers>& runs, double RunNumbers::*field) {
  std::vector<double> values;
  for (const auto& r : runs)
    if (std::isfinite(r.*field)) values.push_back(r.*field);
  Stat s;
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  s.mean = mean;
  if (values.size() >= 2) {
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    s.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return s;
}

// "resnet18-lr0.05-s0" with seed 0 -> "resnet18-lr0.05": what the seeds of one configuration share.
std::string run_name(const RunInfo& info) {
  const std::string suffix = "-s" + std::to_string(info.seed);
  const std::string& id = info.run_id;
  if (id.size() > suffix.size() && id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0)
    return id.substr(0, id.size() - suffix.size());
  return id;
}

struct Group {
  std::string experiment, name, model, strategy, weights;
  int64_t params_total = 0, params_trainable = 0, epochs = 0, runs = 0;
  std::vector<int64_t> seeds;
  std::vector<std::string> files;
  std::vector<std::pair<std::string, int>> statuses;  // in order of first appearance
  std::vector<RunNumbers> numbers;                    // runs with a finite metric
  Stat best, best_epoch, final, time_to_best_s, train_time_s, img_per_s, peak_memory_bytes;

  bool same_configuration(const FileRecord& file, const RunInfo& info) const {
    return experiment == file.info.experiment && name == run_name(info) && model == info.model &&
           strategy == info.strategy && weights == info.weights;
  }
};

std::vector<Group> group_runs(const std::vector<FileRecord>& files, const Metric& metric) {
  std::vector<Group> groups;
  for (const auto& file : files) {
    for (const auto& run : file.runs) {
      const RunInfo& info = run.info;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const Group& g) { return g.same_configuration(file, info); });
      if (it == groups.end()) {
        Group g;
        g.experiment = file.info.experiment;
        g.name = run_name(info);
        g.model = info.model;
        g.strategy = info.strategy;
        g.weights = info.weights;
        g.params_total = info.params_total;
        g.params_trainable = info.params_trainable;
        groups.push_back(std::move(g));
        it = std::prev(groups.end());
      }
      Group& g = *it;
      ++g.runs;
      g.seeds.push_back(info.seed);
      g.epochs = std::max<int64_t>(g.epochs, static_cast<int64_t>(run.epochs.size()));
      if (std::find(g.files.begin(), g.files.end(), file.path) == g.files.end()) g.files.push_back(file.path);
      const std::string status = to_string(info.status);
      auto s = std::find_if(g.statuses.begin(), g.statuses.end(), [&](const auto& p) { return p.first == status; });
      if (s == g.statuses.end()) g.statuses.emplace_back(status, 1);
      else ++s->second;
      if (auto numbers = run_numbers(run, metric)) g.numbers.push_back(*numbers);
    }
  }
  for (Group& g : groups) {
    g.best = stat(g.numbers, &RunNumbers::best);
    g.best_epoch = stat(g.numbers, &RunNumbers::best_epoch);
    g.final = stat(g.numbers, &RunNumbers::final);
    g.time_to_best_s = stat(g.numbers, &RunNumbers::time_to_best_s);
    g.train_time_s = stat(g.numbers, &RunNumbers::train_time_s);
    g.img_per_s = stat(g.numbers, &RunNumbers::img_per_s);
    g.peak_memory_bytes = stat(g.numbers, &RunNumbers::peak_memory_bytes);
  }
  // Best first; rows without a value last; equal rows keep file and creation order.
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
    if (!a.best.mean || !b.best.mean) return a.best.mean.has_value() && !b.best.mean.has_value();
    return metric.higher_is_better ? *a.best.mean > *b.best.mean : *a.best.mean < *b.best.mean;
  });
  return groups;
}

std::string status_text(const Group& g) {
  std::string out;
  for (const auto& [status, n] : g.statuses) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  return out;
}

json value(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json row_object(const Group& g, const Metric& metric) {
  json o{{"experiment", g.experiment},
         {"name", g.name},
         {"model", g.model},
         {"strategy", g.strategy},
         {"weights", g.weights},
         {"params", g.params_total},
         {"params_trainable", g.params_trainable},
         {"epochs", g.epochs},
         {"metric", metric.name},
         {"n", g.numbers.size()},
         {"runs", g.runs},
         {"seeds", g.seeds},
         {"status", status_text(g)}};
  const std::pair<const char*, const Stat*> stats[] = {
      {"best", &g.best},
      {"best_epoch", &g.best_epoch},
      {"final", &g.final},
      {"time_to_best_s", &g.time_to_best_s},
      {"train_time_s", &g.train_time_s},
      {"img_per_s", &g.img_per_s},
      {"peak_memory_bytes", &g.peak_memory_bytes},
  };
  for (const auto& [key, s] : stats) {
    o[key] = value(s->mean);
    o[std::string(key) + "_std"] = value(s->std);
  }
  o["files"] = g.files;
  return o;
}

// "93.12% ± 0.40%", or "93.12%" for a single run, or "-" for none.
template <typename Format>
std::string with_std(const Stat& s, Format&& format) {
  if (!s.mean) return "-";
  return s.std ? format(*s.mean) + " ± " + format(*s.std) : format(*s.mean);
}

std::vector<std::string> markdown_row(const Group& g, const Metric& metric) {
  const auto value_text = [&](double v) { return metric.fraction ? fmt::percent(v) : fmt::fixed(v, 4); };
  const auto seconds = [](double v) { return fmt::fixed(v, 1); };
  const bool several = g.numbers.size() > 1;
  return {g.experiment,
          g.name,
          g.model,
          g.strategy,
          g.weights,
          fmt::count(g.params_total),
          fmt::count(g.params_trainable),
          std::to_string(g.numbers.size()),
          with_std(g.best, value_text),
          with_std(g.best_epoch, [&](double v) { return several ? fmt::fixed(v, 1) : fmt::fixed(v, 0); }),
          with_std(g.final, value_text),
          with_std(g.time_to_best_s, seconds),
          with_std(g.train_time_s, seconds),
          with_std(g.img_per_s, seconds),
          with_std(g.peak_memory_bytes, [](double v) { return fmt::bytes(v); }),
          status_text(g)};
}

}  // namespace

Metric parse_metric(const std::string& text) {
  for (const auto& m : kMetrics)
    if (text == m.name) return {m.name, m.higher_is_better, m.fraction};
  std::vector<std::string> names;
  for (const auto& m : kMetrics) names.emplace_back(m.name);
  const std::string guess = closest_match(text, names);
  throw InputError("unknown metric '" + text + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                   "; expected " + join_alternatives(names));
}

std::string format_comparison(const std::vector<FileRecord>& files, Format format, const Metric& metric) {
  const std::vector<Group> groups = group_runs(files, metric);
  if (format == Format::kJson) {
    json out = json::array();
    for (const auto& g : groups) out.push_back(row_object(g, metric));
    return out.dump(2) + "\n";
  }
  Table table;
  if (format == Format::kCsv) {
    const json header = row_object(Group{}, metric);
    for (const auto& item : header.items()) table.columns.push_back({item.key(), false});
    for (const auto& g : groups) table.rows.push_back(fmt::csv_row(row_object(g, metric)));
    return to_csv(table);
  }
  const std::string m = metric.name;
  const std::vector<std::pair<std::string, bool>> columns = {
      {"experiment", false}, {"name", false},        {"model", false},         {"strategy", false},
      {"weights", false},    {"params", true},       {"trainable", true},      {"n", true},
      {"best " + m, true},   {"best epoch", true},   {"final " + m, true},     {"time to best s", true},
      {"train time s", true}, {"img/s", true},       {"peak memory", true},    {"status", false}};
  for (const auto& [name, numeric] : columns) table.columns.push_back({name, numeric});
  for (const auto& g : groups) table.rows.push_back(markdown_row(g, metric));
  return to_markdown(table);
}

}  // namespace ftbench::results
