#include "results/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "results/format.h"
#include "results/table.h"
#include "runner/base/error.h"
#include "runner/base/text.h"

namespace ftbench::results {
namespace {

using fmt::json;

// One run's line in the report, computed once for all three formats.
struct Summary {
  const FileRecord* file;
  const RunRecord* run;
  std::optional<std::size_t> best;  // the epoch with the highest test accuracy (earliest on ties), if any
  double train_time_s = 0;
  std::optional<double> img_per_s;
};

Summary summarise(const FileRecord& file, const RunRecord& run) {
  Summary s{&file, &run, std::nullopt, 0, std::nullopt};
  double images_per_second = 0;
  for (std::size_t i = 0; i < run.epochs.size(); ++i) {
    const EpochRow& e = run.epochs[i];
    // NaN never compares, so it can neither be the best nor be skipped over by the sort below.
    if (!std::isnan(e.test_acc) && (!s.best || e.test_acc > run.epochs[*s.best].test_acc)) s.best = i;
    s.train_time_s += e.epoch_seconds;
    images_per_second += e.images_per_second;
  }
  if (!run.epochs.empty()) s.img_per_s = images_per_second / static_cast<double>(run.epochs.size());
  return s;
}

using fmt::fixed;
using fmt::percent;
using fmt::significant;
using fmt::csv_row;

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

const std::vector<std::string> kReportKeys = {"experiment", "run", "model", "strategy", "seed", "params", "status",
                                              "epochs", "best_test_acc", "best_epoch", "final_test_acc",
                                              "train_time_s", "img_per_s", "file"};

json report_object(const Summary& s) {
  const RunInfo& info = s.run->info;
  const auto& epochs = s.run->epochs;
  return json{{"experiment", s.file->info.experiment},
              {"run", info.run_id},
              {"model", info.model},
              {"strategy", info.strategy},
              {"seed", info.seed},
              {"params", info.params_trainable},
              {"status", to_string(info.status)},
              {"epochs", epochs.size()},
              {"best_test_acc", s.best ? json(epochs[*s.best].test_acc) : json(nullptr)},
              {"best_epoch", s.best ? json(epochs[*s.best].epoch) : json(nullptr)},
              {"final_test_acc", epochs.empty() ? json(nullptr) : json(epochs.back().test_acc)},
              {"train_time_s", s.train_time_s},
              {"img_per_s", or_null(s.img_per_s)},
              {"file", s.file->path}};
}

std::vector<std::string> report_markdown_row(const Summary& s) {
  const RunInfo& info = s.run->info;
  const auto& epochs = s.run->epochs;
  const std::string none = "-";
  return {s.file->info.experiment,
          info.run_id,
          info.model,
          info.strategy,
          std::to_string(info.seed),
          fmt::count(info.params_trainable),
          to_string(info.status),
          std::to_string(epochs.size()),
          s.best ? percent(epochs[*s.best].test_acc) : none,
          s.best ? std::to_string(epochs[*s.best].epoch) : none,
          epochs.empty() ? none : percent(epochs.back().test_acc),
          fixed(s.train_time_s, 1),
          s.img_per_s ? fixed(*s.img_per_s, 1) : none};
}

Table::Column column(const std::string& name) {
  static const std::vector<std::string> text = {"experiment", "run", "model", "strategy", "status", "file"};
  return {name, std::find(text.begin(), text.end(), name) == text.end()};
}

}  // namespace

Format parse_format(const std::string& text) {
  if (text == "md" || text == "markdown") return Format::kMarkdown;
  if (text == "csv") return Format::kCsv;
  if (text == "json") return Format::kJson;
  throw InputError("unknown report format '" + text + "'; expected " + join_alternatives({"md", "csv", "json"}));
}

std::string format_report(const std::vector<FileRecord>& files, Format format) {
  std::vector<Summary> rows;
  for (const auto& file : files)
    for (const auto& run : file.runs) rows.push_back(summarise(file, run));
  // Best first; runs without epochs last; equal runs keep file and creation order.
  std::stable_sort(rows.begin(), rows.end(), [](const Summary& a, const Summary& b) {
    if (!a.best || !b.best) return a.best.has_value() && !b.best.has_value();
    return a.run->epochs[*a.best].test_acc > b.run->epochs[*b.best].test_acc;
  });

  if (format == Format::kJson) {
    json out = json::array();
    for (const auto& s : rows) out.push_back(report_object(s));
    return out.dump(2) + "\n";
  }
  Table table;
  const bool markdown = format == Format::kMarkdown;
  for (const auto& key : kReportKeys)
    if (!markdown || key != "file") table.columns.push_back(column(key));
  for (const auto& s : rows) table.rows.push_back(markdown ? report_markdown_row(s) : csv_row(report_object(s)));
  return markdown ? to_markdown(table) : to_csv(table);
}

namespace {

const std::vector<std::string> kEpochKeys = {
    "epoch",        "train_loss",      "train_acc",    "test_loss", "test_acc",          "test_acc5",
    "lr",           "seconds",         "data_seconds", "compute_seconds", "comm_seconds", "img_per_s",
    "peak_memory_bytes", "comm_bytes", "trainable_params"};

json epoch_object(const FileRecord& file, const RunRecord& run, const EpochRow& e) {
  return json{{"experiment", file.info.experiment},
              {"run", run.info.run_id},
              {"epoch", e.epoch},
              {"train_loss", e.train_loss},
              {"train_acc", e.train_acc},
              {"test_loss", e.test_loss},
              {"test_acc", e.test_acc},
              {"test_acc5", e.test_acc5},
              {"lr", e.lr},
              {"seconds", e.epoch_seconds},
              {"data_seconds", e.data_seconds},
              {"compute_seconds", e.compute_seconds},
              {"comm_seconds", e.comm_seconds},
              {"img_per_s", e.images_per_second},
              {"peak_memory_bytes", e.peak_memory_bytes},
              {"comm_bytes", e.comm_bytes},
              {"trainable_params", e.trainable_params}};
}

std::vector<std::string> epoch_markdown_row(const EpochRow& e) {
  return {std::to_string(e.epoch),
          fixed(e.train_loss, 4),
          percent(e.train_acc),
          fixed(e.test_loss, 4),
          percent(e.test_acc),
          percent(e.test_acc5),
          significant(e.lr, 4),
          fixed(e.epoch_seconds, 1),
          fixed(e.data_seconds, 2),
          fixed(e.compute_seconds, 2),
          fixed(e.comm_seconds, 2),
          fixed(e.images_per_second, 1),
          fmt::bytes(static_cast<double>(e.peak_memory_bytes)),
          fmt::bytes(static_cast<double>(e.comm_bytes)),
          fmt::count(e.trainable_params)};
}

InputError unknown_run(const std::vector<FileRecord>& files, const std::string& run_id) {
  std::vector<std::string> paths, ids;
  for (const auto& file : files) {
    paths.push_back(file.path);
    for (const auto& run : file.runs)
      if (std::find(ids.begin(), ids.end(), run.info.run_id) == ids.end()) ids.push_back(run.info.run_id);
  }
  std::string message = "no run '" + run_id + "' in " + (paths.empty() ? "the files given" : paths.front());
  for (std::size_t i = 1; i < paths.size(); ++i) message += ", " + paths[i];
  if (ids.empty()) return InputError(message + "; they hold no runs yet");
  const std::string guess = closest_match(run_id, ids);
  if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
  message += "; runs there: ";
  for (std::size_t i = 0; i < ids.size(); ++i) message += (i ? ", " : "") + ids[i];
  return InputError(message);
}

}  // namespace

// A run id may appear in several files (two experiments both run resnet18-full-s0): every match is shown,
// each Markdown table under its own heading, CSV and JSON rows tagged with experiment and run.
std::string format_epochs(const std::vector<FileRecord>& files, const std::string& run_id, Format format) {
  std::vector<std::pair<const FileRecord*, const RunRecord*>> matches;
  for (const auto& file : files)
    for (const auto& run : file.runs)
      if (run.info.run_id == run_id) matches.emplace_back(&file, &run);
  if (matches.empty()) throw unknown_run(files, run_id);

  if (format == Format::kMarkdown) {
    std::string out;
    for (const auto& [file, run] : matches) {
      Table table;
      for (const auto& key : kEpochKeys) table.columns.push_back({key, true});
      for (const auto& e : run->epochs) table.rows.push_back(epoch_markdown_row(e));
      out += (out.empty() ? "" : "\n") + std::string("### ") + file->info.experiment + " / " + run_id + " (" +
             file->path + ", " + to_string(run->info.status) + ")\n\n" + to_markdown(table);
    }
    return out;
  }
  json rows = json::array();
  for (const auto& [file, run] : matches)
    for (const auto& e : run->epochs) rows.push_back(epoch_object(*file, *run, e));
  if (format == Format::kJson) return rows.dump(2) + "\n";
  Table table;
  for (const auto& key : {"experiment", "run"}) table.columns.push_back({key, false});
  for (const auto& key : kEpochKeys) table.columns.push_back({key, true});
  for (const auto& row : rows) table.rows.push_back(csv_row(row));
  return to_csv(table);
}

}  // namespace ftbench::results
