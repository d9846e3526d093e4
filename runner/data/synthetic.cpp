// write_synthetic / synthetic_matches: a learnable stand-in for CIFAR-10, in its exact binary layout.
//
// Each image is a Gabor patch (a sine grating under a Gaussian window) on a grey background, plus a faint
// distractor grating and pixel noise. The class fixes the grating's tilt (5 angles, mirror-symmetric so that
// flip augmentation keeps labels true), its period (coarse or fine) and its colour (10 hues); each image draws
// its own phase, position, window size, contrast and jitter on all three, so no single pixel gives the class
// away.
//
// Determinism: every image has its own splitmix64 stream keyed by (seed, split, index), and the pixel maths is
// integer fixed point with lookup tables quantised to 14 bits, so the bytes do not depend on the standard
// library, the compiler's floating-point contraction or the order images are made in.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>
#include <vector>

#include "runner/base/error.h"
#include "runner/data/cifar10.h"
#include "runner/data/records.h"

namespace fs = std::filesystem;

namespace ftbench::data {
namespace {

constexpr int kFormatVersion = 2;  // bump when the images change, so old stamps stop matching
constexpr const char* kStampFile = "ftbench-synth.txt";
constexpr int64_t kMaxSplit = 10'000'000;  // 30 GB of pixels; beyond this a typo is likelier than intent

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// splitmix64. Ours rather than <random>'s distributions, whose output differs between standard libraries.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t split, uint64_t index) : state_(mix(mix(mix(seed) + split) + index)) {}
  uint64_t next() { return mix(state_ += 0x9E3779B97F4A7C15ULL); }
  // Uniform in [lo, hi).
  int64_t uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(((next() >> 32) * static_cast<uint64_t>(hi - lo)) >> 32);
  }

 private:
  uint64_t state_;
};

constexpr double kPi = 3.14159265358979323846;
constexpr int kAngleSteps = 4096;  // a full turn
constexpr int kOne = 1 << 14;      // fixed-point 1.0 in the tables

// sin(2*pi*k/4096) * 2^14. Rounding to 14 bits hides any last-bit differences between libm implementations.
const std::array<int32_t, kAngleSteps>& sin_table() {
  static const auto table = [] {
    std::array<int32_t, kAngleSteps> t{};
    for (int k = 0; k < kAngleSteps; ++k)
      t[k] = static_cast<int32_t>(std::lround(std::sin(2 * kPi * k / kAngleSteps) * kOne));
    return t;
  }();
  return table;
}

// exp(-k/128) * 2^14 for k/128 in [0, 8); the window is 0 beyond.
constexpr int kExpSteps = 1024;
const std::array<int32_t, kExpSteps>& exp_table() {
  static const auto table = [] {
    std::array<int32_t, kExpSteps> t{};
    for (int k = 0; k < kExpSteps; ++k) t[k] = static_cast<int32_t>(std::lround(std::exp(-k / 128.0) * kOne));
    return t;
  }();
  return table;
}

// Angles wrap modulo a turn; going through uint64_t keeps the wrap well defined for negative angles.
int32_t sin_q(int64_t angle) {
  return sin_table()[static_cast<std::size_t>(static_cast<uint64_t>(angle) & (kAngleSteps - 1))];
}
int32_t cos_q(int64_t angle) { return sin_q(angle + kAngleSteps / 4); }
// A phase in 1/65536 turn to a table angle (1/4096 turn).
int64_t turn16_to_angle(int64_t phase) { return static_cast<int64_t>((static_cast<uint64_t>(phase) >> 4) & 0xFFF); }

