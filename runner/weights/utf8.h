// UTF-8 checks for names read from weight files, so that every name can later be printed and written into
// JSON (safetensors headers) without surprises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ftbench::weights {

// True when [data, data + size) is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(const char* data, std::size_t size);
inline bool is_valid_utf8(const std::string& s) { return is_valid_utf8(s.data(), s.size()); }

// A printable, bounded rendering of untrusted text for error messages: control bytes become '?', and long
// text is cut with "...".
std::string printable(const std::string& text, std::size_t max_chars = 80);

}  // namespace ftbench::weights
