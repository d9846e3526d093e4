// Every good file Python wrote reads back tensor for tensor: same names in the same order, dtypes, shapes
// and bytes as the Python tensors.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "runner/weights/state_dict.h"

namespace ftbench::weights {
namespace {

using testing::fixtures_dir;

struct Case {
  std::string file;
  std::string format;
};

class ReadsLikePython : public ::testing::TestWithParam<Case> {};

TEST_P(ReadsLikePython, TensorForTensor) {
  const Case c = GetParam();
  const auto index = testing::read_json(fixtures_dir() / "good" / "index.json");
  ASSERT_TRUE(index.contains(c.file)) << "make_fixtures.py did not write " << c.file;
  const StateDict state = read_state_dict(fixtures_dir() / "good" / c.file);
  EXPECT_EQ(state.format, c.format);

  const auto expected = testing::reference(index.at(c.file).get<std::string>());
  std::vector<std::pair<std::string, at::Tensor>> tensors = state.tensors;
  if (c.format == "safetensors") {
    // safetensors stores tensors in buffer order, which the writer chooses; compare by name instead.
    ASSERT_EQ(tensors.size(), expected.size());
    for (const auto& e : expected) {
      const at::Tensor* t = state.find(e.name);
      ASSERT_NE(t, nullptr) << e.name;
      EXPECT_EQ(testing::dtype_of(*t), e.dtype) << e.name;
      EXPECT_EQ(t->sizes().vec(), e.shape) << e.name;
      EXPECT_TRUE(testing::bytes_of(*t) == e.bytes) << e.name << ": values differ from Python's";
    }
    return;
  }
  ASSERT_EQ(tensors.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, t] = tensors[i];
    EXPECT_EQ(name, expected[i].name);
    EXPECT_EQ(testing::dtype_of(t), expected[i].dtype) << name;
    EXPECT_EQ(t.sizes().vec(), expected[i].shape) << name;
    EXPECT_TRUE(testing::bytes_of(t) == expected[i].bytes) << name << ": values differ from Python's";
  }
}

INSTANTIATE_TEST_SUITE_P(
    GoodFiles, ReadsLikePython,
    ::testing::Values(Case{"resnet18_zip.pth", "torch.save zip"}, Case{"resnet18_legacy.pth", "torch.save legacy"},
                      Case{"resnet18_fp16_zip.pth", "torch.save zip"}, Case{"resnet18.safetensors", "safetensors"},
                      Case{"views_zip.pth", "torch.save zip"}, Case{"views_legacy.pth", "torch.save legacy"},
                      Case{"views_p4_zip.pth", "torch.save zip"}, Case{"views_p4_legacy.pth", "torch.save legacy"},
                      Case{"nested_zip.pth", "torch.save zip"}, Case{"nested_legacy.pth", "torch.save legacy"},
                      Case{"model_key_zip.pth", "torch.save zip"}, Case{"model_key_legacy.pth", "torch.save legacy"},
                      Case{"dtypes_zip.pth", "torch.save zip"}, Case{"dtypes_legacy.pth", "torch.save legacy"},
                      Case{"dtypes.safetensors", "safetensors"}),
    [](const auto& param_info) {
      std::string n = param_info.param.file;
      for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return n;
    });

// Views of one storage stay views of one storage, with Python's offsets and strides.
TEST(Views, ShareTheirStorageAsInPython) {
  for (const char* file : {"views_zip.pth", "views_legacy.pth"}) {
    const StateDict s = read_state_dict(fixtures_dir() / "good" / file);
    const at::Tensor& whole = *s.find("whole");
    const at::Tensor& slice = *s.find("slice");
    const at::Tensor& transposed = *s.find("transposed");
    EXPECT_TRUE(slice.storage().is_alias_of(whole.storage())) << file;
    EXPECT_TRUE(transposed.storage().is_alias_of(whole.storage())) << file;
    EXPECT_EQ(slice.storage_offset(), 8) << file;
    EXPECT_EQ(transposed.strides().vec(), (std::vector<int64_t>{1, 8})) << file;
    EXPECT_EQ(s.find("strided")->storage_offset(), 1) << file;
    EXPECT_EQ(s.find("strided")->strides().vec(), std::vector<int64_t>{3}) << file;
    EXPECT_TRUE(s.find("ints_tail")->storage().is_alias_of(s.find("ints")->storage())) << file;
    // Owned, writable memory: writing through one view shows in the others, never in the file.
    whole.data_ptr<float>()[9] = 123.0f;
    EXPECT_EQ(slice.data_ptr<float>()[1], 123.0f) << file;
  }
}

TEST(Nested, ModulePrefixIsStripped) {
  const StateDict s = read_state_dict(fixtures_dir() / "good" / "nested_zip.pth");
  for (const auto& [name, t] : s.tensors) EXPECT_EQ(name.rfind("module.", 0), std::string::npos) << name;
}

TEST(Safetensors, MetadataIsKept) {
  EXPECT_EQ(read_state_dict(fixtures_dir() / "good" / "resnet18.safetensors").metadata.at("format"), "pt");
}

}  // namespace
}  // namespace ftbench::weights
