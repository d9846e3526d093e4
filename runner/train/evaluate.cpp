#include "runner/train/evaluate.h"

#include <ATen/Functions.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>

#include "runner/train/sharding.h"

namespace ftbench::train {

EvalResult evaluate(models::Classifier& model, const at::Tensor& images, const at::Tensor& labels,
                    const BatchSpec& spec, int64_t batch_size, dist::Communicator& comm) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;

  const Range mine = split_evenly(images.size(0), comm.rank(), comm.size());
  const auto device = images.device();
  at::Tensor loss_sum = at::zeros({1}, at::TensorOptions().dtype(at::kDouble).device(device));
  // The confusion counts, then the top-5 hits in the last slot: one all-reduce for both.
  at::Tensor counts = at::zeros({kClasses * kClasses + 1}, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor confusion = counts.narrow(0, 0, kClasses * kClasses);
  at::Tensor top5_hits = counts.narrow(0, kClasses * kClasses, 1);

  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t end = std::min(begin + batch_size, mine.end);
    const at::Tensor indices = at::arange(begin, end, at::TensorOptions().dtype(at::kLong));
    const at::Tensor x = prepare_batch(images, indices, spec);
    const at::Tensor y = labels.slice(0, begin, end);
    const at::Tensor logits = model.forward(x);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(at::kDouble);
    confusion += at::bincount(y * kClasses + logits.argmax(1), /*weights=*/{}, kClasses * kClasses);
    const at::Tensor top5 = std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), /*dim=*/1));
    top5_hits += top5.eq(y.unsqueeze(1)).any(1).sum();
  }

  comm.all_reduce(loss_sum, dist::ReduceOp::kSum);
  comm.all_reduce(counts, dist::ReduceOp::kSum);
  if (was_training) model.train();

  const at::Tensor totals = counts.cpu();
  const int64_t* c = totals.data_ptr<int64_t>();
  EvalResult result;
  int64_t correct = 0;
  for (int t = 0; t < kClasses; ++t) {
    for (int p = 0; p < kClasses; ++p) {
      result.confusion[t][p] = c[t * kClasses + p];
      result.count += c[t * kClasses + p];
    }
    correct += c[t * kClasses + t];
  }
  if (result.count > 0) {
    result.loss = loss_sum.cpu().item<double>() / static_cast<double>(result.count);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.count);
    result.accuracy5 = static_cast<double>(c[kClasses * kClasses]) / static_cast<double>(result.count);
  }
  return result;
}

}  // namespace ftbench::train
