#include "runner/config/overrides.h"

#include <cctype>

#include "runner/config/diagnostics.h"  // fail
#include "runner/config/literals.h"     // toml_string

namespace ftbench::config::detail {
namespace {

constexpr const char* kPrefix = "--set ";

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool is_bare_key(const std::string& part) {
  if (part.empty()) return false;
  for (const char c : part) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

std::vector<std::string> split_key(const std::string& key, const std::string& origin) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (!is_bare_key(parts.back())) {
      fail(origin, "'" + key + "' is not a dotted key; write it like train.lr or data.dataset");
    }
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The value as TOML, parsed with the override as its source so that its nodes remember where they came
// from. A value that is not TOML (a bare word such as synthetic) is re-read as a quoted string.
toml::table parse_value(const std::string& value, const std::string& origin) {
  try {
    toml::table doc = toml::parse(std::string_view("v = " + value), std::string(origin));
    if (doc.size() == 1 && doc.contains("v")) return doc;
  } catch (const toml::parse_error&) {
  }
  return toml::parse(std::string_view("v = " + toml_string(trim(value))), std::string(origin));
}

void apply_one(toml::table& root, const Override& override_) {
  const std::string origin = kPrefix + override_.text;
  const auto eq = override_.text.find('=');
  if (eq == std::string::npos) {
    fail(origin, "missing '='; write --set KEY=VALUE, e.g. --set train.epochs=1");
  }
  const std::string key = trim(override_.text.substr(0, eq));
  const std::vector<std::string> parts = split_key(key, origin);
  toml::table doc = parse_value(override_.text.substr(eq + 1), origin);
  toml::node& value = *doc.get("v");

  toml::table* table = &root;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    toml::node* next = table->get(parts[i]);
    if (next == nullptr) {
      // The new table's key carries the override's source, so "unknown table" points at the override.
      next = table->insert(toml::key(parts[i], value.source()), toml::table{}).first->second.as_table();
    }
    if (next->is_array_of_tables()) {
      fail(origin, "'" + walked + "' is a list of [[" + walked + "]] tables, which --set cannot reach; " +
                       "edit the file instead");
    }
    if (!next->is_table()) {
      fail(origin, "'" + walked + "' is a value, not a table, so it has no key '" + parts[i + 1] + "'; set '" + walked +
                       "' itself");
    }
    table = next->as_table();
  }
  // Move, not copy: toml++ keeps a node's source only when it is moved.
  toml::key leaf(parts.back(), value.source());
  value.visit([&](auto& typed) { table->insert_or_assign(std::move(leaf), std::move(typed)); });
}

}  // namespace

void apply_overrides(toml::table& root, const std::vector<Override>& overrides) {
  for (const auto& override_ : overrides) apply_one(root, override_);
}

bool is_override_source(const std::string& source_path) { return source_path.rfind(kPrefix, 0) == 0; }

}  // namespace ftbench::config::detail
