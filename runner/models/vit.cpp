// PLACEHOLDER: the vit family is being written; until then it registers no model.
#include "runner/models/families.h"

namespace ftbench::models {

std::vector<ModelEntry> vit_family() { return {}; }

}  // namespace ftbench::models