// Draws one image of class `label` into `pixels` (3x32x32, planar RGB).
void draw_image(Rng& rng, int label, uint8_t* pixels) {
  const auto& exp_t = exp_table();
  // The class: the grating's tilt from vertical (0, 22.5, 45, 67.5 or 90 degrees, either way round, so a
  // horizontal flip keeps the class), its period (coarse ~8 px or fine ~4.5 px) and its hue (10 hues, ordered
  // so that classes with neighbouring hues differ in tilt or period).
  const int64_t tilt = (label % 5) * (kAngleSteps / 16);
  const int64_t angle = (rng.uniform(0, 2) ? tilt : -tilt) + rng.uniform(-64, 65);   // +-5.6 degrees
  const int64_t step = (label < 5 ? 8192 : 14564) * rng.uniform(880, 1170) / 1024;   // turns/px * 2^16
  const int64_t hue = (label * 7 % 10) * kAngleSteps / 10 + rng.uniform(-230, 231);  // +-20 degrees
  const int64_t kx = step * cos_q(angle) / kOne, ky = step * sin_q(angle) / kOne;
  const int64_t phase = rng.uniform(0, 1 << 16);
  // The window: centre and size in 1/16 px.
  const int64_t cx = rng.uniform(8 * 16, 24 * 16), cy = rng.uniform(8 * 16, 24 * 16);
  const int64_t sigma = rng.uniform(8 * 16, 14 * 16);
  const int64_t amp = rng.uniform(60, 100);  // pixel levels
  // A faint grating at any angle and period, so "some stripes" alone does not tell the class.
  const int64_t d_angle = rng.uniform(0, kAngleSteps), d_step = rng.uniform(3000, 16000);
  const int64_t dkx = d_step * cos_q(d_angle) / kOne, dky = d_step * sin_q(d_angle) / kOne;
  const int64_t d_phase = rng.uniform(0, 1 << 16), d_amp = rng.uniform(0, 15);
  std::array<int64_t, kChannels> tint{}, d_tint{}, background{};
  // The background leans towards the class hue too, by a random amount: a cue that is quick to pick up but
  // ambiguous on its own.
  const int64_t grey = rng.uniform(70, 186), lean = rng.uniform(5, 40);
  for (int c = 0; c < kChannels; ++c) {
    const int64_t hue_c = cos_q(hue - c * kAngleSteps / 3);  // the class colour in this channel, 2^14 units
    // 1/256 units: the class colour (3/4) on top of a luminance stripe (3/8), so the stripes show in grey too.
    tint[c] = hue_c * 3 / 256 + 96;
    d_tint[c] = rng.uniform(-256, 257);
    background[c] = grey + lean * hue_c / kOne + rng.uniform(-12, 13);
  }

  for (int y = 0; y < kImageSide; ++y) {
    for (int x = 0; x < kImageSide; ++x) {
      const int64_t dx = x * 16 + 8 - cx, dy = y * 16 + 8 - cy;
      const int64_t e = 64 * (dx * dx + dy * dy) / (sigma * sigma);
      const int64_t window = e < kExpSteps ? exp_t[static_cast<std::size_t>(e)] : 0;
      // Phases are in 1/65536 turn; the table has 4096 steps.
      const int64_t wave = sin_q(turn16_to_angle(phase + kx * x + ky * y)) * window / kOne;
      const int64_t d_wave = sin_q(turn16_to_angle(d_phase + dkx * x + dky * y));
      const uint64_t noise_bits = rng.next();
      for (int c = 0; c < kChannels; ++c) {
        // Irwin-Hall of 2 bytes: roughly bell-shaped, std ~104 before scaling to ~10.5 levels.
        const int64_t bytes = static_cast<int64_t>((noise_bits >> (16 * c)) & 0xFF) +
                              static_cast<int64_t>((noise_bits >> (16 * c + 8)) & 0xFF) - 255;
        const int64_t value = background[c] + amp * wave * tint[c] / (kOne * 256) +
                              d_amp * d_wave * d_tint[c] / (kOne * 256) + bytes * 26 / 256;
        pixels[c * kImageSide * kImageSide + y * kImageSide + x] =
            static_cast<uint8_t>(std::clamp<int64_t>(value, 0, 255));
      }
    }
  }
}

// Labels in blocks of ten, each block a shuffle of 0..9: every class gets n/10 records (+-1), in random order.
std::vector<uint8_t> make_labels(uint64_t seed, uint64_t split, int64_t n) {
  std::vector<uint8_t> labels(static_cast<std::size_t>(n));
  for (int64_t block = 0; block * kNumClasses < n; ++block) {
    Rng rng(seed, split | 0x100, static_cast<uint64_t>(block));
    std::array<uint8_t, kNumClasses> order{};
    for (int k = 0; k < kNumClasses; ++k) order[k] = static_cast<uint8_t>(k);
    for (int k = kNumClasses - 1; k > 0; --k) std::swap(order[k], order[rng.uniform(0, k + 1)]);
    for (int k = 0; k < kNumClasses && block * kNumClasses + k < n; ++k) {
      labels[static_cast<std::size_t>(block * kNumClasses + k)] = order[k];
    }
  }
  return labels;
}

// Writes `path` through a temporary file and a rename, so a killed run never leaves a partial file under the
// real name. The temporary name is unique, so generators racing on one directory (say, every rank of a job
// on a shared file system) each rename a whole file of identical bytes into place. `fill(out)` writes it.
template <typename Fill>
void write_atomically(const fs::path& path, Fill fill) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(std::random_device{}());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(tmp.string() + ": cannot create; check that the directory is writable");
    fill(out);
    out.close();
    if (!out) throw RuntimeError(tmp.string() + ": write failed (disk full?)");
    fs::rename(tmp, path);
  } catch (const fs::filesystem_error& e) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw RuntimeError(path.string() + ": cannot move " + tmp.filename().string() + " into place (" +
                       e.code().message() + ")");
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

