// The opcode loop of the restricted unpickler. Opcodes follow Python's pickle protocols 0-5; the ones that
// could run code (GLOBAL, STACK_GLOBAL, INST, OBJ, NEWOBJ, NEWOBJ_EX, REDUCE, BUILD, EXT*) go through
// Machine, which only knows the allowlisted globals.
#include "runner/weights/unpickler.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "runner/weights/pickle_machine.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights::pickle {
namespace {

// Python's pickle opcodes, by protocol.
enum Op : uint8_t {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kFloat = 'F', kInt = 'I', kBinInt = 'J',
  kBinInt1 = 'K', kLong = 'L', kBinInt2 = 'M', kNone = 'N', kPersId = 'P', kBinPersId = 'Q', kReduce = 'R',
  kString = 'S', kBinString = 'T', kShortBinString = 'U', kUnicode = 'V', kBinUnicode = 'X', kAppend = 'a',
  kBuild = 'b', kGlobal = 'c', kDict = 'd', kEmptyDict = '}', kAppends = 'e', kGet = 'g', kBinGet = 'h',
  kInst = 'i', kLongBinGet = 'j', kList = 'l', kEmptyList = ']', kObj = 'o', kPut = 'p', kBinPut = 'q',
  kLongBinPut = 'r', kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kBinFloat = 'G',
  // protocol 2
  kProto = 0x80, kNewObj = 0x81, kExt1 = 0x82, kExt2 = 0x83, kExt4 = 0x84, kTuple1 = 0x85, kTuple2 = 0x86,
  kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a, kLong4 = 0x8b,
  // protocol 3
  kBinBytes = 'B', kShortBinBytes = 'C',
  // protocol 4
  kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f, kAddItems = 0x90,
  kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
  // protocol 5
  kByteArray8 = 0x96, kNextBuffer = 0x97, kReadonlyBuffer = 0x98,
};

constexpr std::size_t kMaxLine = 4096;  // protocol-0 text arguments (numbers, module and global names)

class Reader {
 public:
  Reader(ByteSpan bytes, Machine& m) : bytes_(bytes), m_(m) {}

  std::size_t pos() const { return pos_; }

  uint8_t u8() { return *take(1); }

  const uint8_t* take(uint64_t n) {
    if (!bytes_.contains(pos_, n)) {
      m_.fail("the pickle is cut short at byte " + std::to_string(pos_) + " (needs " + std::to_string(n) +
              " more bytes, " + std::to_string(bytes_.size - pos_) + " left); the file is truncated or corrupt");
    }
    const uint8_t* p = bytes_.data + pos_;
    pos_ += n;
    return p;
  }

  // A protocol-0 argument: the bytes up to the next newline.
  std::string line() {
    const std::size_t limit = std::min(bytes_.size - pos_, kMaxLine);
    const void* nl = std::memchr(bytes_.data + pos_, '\n', limit);
    if (nl == nullptr) {
      m_.fail("the pickle is cut short or corrupt: a text argument has no end of line at byte " + std::to_string(pos_));
    }
    const std::size_t n = static_cast<const uint8_t*>(nl) - (bytes_.data + pos_);
    std::string out(reinterpret_cast<const char*>(bytes_.data + pos_), n);
    pos_ += n + 1;
    return out;
  }

 private:
  ByteSpan bytes_;
  Machine& m_;
  std::size_t pos_ = 0;
};

class Loop {
 public:
  Loop(ByteSpan bytes, Machine& m, bool allow_persistent_ids)
      : in_(bytes, m), m_(m), allow_persistent_ids_(allow_persistent_ids) {}

  const Value* run() {
    for (;;) {
      const std::size_t at = in_.pos();
      const uint8_t op = in_.u8();
      if (op == kStop) {
        if (stack_.size() != 1 || !marks_.empty()) m_.fail("the pickle ends with a malformed stack");
        return stack_.back();
      }
      step(op, at);
    }
  }

  std::size_t consumed() const { return in_.pos(); }

