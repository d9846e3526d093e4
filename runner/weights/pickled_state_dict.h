// Finds the state dict inside an unpickled torch.save object and flattens it into a RawStateDict.
//
// Accepted shapes, as written by torch.save:
//   - a state dict: a dict / OrderedDict of name -> tensor (torchvision's files);
//   - a checkpoint that nests one under "state_dict", "model_state_dict", "model", "module" or "net"
//     (other entries, e.g. "epoch" or an optimizer's state, are ignored);
//   - DataParallel's "module." prefix on every name, which is removed.
// Anything else is an InputError that says what the file holds instead.
#pragma once

#include <string>

#include "runner/weights/pickle_value.h"
#include "runner/weights/raw_state_dict.h"

namespace ftbench::weights {

// Storages come back without bytes: the container (legacy or zip) locates them. Legacy storage views are
// folded into their root storage, so tensors that share memory in Python share a storage here too.
RawStateDict state_dict_from_pickle(const pickle::PickleResult& pickle, const std::string& where,
                                    const std::string& format);

}  // namespace ftbench::weights
