// Number and cell formatting shared by the report tables (report.cpp, comparison.cpp); private to results/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ftbench::results::fmt {

// ordered_json keeps keys in column order, the same as the CSV header.
using json = nlohmann::ordered_json;

std::string fixed(double value, int decimals);     // "%.*f"
std::string significant(double value, int digits);  // "%.*g"
std::string percent(double fraction);               // 0.93125 -> "93.12%"
std::string count(int64_t n);                       // 11181642 -> "11.18M" (K, M, B = 10^3, 10^6, 10^9)
std::string bytes(double n);                        // 1.5 * 2^30 -> "1.50 GiB" (KiB, MiB, GiB)

// A JSON object's values as CSV cells: strings as they are, numbers as the shortest text that reads back
// as the same double, arrays joined with ';', null as an empty cell.
std::vector<std::string> csv_row(const json& object);

}  // namespace ftbench::results::fmt