 private:
  void step(uint8_t op, std::size_t at) {
    switch (op) {
      case kProto: {
        const uint8_t version = in_.u8();
        if (version > 5) m_.fail("unsupported pickle protocol " + std::to_string(version));
        return;
      }
      case kFrame: in_.take(8); return;  // framing is only a read-ahead hint
      case kMark: marks_.push_back(stack_.size()); return;
      case kPop:
        if (!marks_.empty() && marks_.back() == stack_.size()) {
          marks_.pop_back();  // POP of a bare mark, as Python allows
        } else {
          pop();
        }
        return;
      case kPopMark: pop_mark(); return;
      case kDup: push(top()); return;
      case kNone: push(m_.make(Kind::kNone)); return;
      case kNewTrue: push(boolean(true)); return;
      case kNewFalse: push(boolean(false)); return;
      case kBinInt1: push(integer(in_.u8())); return;
      case kBinInt2: {
        const uint8_t* p = in_.take(2);
        push(integer(p[0] | p[1] << 8));
        return;
      }
      case kBinInt: push(integer(static_cast<int32_t>(load_le32(in_.take(4))))); return;
      case kLong1: push(long_bytes(in_.u8())); return;
      case kLong4: {
        const int32_t n = static_cast<int32_t>(load_le32(in_.take(4)));
        if (n < 0) m_.fail("LONG4 with a negative length");
        push(long_bytes(static_cast<uint64_t>(n)));
        return;
      }
      case kInt: push(text_int(in_.line(), /*allow_bool=*/true)); return;
      case kLong: {
        std::string text = in_.line();
        if (!text.empty() && text.back() == 'L') text.pop_back();
        push(text_int(text, /*allow_bool=*/false));
        return;
      }
      case kBinFloat: {
        const uint8_t* p = in_.take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
        Value* v = m_.make(Kind::kFloat);
        std::memcpy(&v->real, &bits, sizeof bits);
        push(v);
        return;
      }
      case kFloat: {
        const std::string text = in_.line();
        Value* v = m_.make(Kind::kFloat);
        char* end = nullptr;
        v->real = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) m_.fail("malformed FLOAT '" + printable(text) + "'");
        push(v);
        return;
      }
      case kShortBinUnicode: push(unicode(in_.u8())); return;
      case kBinUnicode: push(unicode(load_le32(in_.take(4)))); return;
      case kBinUnicode8: push(unicode(load_le64(in_.take(8)))); return;
      case kShortBinString: push(unicode(in_.u8())); return;  // Python 2 str, read as text (torch's default)
      case kBinString: push(unicode(load_le32(in_.take(4)))); return;
      case kShortBinBytes: push(bytes(in_.u8())); return;
      case kBinBytes: push(bytes(load_le32(in_.take(4)))); return;
      case kBinBytes8: push(bytes(load_le64(in_.take(8)))); return;
      case kByteArray8: push(bytes(load_le64(in_.take(8)))); return;
      case kString: push(text_string(in_.line(), /*quoted=*/true)); return;
      case kUnicode: push(text_string(in_.line(), /*quoted=*/false)); return;
      case kEmptyTuple: push(m_.make(Kind::kTuple)); return;
      case kTuple1: case kTuple2: case kTuple3: {
        const std::size_t n = op - kTuple1 + 1;
        if (stack_.size() < n + floor()) m_.fail("TUPLE" + std::to_string(n) + " on a short stack");
        Value* t = m_.make(Kind::kTuple);
        t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(t);
        return;
      }
      case kTuple: {
        Value* t = m_.make(Kind::kTuple);
        t->items = pop_mark();
        push(t);
        return;
      }
      case kEmptyList: push(m_.make(Kind::kList)); return;
      case kList: {
        Value* l = m_.make(Kind::kList);
        l->items = pop_mark();
        push(l);
        return;
      }
      case kEmptyDict: push(m_.make(Kind::kDict)); return;
      case kDict: {
        Value* d = m_.make(Kind::kDict);
        d->items = pop_mark();
        if (d->items.size() % 2 != 0) m_.fail("DICT with an odd number of items");
        push(d);
        return;
      }
      case kEmptySet: push(m_.make(Kind::kSet)); return;
      case kFrozenSet: {
        Value* s = m_.make(Kind::kSet);
        s->items = pop_mark();
        push(s);
        return;
      }
      case kAppend: {
        Value* item = pop();
        append(top(), {item}, Kind::kList, "APPEND");
        return;
      }
      case kAppends: {
        std::vector<Value*> items = pop_mark();
        append(top(), items, Kind::kList, "APPENDS");
        return;
      }
      case kAddItems: {
        std::vector<Value*> items = pop_mark();
        append(top(), items, Kind::kSet, "ADDITEMS");
        return;
      }
      case kSetItem: {
        Value* value = pop();
        Value* key = pop();
        append(top(), {key, value}, Kind::kDict, "SETITEM");
        return;
      }
      case kSetItems: {
        std::vector<Value*> items = pop_mark();
        if (items.size() % 2 != 0) m_.fail("SETITEMS with an odd number of items");
        append(top(), items, Kind::kDict, "SETITEMS");
        return;
      }
      case kPut: memo_put(parse_index(in_.line(), "PUT")); return;
      case kBinPut: memo_put(in_.u8()); return;
      case kLongBinPut: memo_put(load_le32(in_.take(4))); return;
      case kMemoize: memo_put(memo_.size()); return;
      case kGet: memo_get(parse_index(in_.line(), "GET")); return;
      case kBinGet: memo_get(in_.u8()); return;
      case kLongBinGet: memo_get(load_le32(in_.take(4))); return;
      case kGlobal: {
        const std::string module = in_.line();
        const std::string name = in_.line();
        push(m_.global(module, name));
        return;
      }
      case kStackGlobal: {
        Value* name = pop();
        Value* module = pop();
        if (module->kind != Kind::kString || name->kind != Kind::kString) m_.fail("STACK_GLOBAL of non-strings");
        push(m_.global(module->text, name->text));
        return;
      }
      case kReduce: {
        Value* args = pop();
        Value* callable = pop();
        push(m_.reduce(callable, args));
        return;
      }
      case kBuild: {
        Value* state = pop();
        m_.build(top(), state);
        return;
      }
      case kBinPersId: {
        if (!allow_persistent_ids_) m_.fail("a persistent id appears where none is allowed");
        Value* pid = pop();
        push(m_.persistent_load(pid));
        return;
      }
      case kPersId: m_.fail("text persistent ids (PERSID) are not used by torch.save; refusing the file");
      case kNewObj: case kNewObjEx: {
        if (op == kNewObjEx) pop();  // kwargs
        pop();                       // args
        refuse_class(pop(), op == kNewObj ? "NEWOBJ" : "NEWOBJ_EX");
      }
      case kInst: {
        const std::string module = in_.line();
        const std::string name = in_.line();
        refuse_class(m_.global(module, name), "INST");
      }
      case kObj: {
        std::vector<Value*> items = pop_mark();
        if (items.empty()) m_.fail("OBJ without a class");
        refuse_class(items.front(), "OBJ");
      }
      case kExt1: case kExt2: case kExt4:
        m_.fail("the pickle uses the copyreg extension registry (EXT opcodes), which is not allowed in a weights file");
      case kNextBuffer: case kReadonlyBuffer:
        m_.fail("the pickle uses out-of-band buffers (protocol 5), which torch.save never writes");
      default:
        m_.fail("unknown pickle opcode 0x" + hex(op) + " at byte " + std::to_string(at) +
                "; the file is corrupt or not a torch.save file");
    }
  }

