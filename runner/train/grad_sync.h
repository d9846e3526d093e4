// Gradient averaging across ranks (the foundation's simple form: one flat buffer after backward).
//
// Each rank's loss is its local sum divided by the GLOBAL batch size, so summing the gradients over ranks
// gives exactly the gradient of the mean loss over the global batch, however the batch splits across ranks.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "dist/communicator.h"

namespace ftbench::train {

class GradientSync {
 public:
  // `params`: the parameters that train, in a fixed order (the same on every rank).
  explicit GradientSync(std::vector<at::Tensor> params);

  // Sums every parameter's .grad over all ranks, in place. A parameter with no gradient this step counts
  // as zero. One all-reduce of one flat buffer.
  void all_reduce_sum(dist::Communicator& comm);

  // Bytes moved per call (the flat buffer's size).
  int64_t bytes() const;

 private:
  std::vector<at::Tensor> params_;
  at::Tensor flat_;  // reused between steps
};

}  // namespace ftbench::train
