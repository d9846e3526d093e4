// A table of formatted cells rendered as a GitHub Markdown table or as CSV; private to results/.
#pragma once

#include <string>
#include <vector>

namespace ftbench::results {

struct Table {
  struct Column {
    std::string name;
    bool numeric = false;  // right-aligned in Markdown
  };
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;  // each as long as columns
};

// Every column padded to its widest cell, so the table also reads as plain fixed-width text.
std::string to_markdown(const Table& table);

// RFC 4180: a header line, then one line per row; cells holding a comma, quote, newline or edge space are
// quoted, quotes doubled.
std::string to_csv(const Table& table);

}  // namespace ftbench::results
