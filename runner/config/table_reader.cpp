#include "runner/config/table_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <tuple>

#include "runner/base/text.h"           // closest_match, join_alternatives
#include "runner/config/diagnostics.h"  // where, fail, describe
#include "runner/config/literals.h"     // toml_string, toml_float, toml_bool
#include "runner/config/overrides.h"    // is_override_source
#include "runner/config/schema.h"       // kKeyAliases

namespace ftbench::config::detail {
namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// "0", "0.5", "1": range bounds read better without TOML's mandatory ".0".
std::string plain_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string describe_range(const RealRange& range) {
  std::string text = "a finite number";
  if (std::isfinite(range.min)) text += (range.min_inclusive ? " >= " : " > ") + plain_number(range.min);
  if (std::isfinite(range.max)) {
    text += std::string(std::isfinite(range.min) ? " and " : " ") + (range.max_inclusive ? "<= " : "< ") +
            plain_number(range.max);
  }
  return text;
}

bool in_range(double value, const RealRange& range) {
  if (!std::isfinite(value)) return false;
  if (range.min_inclusive ? value < range.min : value <= range.min) return false;
  if (range.max_inclusive ? value > range.max : value >= range.max) return false;
  return true;
}

// A quoted value that would be right without its quotes ("0.1" for a number): the node it parses to.
std::optional<toml::table> unquoted(const toml::node& node) {
  if (!node.is_string()) return std::nullopt;
  try {
    toml::table doc = toml::parse(std::string_view("v = " + *node.value<std::string>()));
    if (doc.size() == 1 && doc.contains("v")) return doc;
  } catch (const toml::parse_error&) {
  }
  return std::nullopt;
}

// A close key of `keys` ("learnin_rate"), or the key a well-known other spelling means ("learning_rate").
std::string suggest_key(const std::string& key, const std::vector<std::string>& keys) {
  if (std::string close = closest_match(key, keys); !close.empty()) return close;
  for (const auto& [alias, meant] : kKeyAliases) {
    if (alias == key && contains(keys, meant)) return meant;
  }
  return "";
}

}  // namespace

std::string join_quoted(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& item : items) quoted.push_back(toml_string(item));
  return join_alternatives(quoted);
}

std::string choices_hint(const std::string& got, const std::vector<std::string>& choices) {
  const std::string close = closest_match(got, choices);
  if (!close.empty()) return "did you mean " + toml_string(close) + "?";
  return "use " + (choices.size() > 1 ? "one of " : std::string()) + join_quoted(choices);
}

void fail_choice(const std::string& at, const std::string& name, const std::string& got,
                 const std::vector<std::string>& choices) {
  fail(at, name + " must be " + (choices.size() > 1 ? "one of " : "") + join_quoted(choices) + ", got " +
               toml_string(got) + "; " + choices_hint(got, choices));
}

TableReader::TableReader(const toml::table& table, std::string name, std::string header, std::string file)
    : table_(table), name_(std::move(name)), header_(std::move(header)), file_(std::move(file)) {}

std::string TableReader::where(const toml::node& node) const { return detail::where(node.source(), file_); }

std::string TableReader::where_header() const { return detail::where(table_.source(), file_); }

std::string TableReader::where_entry(const std::string& key) const {
  const auto it = table_.find(key);
  if (it == table_.end()) return where_header();
  const bool positioned = it->second.source().begin.line != 0;
  return detail::where(positioned ? it->second.source() : it->first.source(), file_);
}

void TableReader::reject_unknown_keys(const std::vector<std::string>& keys, const std::vector<KeyHome>& homes) const {
  // toml++ iterates keys alphabetically; report the unknown key that comes first in the file (then the
  // overrides, which are applied after it), as a reader scanning the file would meet them.
  const toml::key* first = nullptr;
  const auto order = [](const toml::key& k) {
    const toml::source_region& region = k.source();
    return std::make_tuple(region.path && is_override_source(*region.path), region.begin.line, region.begin.column);
  };
  for (auto&& [key_node, node] : table_) {
    if (!contains(keys, std::string(key_node.str())) && (first == nullptr || order(key_node) < order(*first))) {
      first = &key_node;
    }
  }
  if (first != nullptr) {
    const toml::key& key_node = *first;
    const toml::node& node = *table_.get(key_node.str());
    const std::string key(key_node.str());
    const std::string at = detail::where(key_node.source(), file_);
    // Top-level tables are written [name]; anything deeper is named by its dotted path.
    const bool is_table = node.is_table();
    const auto spell = [&](const std::string& dotted_name) {
      return is_table && name_.empty() ? "[" + dotted_name + "]" : "'" + dotted_name + "'";
    };
    const std::string what = std::string(is_table ? "unknown table " : "unknown key ") + spell(dotted(key));
    if (const std::string close = suggest_key(key, keys); !close.empty()) {
      fail(at, what + "; did you mean " + spell(dotted(close)) + "?");
    }
    for (const auto& home : homes) {
      if (contains(*home.keys, key)) {
        fail(at, what + "; did you mean '" + home.prefix + "." + key + "'? (move it under " + home.header + ")");
      }
    }
    const std::string where_text = name_.empty() ? "valid tables are " : "valid keys in " + header_ + " are ";
    fail(at, what + "; " + where_text + join_alternatives(keys, " and "));
  }
}