// Generates records [first, first + count) of a split into `out`, a chunk at a time to bound memory.
void write_records(std::ostream& out, uint64_t seed, uint64_t split, const std::vector<uint8_t>& labels, int64_t first,
                   int64_t count) {
  constexpr int64_t kChunk = 256;
  std::vector<uint8_t> buffer(static_cast<std::size_t>(kChunk * kRecordBytes));
  for (int64_t done = 0; done < count; done += kChunk) {
    const int64_t n = std::min(kChunk, count - done);
    for (int64_t r = 0; r < n; ++r) {
      const int64_t index = first + done + r;
      uint8_t* record = buffer.data() + r * kRecordBytes;
      record[0] = labels[static_cast<std::size_t>(index)];
      Rng rng(seed, split, static_cast<uint64_t>(index));
      draw_image(rng, record[0], record + 1);
    }
    out.write(reinterpret_cast<const char*>(buffer.data()), n * kRecordBytes);
  }
}

// Records in data_batch_1..5.bin: as even as possible, the first files taking the remainder.
std::array<int64_t, detail::kTrainFiles> train_file_records(int64_t train_size) {
  std::array<int64_t, detail::kTrainFiles> counts{};
  for (int i = 0; i < detail::kTrainFiles; ++i)
    counts[i] = train_size / detail::kTrainFiles + (i < train_size % detail::kTrainFiles ? 1 : 0);
  return counts;
}

std::string stamp_text(const SynthOptions& o) {
  std::ostringstream s;
  s << "# written by 'ftbench data synth'; a dataset is reused only when every line matches\n"
    << "format " << kFormatVersion << "\ntrain_size " << o.train_size << "\ntest_size " << o.test_size << "\nseed "
    << o.seed << "\n";
  return s.str();
}

bool has_size(const fs::path& file, int64_t records) {
  std::error_code ec;
  const auto bytes = fs::file_size(file, ec);
  return !ec && static_cast<int64_t>(bytes) == records * kRecordBytes;
}

}  // namespace

void write_synthetic(const std::string& out_dir, const SynthOptions& options) {
  if (options.train_size < detail::kTrainFiles || options.train_size > kMaxSplit) {
    throw InputError("synthetic data: train size " + std::to_string(options.train_size) +
                     " is out of range; expected 5 (one record for each of data_batch_1..5.bin) to " +
                     std::to_string(kMaxSplit));
  }
  if (options.test_size < 1 || options.test_size > kMaxSplit) {
    throw InputError("synthetic data: test size " + std::to_string(options.test_size) +
                     " is out of range; expected 1 to " + std::to_string(kMaxSplit));
  }
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw InputError(out_dir + ": cannot create the output directory (" + ec.message() + "); choose a writable path");
  }
  // A directory of batches without our stamp is someone's real data: never overwrite it.
  const bool has_batches = fs::exists(dir / detail::train_file_name(0), ec) || fs::exists(dir / detail::kTestFile, ec);
  if (has_batches && !fs::exists(dir / kStampFile, ec)) {
    throw InputError(out_dir +
                     ": already holds CIFAR-10 batches not written by 'ftbench data synth'; choose "
                     "another output directory, or delete them first");
  }
  // The stamp says "incomplete" until every batch is in place, so a killed run is regenerated, not reused.
  write_atomically(dir / kStampFile,
                   [](std::ostream& out) { out << "# incomplete: 'ftbench data synth' was interrupted\n"; });

  constexpr uint64_t kTrain = 0, kTest = 1;
  const auto train_labels = make_labels(options.seed, kTrain, options.train_size);
  int64_t first = 0;
  const auto counts = train_file_records(options.train_size);
  for (int i = 0; i < detail::kTrainFiles; ++i) {
    write_atomically(dir / detail::train_file_name(i), [&](std::ostream& out) {
      write_records(out, options.seed, kTrain, train_labels, first, counts[i]);
    });
    first += counts[i];
  }
  const auto test_labels = make_labels(options.seed, kTest, options.test_size);
  write_atomically(dir / detail::kTestFile, [&](std::ostream& out) {
    write_records(out, options.seed, kTest, test_labels, 0, options.test_size);
  });
  write_atomically(dir / detail::kMetaFile, [](std::ostream& out) {
    for (const auto& name : class_names()) out << name << '\n';
  });
  write_atomically(dir / kStampFile, [&](std::ostream& out) { out << stamp_text(options); });
}

bool synthetic_matches(const std::string& dir, const SynthOptions& options) {
  const fs::path d(dir);
  std::ifstream in(d / kStampFile, std::ios::binary);
  if (!in) return false;
  std::ostringstream stamp;
  stamp << in.rdbuf();
  if (stamp.str() != stamp_text(options)) return false;
  const auto counts = train_file_records(options.train_size);
  for (int i = 0; i < detail::kTrainFiles; ++i) {
    if (!has_size(d / detail::train_file_name(i), counts[i])) return false;
  }
  return has_size(d / detail::kTestFile, options.test_size);
}

}  // namespace ftbench::data
