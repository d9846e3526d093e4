// Reads one TOML table into typed fields. Every accessor checks type and range itself and throws
// InputError at the offending node, so section code reads as a list of keys with their rules.
//
// The accessors never take a default: they leave `out` alone when the key is absent, so the struct's
// member initialiser (or the inherited [train] value) stays, and a present key of the wrong type is an
// error rather than silently ignored (the trap of toml++'s value_or).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ftbench::config::detail {

struct IntRange {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
};

// A finite number above `min` (or at it when min_inclusive) and below `max` (or at it when max_inclusive).
struct RealRange {
  double min = 0.0;
  bool min_inclusive = true;
  double max = std::numeric_limits<double>::infinity();
  bool max_inclusive = false;
};

// Keys that belong to another table, to suggest moving a key there ("did you mean 'train.lr'?").
struct KeyHome {
  std::string prefix;  // dotted name of the table: "train", "runs[0].train"
  std::string header;  // how the user writes its header: "[train]", "[runs.train]"
  const std::vector<std::string>* keys;
};

class TableReader {
 public:
  // `name`: the table's dotted name in messages ("train", "runs[1].train"; "" for the document root).
  // `header`: how the user writes the table ("[train]", "[[runs]]"), for "add ... under [train]".
  // `file`: the file path, for nodes without a position.
  TableReader(const toml::table& table, std::string name, std::string header, std::string file);

  // Throws for the first key that is not in `keys`: "did you mean" a close key of this table, else a key
  // of the same name in one of `homes`, else the list of valid keys.
  void reject_unknown_keys(const std::vector<std::string>& keys, const std::vector<KeyHome>& homes = {}) const;

  // Each read() returns whether the key is present, and fills `out` only then.
  bool read(const std::string& key, int64_t& out, IntRange range = {}) const;
  bool read(const std::string& key, double& out, RealRange range) const;
  bool read(const std::string& key, bool& out) const;
  bool read(const std::string& key, std::string& out) const;  // a non-empty string
  bool read_choice(const std::string& key, std::string& out, const std::vector<std::string>& choices) const;

  // The child table at `key`, or nullptr when absent; throws when present but not a table.
  const toml::table* table(const std::string& key) const;

  const toml::node* get(const std::string& key) const { return table_.get(key); }
  std::string dotted(const std::string& key) const { return name_.empty() ? key : name_ + "." + key; }
  std::string where(const toml::node& node) const;
  std::string where_header() const;
  // Where the entry `key` is: its value's position, or for a table that an override created (which has
  // none), the override that created it.
  std::string where_entry(const std::string& key) const;

  [[noreturn]] void fail_missing(const std::string& key, const std::string& example) const;
  // `fits` tells whether the value would be right without quotes, to suggest removing them.
  using NodeTest = bool (*)(const toml::node&);
  [[noreturn]] void fail_type(const std::string& key, const toml::node& node, const std::string& expected,
                              const std::string& example, NodeTest fits = nullptr) const;

  const std::string& file() const { return file_; }
  const std::string& name() const { return name_; }

 private:
  const toml::table& table_;
  std::string name_;
  std::string header_;
  std::string file_;
};

// The items as TOML strings, joined: "a", "b" or "c".
std::string join_quoted(const std::vector<std::string>& items);

// Throws "<at>: <name> must be one of \"a\" or \"b\", got \"c\"; did you mean ...".
[[noreturn]] void fail_choice(const std::string& at, const std::string& name, const std::string& got,
                              const std::vector<std::string>& choices);

// "did you mean \"x\"?" when one of `choices` is close to `got`, else "use one of ...".
std::string choices_hint(const std::string& got, const std::vector<std::string>& choices);

}  // namespace ftbench::config::detail