bool TableReader::read(const std::string& key, int64_t& out, IntRange range) const {
  const toml::node* node = get(key);
  if (node == nullptr) return false;
  if (!node->is_integer()) {
    fail_type(key, *node, "an integer", key + " = " + std::to_string(out),
              [](const toml::node& bare) { return bare.is_integer(); });
  }
  const int64_t value = *node->value<int64_t>();
  const bool bounded = range.max != std::numeric_limits<int64_t>::max();
  const std::string hint = bounded
                               ? "use a value from " + std::to_string(range.min) + " to " + std::to_string(range.max)
                               : "e.g. " + key + " = " + std::to_string(out);
  if (value < range.min) {
    fail(where(*node), dotted(key) + " must be an integer >= " + std::to_string(range.min) + ", got " +
                           std::to_string(value) + "; " + hint);
  }
  if (value > range.max) {
    fail(where(*node), dotted(key) + " must be an integer <= " + std::to_string(range.max) + ", got " +
                           std::to_string(value) + "; " + hint);
  }
  out = value;
  return true;
}

bool TableReader::read(const std::string& key, double& out, RealRange range) const {
  const toml::node* node = get(key);
  if (node == nullptr) return false;
  // Integers are accepted where a number is expected: "lr = 1" means 1.0.
  if (!node->is_number()) {
    fail_type(key, *node, "a number", key + " = " + toml_float(out),
              [](const toml::node& bare) { return bare.is_number(); });
  }
  // toml++'s value<double>() is empty for an integer a double cannot hold exactly (above 2^53), so integers
  // are converted here: 2^62 is then a number out of range, not an empty optional.
  const double value = node->is_integer() ? static_cast<double>(*node->value<int64_t>()) : *node->value<double>();
  if (!in_range(value, range)) {
    const std::string got = node->is_integer() ? std::to_string(*node->value<int64_t>()) : toml_float(value);
    fail(where(*node), dotted(key) + " must be " + describe_range(range) + ", got " + got + "; e.g. " + key + " = " +
                           toml_float(out));
  }
  out = value;
  return true;
}

bool TableReader::read(const std::string& key, bool& out) const {
  const toml::node* node = get(key);
  if (node == nullptr) return false;
  if (!node->is_boolean()) {
    fail_type(key, *node, "true or false", key + " = " + toml_bool(out),
              [](const toml::node& bare) { return bare.is_boolean(); });
  }
  out = *node->value<bool>();
  return true;
}

bool TableReader::read(const std::string& key, std::string& out) const {
  const toml::node* node = get(key);
  if (node == nullptr) return false;
  const std::string example = key + " = " + toml_string(out.empty() ? "..." : out);
  if (!node->is_string()) fail_type(key, *node, "a string", example);
  std::string value = *node->value<std::string>();
  if (value.empty()) fail(where(*node), dotted(key) + " must not be empty; e.g. " + example);
  out = std::move(value);
  return true;
}

bool TableReader::read_choice(const std::string& key, std::string& out, const std::vector<std::string>& choices) const {
  const toml::node* node = get(key);
  if (node == nullptr) return false;
  if (!node->is_string()) fail_type(key, *node, "one of " + join_quoted(choices), key + " = " + toml_string(out));
  std::string value = *node->value<std::string>();
  if (!contains(choices, value)) fail_choice(where(*node), dotted(key), value, choices);
  out = std::move(value);
  return true;
}

const toml::table* TableReader::table(const std::string& key) const {
  const toml::node* node = get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    // The header of a sub-table: [train] at the top level, [runs.train] inside [[runs]].
    std::string parent = header_;
    parent.erase(std::remove(parent.begin(), parent.end(), '['), parent.end());
    parent.erase(std::remove(parent.begin(), parent.end(), ']'), parent.end());
    const std::string header = "[" + (parent.empty() ? key : parent + "." + key) + "]";
    fail(where(*node),
         dotted(key) + " must be a table, got " + describe(*node) + "; write it as a " + header + " section");
  }
  return node->as_table();
}

void TableReader::fail_missing(const std::string& key, const std::string& example) const {
  fail(where_header(),
       "missing required key '" + dotted(key) + "'; add " + key + " = " + example + " under " + header_);
}

void TableReader::fail_type(const std::string& key, const toml::node& node, const std::string& expected,
                            const std::string& example, NodeTest fits) const {
  std::string hint = "e.g. " + example;
  if (const auto doc = unquoted(node); doc && fits != nullptr && fits(*doc->get("v"))) {
    hint = "remove the quotes: " + key + " = " + *node.value<std::string>();
  }
  fail(where(node), dotted(key) + " must be " + expected + ", got " + describe(node) + "; " + hint);
}

}  // namespace ftbench::config::detail
