#include "results/table.h"

#include <algorithm>

namespace ftbench::results {
namespace {

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

// Characters, not bytes, so that a cell holding "±" lines up: UTF-8 continuation bytes are 10xxxxxx.
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(const std::string& text, std::size_t width, bool right) {
  const std::string fill(width - std::min(width, display_width(text)), ' ');
  return right ? fill + text : text + fill;
}

std::string csv_cell(const std::string& text) {
  const bool quote = text.find_first_of(",\"\n\r") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string to_markdown(const Table& table) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header;
  for (const auto& c : table.columns) header.push_back(markdown_cell(c.name));
  cells.push_back(header);
  for (const auto& row : table.rows) {
    std::vector<std::string> line;
    for (const auto& cell : row) line.push_back(markdown_cell(cell));
    cells.push_back(line);
  }
  std::vector<std::size_t> width(table.columns.size(), 3);  // "---" is the shortest separator GitHub accepts
  for (const auto& line : cells)
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], display_width(line[i]));

  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    out += "|";
    for (std::size_t i = 0; i < width.size(); ++i)
      out += " " + pad(i < line.size() ? line[i] : "", width[i], table.columns[i].numeric) + " |";
    out += "\n";
  };
  emit(cells[0]);
  out += "|";
  for (std::size_t i = 0; i < width.size(); ++i)
    out += table.columns[i].numeric ? " " + std::string(width[i] - 1, '-') + ": |" : " " + std::string(width[i], '-') + " |";
  out += "\n";
  for (std::size_t r = 1; r < cells.size(); ++r) emit(cells[r]);
  return out;
}

std::string to_csv(const Table& table) {
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) out += (i ? "," : "") + csv_cell(line[i]);
    out += "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : table.columns) header.push_back(c.name);
  emit(header);
  for (const auto& row : table.rows) emit(row);
  return out;
}

}  // namespace ftbench::results
