// Small string helpers used by error messages across layers.
#pragma once

#include <string>
#include <vector>

namespace ftbench {

// Levenshtein distance between a and b.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, or "" when nothing is close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "a, b or c" (used in "expected one of ..." messages).
std::string join_alternatives(const std::vector<std::string>& items, const std::string& last_sep = " or ");

}  // namespace ftbench
