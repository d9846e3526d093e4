#include "results/h5/error.h"

#include <cctype>

namespace ftbench::results::h5 {
namespace {

struct Walk {
  std::string innermost;
  std::string stack;
  bool lock_failed = false;
};

bool contains_ignoring_case(const std::string& text, const std::string& part) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(text).find(lower(part)) != std::string::npos;
}

herr_t collect(unsigned n, const H5E_error2_t* entry, void* data) {
  auto* walk = static_cast<Walk*>(data);
  std::string text = entry->desc ? entry->desc : "";
  char minor[128] = "";
  // The minor message ("File has been truncated") adds a category to the description, unless it repeats it.
  if (H5Eget_msg(entry->min_num, nullptr, minor, sizeof minor) > 0 && !contains_ignoring_case(text, minor))
    text += text.empty() ? minor : std::string(" (") + minor + ")";
  if (n == 0) walk->innermost = text;
  if (entry->min_num == H5E_CANTLOCKFILE) walk->lock_failed = true;
  if (!walk->stack.empty()) walk->stack += " <- ";
  walk->stack += text;
  return 0;
}

}  // namespace

void silence_error_printing() noexcept {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

void fail(const std::string& context) {
  Walk walk;
  // Upward: entry 0 is the innermost function, where HDF5 detected the problem; its text is the most specific.
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &walk);
  H5Eclear2(H5E_DEFAULT);
  if (walk.innermost.empty()) walk.innermost = "HDF5 call failed (no error description)";
  throw Error(context, walk.innermost, walk.stack, walk.lock_failed);
}

}  // namespace ftbench::results::h5
