// CIFAR-10 in its official binary layout, read from `cifar-10-batches-bin/` or straight from
// `cifar-10-binary.tar.gz`.
//
// Layout: data_batch_1.bin ... data_batch_5.bin (train) and test_batch.bin (test); each record is 1 label byte
// (0-9) then 3,072 bytes of pixels: 1,024 R, 1,024 G, 1,024 B, each a row-major 32x32 plane. The official
// files hold 10,000 records (30,730,000 bytes) each; files written by `ftbench data synth` may hold any
// whole number of records, split the same way.
//
// Images stay uint8 (NCHW, 3x32x32 per image) for their whole life: the trainer wraps this memory in a
// tensor without copying, and converts one batch at a time. There is never a float copy of the dataset.
//
// Errors: every problem throws ftbench::InputError (exit 2), one line naming the file, what was expected and the
// fix, e.g.
//   "data/cifar-10-batches-bin/data_batch_3.bin: 30729998 bytes, expected a whole number of 3073-byte records
//    (1 label + 3072 pixels), so it is truncated or not a CIFAR-10 batch; re-download cifar-10-binary.tar.gz
//    (scripts/get_cifar10.sh) or regenerate with 'ftbench data synth'"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ftbench::data {

inline constexpr int kNumClasses = 10;
inline constexpr int kImageSide = 32;
inline constexpr int kChannels = 3;
inline constexpr int64_t kImageBytes = kChannels * kImageSide * kImageSide;  // 3072
inline constexpr int64_t kRecordBytes = 1 + kImageBytes;                     // 3073

// The official class names, in label order (batches.meta.txt).
const std::vector<std::string>& class_names();

// One split in memory: `size` images of 3x32x32 uint8 (NCHW) and their labels.
struct Split {
  int64_t size = 0;
  std::vector<uint8_t> images;  // size * 3072 bytes
  std::vector<uint8_t> labels;  // size bytes, each 0..9
};

struct Dataset {
  std::string source;  // the directory or archive it was read from
  Split train;
  Split test;
};

// Reads the train and test splits. `path` may be, in the order tried:
//   - a file: read as a tar.gz (or plain tar) archive, streamed, never extracted to disk; members are found by
//     basename (data_batch_N.bin, test_batch.bin) in any directory and any order, other members are ignored;
//   - a directory holding data_batch_1.bin or test_batch.bin: read as the batch directory itself;
//   - a directory holding cifar-10-batches-bin/ (e.g. data/ after scripts/get_cifar10.sh): that subdirectory;
//   - a directory holding cifar-10-binary.tar.gz: that archive.
// `source` in the result names what was actually read.
// `train_limit` / `test_limit` > 0 keep only the first N records of each split (0 keeps all; negative is an
// InputError); asking for more than the split holds is an InputError naming the count available. With a limit,
// only the files that hold those first records are opened (an archive stops decompressing once both splits are
// complete), so later files are neither read nor checked. Every file used is validated from its size before it
// is read: missing, empty, truncated or wrong-size files, labels > 9, and corrupt, truncated or incomplete
// archives are errors naming the file (and the archive member).
Dataset read_cifar10(const std::string& path, int64_t train_limit = 0, int64_t test_limit = 0);

// Options for the synthetic dataset written by `ftbench data synth`.
struct SynthOptions {
  int64_t train_size = 5000;
  int64_t test_size = 1000;
  uint64_t seed = 0;
};

// Writes a synthetic, learnable 10-class dataset in exactly the CIFAR-10 binary layout into `out_dir`
// (data_batch_1..5.bin with the train records split as evenly as possible, test_batch.bin and
// batches.meta.txt). Deterministic: the same options give byte-identical files. Creates `out_dir` if needed.
// Each class is a Gabor-like grating with its own tilt, period and hue; every image draws its own phase,
// position, size, contrast and colour jitter, plus noise (see synthetic.cpp). Labels are balanced (every
// block of 10 records is a shuffle of 0..9).
// train_size must be 5..10,000,000 (each data_batch file needs a record) and test_size 1..10,000,000, else
// InputError. Every file is written to a temporary name and renamed, and the `ftbench-synth.txt` stamp is
// written last, so an interrupted run never looks complete. Refuses (InputError) to overwrite batches in a
// directory that has no stamp, i.e. real CIFAR-10.
void write_synthetic(const std::string& out_dir, const SynthOptions& options);

// True when `dir` already holds a complete synthetic dataset with exactly these options (it checks a small
// `ftbench-synth.txt` stamp written beside the batches, and the file sizes).
bool synthetic_matches(const std::string& dir, const SynthOptions& options);

}  // namespace ftbench::data
