// PLACEHOLDER: the googlenet family is being written; until then it registers no model.
#include "runner/models/families.h"

namespace ftbench::models {

std::vector<ModelEntry> googlenet_family() { return {}; }

}  // namespace ftbench::models
