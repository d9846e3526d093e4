// write_safetensors: what it writes reads back identically (Python's safetensors reads it too: cli_test.py).
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <unistd.h>

#include "fixtures.h"
#include "runner/base/error.h"
#include "runner/weights/safetensors_writer.h"
#include "runner/weights/state_dict.h"

namespace ftbench::weights {
namespace {

namespace fs = std::filesystem;

TEST(SafetensorsWriter, RoundTripsViewsAndDtypes) {
  const fs::path out = fs::temp_directory_path() / ("ftbench-writer-" + std::to_string(::getpid()) + ".safetensors");
  for (const char* file : {"views_zip.pth", "dtypes_zip.pth"}) {
    const StateDict in = read_state_dict(testing::fixtures_dir() / "good" / file);
    write_safetensors(out, in.tensors, {{"source", file}});
    const StateDict back = read_state_dict(out);
    EXPECT_EQ(back.metadata.at("source"), file);
    ASSERT_EQ(back.tensors.size(), in.tensors.size());
    for (const auto& [name, t] : in.tensors) {
      const at::Tensor* b = back.find(name);
      ASSERT_NE(b, nullptr) << name;
      EXPECT_EQ(b->scalar_type(), t.scalar_type()) << name;
      EXPECT_TRUE(testing::bytes_of(*b) == testing::bytes_of(t)) << name;
    }
  }
  fs::remove(out);
}

TEST(SafetensorsWriter, MissingDirectoryIsAnInputError) {
  EXPECT_THROW(write_safetensors("/nonexistent-dir/x.safetensors", {{"a", at::ones({2})}}), InputError);
}

TEST(SafetensorsWriter, ComplexTensorsAreRefused) {
  EXPECT_THROW(write_safetensors(fs::temp_directory_path() / "c.safetensors", {{"a", at::ones({2}, at::kComplexFloat)}}),
               InputError);
}

}  // namespace
}  // namespace ftbench::weights
