// The restricted unpickler on hand-written pickles: plain data, every refusal path, and hostile lengths.
#include <gtest/gtest.h>

#include <string>

#include "runner/base/error.h"
#include "runner/weights/unpickler.h"

namespace ftbench::weights::pickle {
namespace {

PickleResult run(const std::string& bytes, bool persistent_ids = false, uint64_t max_storage = 1 << 20) {
  UnpickleOptions options;
  options.allow_persistent_ids = persistent_ids;
  options.max_storage_bytes = max_storage;
  return unpickle({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "test.pkl", options);
}

// The InputError message for `bytes`, or "" when it unpickles.
std::string error_of(const std::string& bytes, bool persistent_ids = true) {
  try {
    run(bytes, persistent_ids);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kProto2 = std::string("\x80\x02", 2);

// Opcode builders: literals with embedded NULs or hex escapes followed by hex letters are error-prone.
std::string byte(int b) { return std::string(1, static_cast<char>(b)); }
std::string le32(uint32_t n) { return byte(n & 0xFF) + byte((n >> 8) & 0xFF) + byte((n >> 16) & 0xFF) + byte(n >> 24); }
std::string str(const std::string& s) { return "X" + le32(static_cast<uint32_t>(s.size())) + s; }  // BINUNICODE
std::string int1(int v) { return "K" + byte(v); }                                                    // BININT1
std::string int2(int v) { return "M" + byte(v & 0xFF) + byte(v >> 8); }                              // BININT2
std::string put(int i) { return "q" + byte(i); }                                                     // BINPUT
std::string get(int i) { return "h" + byte(i); }                                                     // BINGET

TEST(Unpickler, PlainDataDict) {
  // {"a": 1, "b": [True, None, -1], "c": 2.5}
  const std::string p = kProto2 + "}" + put(0) + "(" + str("a") + int1(1) + str("b") + "]" + put(1) + "(" + byte(0x88) +
                        "N" + byte(0x8a) + byte(1) + byte(0xff) + "e" + str("c") + "G" + byte(0x40) + byte(0x04) +
                        std::string(6, '\0') + "u.";
  const PickleResult r = run(p);
  ASSERT_EQ(r.root->kind, Kind::kDict);
  ASSERT_EQ(r.root->items.size(), 6u);
  EXPECT_EQ(r.root->items[0]->text, "a");
  EXPECT_EQ(r.root->items[1]->integer, 1);
  const Value* list = r.root->items[3];
  ASSERT_EQ(list->kind, Kind::kList);
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_TRUE(list->items[0]->boolean);
  EXPECT_EQ(list->items[1]->kind, Kind::kNone);
  EXPECT_EQ(list->items[2]->integer, -1);
  EXPECT_DOUBLE_EQ(r.root->items[5]->real, 2.5);
  EXPECT_EQ(r.consumed, p.size());
}

TEST(Unpickler, StopsAtStopAndReportsConsumed) {
  const PickleResult r = run(kProto2 + "K\x07.trailing bytes");
  EXPECT_EQ(r.root->integer, 7);
  EXPECT_EQ(r.consumed, 5u);
}

TEST(Unpickler, WideLongKeepsItsBytes) {
  const PickleResult r = run(kProto2 + std::string("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 13));
  EXPECT_EQ(r.root->kind, Kind::kBigInt);
  EXPECT_EQ(r.root->text.size(), 10u);
}

TEST(Unpickler, RefusesGlobalNamingIt) {
  const std::string e = error_of(kProto2 + "cposix\nsystem\n(" + str("echo") + "tR.");
  EXPECT_NE(e.find("test.pkl"), std::string::npos) << e;
  EXPECT_NE(e.find("'posix.system'"), std::string::npos) << e;
  EXPECT_NE(e.find("nothing from the file was executed"), std::string::npos) << e;
}

TEST(Unpickler, RefusesStackGlobalNamingIt) {
  const std::string p = byte(0x80) + byte(4) + byte(0x8c) + byte(8) + "builtins" + byte(0x8c) + byte(4) + "eval" +
                        byte(0x93) + byte(0x8c) + byte(1) + "x" + byte(0x85) + "R.";
  EXPECT_NE(error_of(p).find("'builtins.eval'"), std::string::npos);
}

TEST(Unpickler, RefusesReduceOfNonCallables) {
  EXPECT_NE(error_of(kProto2 + "K\x01)R.").find("REDUCE calls an int"), std::string::npos);
  // An allowed global that is only a type tag is never called.
  const std::string e = error_of(kProto2 + "ctorch\nFloatStorage\n)R.");
  EXPECT_NE(e.find("REDUCE calls 'torch.FloatStorage'"), std::string::npos) << e;
}

TEST(Unpickler, RefusesObjectCreationOpcodes) {
  EXPECT_NE(error_of(kProto2 + "ccollections\nOrderedDict\n)\x81.").find("NEWOBJ"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "(ccollections\nOrderedDict\no.").find("OBJ"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "(ios\nremove\n.").find("'os.remove'"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "\x82\x01.").find("extension registry"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "Bwhat").find("cut short"), std::string::npos);
}

TEST(Unpickler, RefusesBuildOnAnythingButADict) {
  EXPECT_NE(error_of(kProto2 + "]}b.").find("BUILD sets the state of a list"), std::string::npos);
  EXPECT_EQ(error_of(kProto2 + "ccollections\nOrderedDict\n)R}b."), "");  // torch's _metadata
}

TEST(Unpickler, LengthsBeyondTheInputAreRefusedBeforeAllocating) {
  // BINUNICODE8 claiming 2^62 bytes, BINBYTES claiming 4 GiB - 1.
  EXPECT_NE(error_of(kProto2 + std::string("\x8d\x00\x00\x00\x00\x00\x00\x00\x40", 9)).find("cut short"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + std::string("B\xff\xff\xff\xff", 5)).find("cut short"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "X" + le32(5) + "ab").find("cut short"), std::string::npos);
}

TEST(Unpickler, MalformedStacksAndMemo) {
  EXPECT_NE(error_of(kProto2 + "0.").find("empty stack"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "t.").find("MARK"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "h\x05.").find("memo entry 5"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "NN.").find("malformed stack"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + "\xff.").find("unknown pickle opcode 0xff"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x80\x09N.", 4)).find("protocol 9"), std::string::npos);
  EXPECT_NE(error_of(kProto2 + str("\xff\xfe") + ".").find("UTF-8"), std::string::npos);
  EXPECT_NE(error_of(kProto2).find("cut short"), std::string::npos);
  EXPECT_NE(error_of("I9999999999999999999\n.").find("oversized integer"), std::string::npos);  // > INT64_MAX
  EXPECT_EQ(run("I-42\n.").root->integer, -42);
}

TEST(Unpickler, SelfReferencingListNeitherHangsNorLeaks) {
  const PickleResult r = run(kProto2 + "]" + put(0) + get(0) + "a.");
  ASSERT_EQ(r.root->kind, Kind::kList);
  ASSERT_EQ(r.root->items.size(), 1u);
  EXPECT_EQ(r.root->items[0], r.root);
}

// A storage persistent id and a tensor over it: ('storage', torch.FloatStorage, '0', 'cpu', numel), then
// _rebuild_tensor_v2(storage, offset, (size,), (1,), False, OrderedDict()).
std::string tensor_pickle(int numel, int size, int offset) {
  return kProto2 + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" + str("storage") + "ctorch\nFloatStorage\n" + str("0") +
         str("cpu") + int2(numel) + "tQ" + int1(offset) + int1(size) + byte(0x85) + int1(1) + byte(0x85) + byte(0x89) +
         "ccollections\nOrderedDict\n)RtR.";
}

TEST(Unpickler, RebuildsTensorsWithinTheirStorage) {
  const PickleResult r = run(tensor_pickle(10, 4, 6), true);
  ASSERT_EQ(r.root->kind, Kind::kTensor);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].dtype, DType::kFloat32);
  EXPECT_EQ(r.tensors[0].shape, std::vector<int64_t>{4});
  EXPECT_EQ(r.tensors[0].storage_offset, 6);
  EXPECT_EQ(r.storages[0].nbytes, 40u);
}

TEST(Unpickler, RefusesTensorsPastTheirStorage) {
  EXPECT_NE(error_of(tensor_pickle(10, 5, 6)).find("reaches past its storage"), std::string::npos);
}

TEST(Unpickler, RefusesStoragesLargerThanTheFile) {
  try {
    run(tensor_pickle(1000, 4, 0), true, /*max_storage=*/100);
    FAIL() << "accepted a storage of 4000 bytes in a 100-byte file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the whole file"), std::string::npos) << e.what();
  }
}

TEST(Unpickler, PersistentIdsOnlyWhereAllowed) {
  EXPECT_NE(error_of(tensor_pickle(10, 4, 0), /*persistent_ids=*/false).find("persistent id"), std::string::npos);
}

}  // namespace
}  // namespace ftbench::weights::pickle