  static std::string hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }

  [[noreturn]] void refuse_class(const Value* cls, const char* op) {
    const std::string name = cls->kind == Kind::kGlobal ? "'" + cls->text + "'" : std::string(describe(cls->kind));
    m_.fail(std::string(op) + " would create an object of " + name +
            ", which is not allowed in a weights file; nothing from the file was executed");
  }

  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

  void push(Value* v) { stack_.push_back(v); }

  Value* pop() {
    if (stack_.size() <= floor()) m_.fail("the pickle pops an empty stack; the file is corrupt");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }

  Value* top() {
    if (stack_.size() <= floor()) m_.fail("the pickle reads an empty stack; the file is corrupt");
    return stack_.back();
  }

  std::vector<Value*> pop_mark() {
    if (marks_.empty()) m_.fail("the pickle closes a MARK it never opened; the file is corrupt");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  void append(Value* target, const std::vector<Value*>& items, Kind expected, const char* op) {
    if (target->kind != expected) {
      m_.fail(std::string(op) + " into " + describe(target->kind) + "; expected " + describe(expected));
    }
    target->items.insert(target->items.end(), items.begin(), items.end());
  }

  void memo_put(uint64_t index) {
    Value* v = top();
    memo_[index] = v;
  }

  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) m_.fail("the pickle reads memo entry " + std::to_string(index) + ", which was never stored");
    push(it->second);
  }

  uint64_t parse_index(const std::string& text, const char* op) {
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
      m_.fail(std::string("malformed ") + op + " index '" + printable(text) + "'");
    }
    return std::stoull(text);
  }

  Value* boolean(bool b) {
    Value* v = m_.make(Kind::kBool);
    v->boolean = b;
    return v;
  }

  Value* integer(int64_t i) {
    Value* v = m_.make(Kind::kInt);
    v->integer = i;
    return v;
  }

  // LONG1/LONG4: little-endian two's complement of n bytes. Values that fit int64 become kInt; wider ones
  // (only torch's legacy magic number, in practice) keep their bytes as kBigInt for comparison.
  Value* long_bytes(uint64_t n) {
    const uint8_t* p = in_.take(n);
    if (n > 8) {
      Value* v = m_.make(Kind::kBigInt);
      v->text.assign(reinterpret_cast<const char*>(p), n);
      return v;
    }
    uint64_t u = 0;
    for (uint64_t i = n; i > 0; --i) u = (u << 8) | p[i - 1];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return integer(static_cast<int64_t>(u));
  }

  Value* text_int(const std::string& text, bool allow_bool) {
    if (allow_bool && text == "00") return boolean(false);
    if (allow_bool && text == "01") return boolean(true);
    const std::size_t digits_from = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.size() <= digits_from || text.find_first_not_of("0123456789", digits_from) != std::string::npos ||
        end != text.c_str() + text.size() || errno == ERANGE) {
      m_.fail("malformed or oversized integer '" + printable(text) + "'");
    }
    return integer(value);
  }

  Value* unicode(uint64_t n) {
    const uint8_t* p = in_.take(n);
    Value* v = m_.make(Kind::kString);
    v->text.assign(reinterpret_cast<const char*>(p), n);
    if (!is_valid_utf8(v->text)) m_.fail("a string in the pickle is not valid UTF-8");
    return v;
  }

  Value* bytes(uint64_t n) {
    const uint8_t* p = in_.take(n);
    Value* v = m_.make(Kind::kBytes);
    v->text.assign(reinterpret_cast<const char*>(p), n);
    return v;
  }

  // Protocol-0 STRING ('...' or "...") and UNICODE (raw). Escapes never occur in the names a state dict
  // holds, so rather than implement Python's repr unescaping they are refused.
  Value* text_string(std::string text, bool quoted) {
    if (quoted) {
      if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') || text.back() != text.front()) {
        m_.fail("malformed STRING argument");
      }
      text = text.substr(1, text.size() - 2);
    }
    if (text.find('\\') != std::string::npos) m_.fail("escaped protocol-0 strings are not supported");
    if (!is_valid_utf8(text)) m_.fail("a string in the pickle is not valid UTF-8");
    Value* v = m_.make(Kind::kString);
    v->text = std::move(text);
    return v;
  }

  Reader in_;
  Machine& m_;
  bool allow_persistent_ids_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace

PickleResult unpickle(ByteSpan bytes, const std::string& where, const UnpickleOptions& options) {
  Machine machine(where, options);
  Loop loop(bytes, machine, options.allow_persistent_ids);
  machine.result.root = loop.run();
  machine.result.consumed = loop.consumed();
  return std::move(machine.result);
}

}  // namespace ftbench::weights::pickle
