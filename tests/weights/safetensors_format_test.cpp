// safetensors layout rules on bytes built here (the Python-written files are in read_test/refuse_test).
#include <gtest/gtest.h>

#include <string>

#include "runner/base/error.h"
#include "runner/weights/safetensors_format.h"

namespace ftbench::weights {
namespace {

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFF);
  return out + json + data;
}

RawStateDict parse(const std::string& bytes) {
  return parse_safetensors({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "t.safetensors");
}

std::string error_of(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsFormat, HeaderRoundTripsThroughTheParser) {
  const std::vector<SafetensorsEntry> entries = {
      {"w", DType::kFloat32, {2, 3}}, {"b", DType::kBFloat16, {3}}, {"e", DType::kInt64, {0, 5}}, {"s", DType::kBool, {}}};
  const std::string header = safetensors_header(entries, {{"format", "pt"}});
  EXPECT_EQ(header.size() % 8, 0u);  // data starts aligned
  const std::string bytes = header + std::string(24 + 6 + 0 + 1, '\x01');
  const RawStateDict raw = parse(bytes);
  ASSERT_EQ(raw.tensors.size(), 4u);
  EXPECT_EQ(raw.metadata.at("format"), "pt");
  // Buffer order: w, b, then the empty e and the scalar s.
  EXPECT_EQ(raw.tensors[0].name, "w");
  EXPECT_EQ(raw.tensors[0].strides, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(raw.tensors[1].dtype, DType::kBFloat16);
  EXPECT_EQ(raw.storages[raw.tensors[1].storage].nbytes, 6u);
}

TEST(SafetensorsFormat, EmptyHeaderWithNoDataIsValid) { EXPECT_EQ(parse(with_header("{}", "")).tensors.size(), 0u); }

TEST(SafetensorsFormat, EnforcesTheReferenceRules) {
  const std::string one = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_EQ(error_of(with_header(one, std::string(8, '\0'))), "");
  EXPECT_NE(error_of("1234567").find("too short"), std::string::npos);
  EXPECT_NE(error_of(with_header(one, std::string(7, '\0'))).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(with_header(one, std::string(9, '\0'))).find("trailing"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')))
                .find("need 12 bytes"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}})", "x")).find("unknown dtype 'Q9'"),
            std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xy"))
                .find("twice"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xy")).find("a gap"),
            std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", "xyz"))
                .find("overlaps"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x")).find("non-negative"),
            std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                                 std::string(8, '\0'))).find("overflows"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":[[[[[[1]]]]]]})", "")).find("nests deeper"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"__metadata__":{"k":1}})", "")).find("not a string"), std::string::npos);
  EXPECT_NE(error_of(with_header("[]", "")).find("start with '{'"), std::string::npos);
  EXPECT_NE(error_of(with_header("{\"\xff\":{}}", "")).find("not valid JSON"), std::string::npos);
  std::string huge(8, '\xff');
  EXPECT_NE(error_of(huge + "{}").find("exceeds the limit"), std::string::npos);
}

TEST(SafetensorsFormat, WriterRefusesUnwritableNames) {
  EXPECT_THROW(safetensors_header({{"__metadata__", DType::kUInt8, {1}}}, {}), InputError);
  EXPECT_THROW(safetensors_header({{"a", DType::kUInt8, {1}}, {"a", DType::kUInt8, {1}}}, {}), InputError);
  EXPECT_THROW(safetensors_header({{"\xff", DType::kUInt8, {1}}}, {}), InputError);
}

}  // namespace
}  // namespace ftbench::weights
