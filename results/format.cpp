#include "results/format.h"

#include <cstdio>

namespace ftbench::results::fmt {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string significant(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

std::string percent(double fraction) { return fixed(100.0 * fraction, 2) + "%"; }

std::string count(int64_t n) {
  const double v = static_cast<double>(n);
  if (v >= 1e9) return fixed(v / 1e9, 2) + "B";
  if (v >= 1e6) return fixed(v / 1e6, 2) + "M";
  if (v >= 1e3) return fixed(v / 1e3, 2) + "K";
  return std::to_string(n);
}

std::string bytes(double n) {
  constexpr double kKiB = 1024.0;
  if (n >= kKiB * kKiB * kKiB) return fixed(n / (kKiB * kKiB * kKiB), 2) + " GiB";
  if (n >= kKiB * kKiB) return fixed(n / (kKiB * kKiB), 1) + " MiB";
  if (n >= kKiB) return fixed(n / kKiB, 1) + " KiB";
  return fixed(n, 0) + " B";
}

namespace {

std::string cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ";" : "") + cell(v[i]);
    return out;
  }
  return v.dump();
}

}  // namespace

std::vector<std::string> csv_row(const json& object) {
  std::vector<std::string> row;
  for (const auto& [key, v] : object.items()) row.push_back(cell(v));
  return row;
}

}  // namespace ftbench::results::fmt
