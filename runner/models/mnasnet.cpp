// PLACEHOLDER: the mnasnet family is being written; until then it registers no model.
#include "runner/models/families.h"

namespace ftbench::models {

std::vector<ModelEntry> mnasnet_family() { return {}; }

}  // namespace ftbench::models
