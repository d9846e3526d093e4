// Readers for the single-instance tables: [experiment], [data] and [train] (also used for [runs.train]).
#pragma once

#include <toml++/toml.h>

#include <string>

#include "runner/config/config.h"        // Experiment, DataConfig, TrainConfig
#include "runner/config/table_reader.h"  // TableReader, KeyHome

namespace ftbench::config::detail {

// Reads [experiment]; throws when it or its name is missing. `file_was_empty` picks the clearer message
// for an empty file.
void read_experiment(const TableReader& root, bool file_was_empty, Experiment& out);

// Reads [data] when present; otherwise `out` keeps its defaults.
void read_data(const TableReader& root, DataConfig& out);

// Reads the train keys of `table` over `out`: [train] over the defaults, or [runs.train] over [train].
void read_train(const TableReader& table, TrainConfig& out);

// Reads [weights] (its `dir`) when present.
void read_weights_table(const TableReader& root, std::string& dir);

// Reads [dist] when present.
void read_dist(const TableReader& root, DistConfig& out);

// The other top-level tables whose keys a misplaced key in `table` might belong to.
std::vector<KeyHome> homes_except(const std::string& table);

}  // namespace ftbench::config::detail
