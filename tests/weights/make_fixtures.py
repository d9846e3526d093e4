"""Writes the weight-file fixtures of tests/weights with the venv's real torch, torchvision and safetensors.

    make_fixtures.py OUT_DIR [--small]      (--small: without the resnet18 files, for fuzz seeds)

Nothing is committed as a binary: CTest runs this as a FIXTURES_SETUP before the C++ and CLI tests.

OUT_DIR/good/     files that must load. For each, <ref>.json + <ref>.bin hold the expected tensors
                  (name -> dtype, shape, offset and size of its contiguous bytes in <ref>.bin), written from
                  the Python tensors themselves; good/index.json maps each file to its reference.
OUT_DIR/evil/     pickles whose payload would create a file in OUT_DIR/markers/ if it ran. Before writing
                  each one, the same payload (aimed at OUT_DIR/proof/) is loaded with Python's own pickle
                  to prove that it is live. evil/index.json: file -> {marker, names} (names the error must
                  mention).
OUT_DIR/bad/      broken files, each of which must be refused with exit 2 naming it.
OUT_DIR/seeds/    small valid inputs for the fuzz targets (pickle, legacy, zip, safetensors).
"""
import collections
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

import torch
import torchvision
from safetensors.torch import save_file

OUT = os.path.abspath(sys.argv[1])
SMALL = "--small" in sys.argv[2:]  # fuzz seeds only: skip the resnet18 files (~200 MB)
GOOD, EVIL, BAD, SEEDS = (os.path.join(OUT, d) for d in ("good", "evil", "bad", "seeds"))
MARKERS, PROOF = os.path.join(OUT, "markers"), os.path.join(OUT, "proof")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write_reference(ref, tensors):
    """<ref>.json + <ref>.bin: every tensor's contiguous bytes, the oracle the C++ tests compare with."""
    manifest, offset = {}, 0
    with open(os.path.join(GOOD, ref + ".bin"), "wb") as bin_file:
        for name, t in tensors.items():
            data = t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
            bin_file.write(data)
            manifest[name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                              "offset": offset, "nbytes": len(data)}
            offset += len(data)
    with open(os.path.join(GOOD, ref + ".json"), "w") as f:
        json.dump(manifest, f)


def resnet18_state_dict():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    # Non-trivial buffers, so that a loader that skipped them would be caught.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.num_batches_tracked.fill_(7)
    return model.state_dict()  # an OrderedDict with _metadata, as torchvision's files are


def views():
    base = torch.arange(48, dtype=torch.float32) * 0.5
    ints = torch.arange(10, dtype=torch.int64) * 3
    return collections.OrderedDict([
        ("whole", base),
        ("slice", base[8:20].view(3, 4)),          # offset 8 in a shared storage
        ("transposed", base.view(6, 8).t()),      # strides (1, 8)
        ("strided", base[1::3]),                  # stride 3, offset 1
        ("row", base.view(6, 8)[2]),              # offset 16
        ("ints_tail", ints[4:]),                  # an int64 storage shared with the next
        ("ints", ints),
    ])


def dtypes(legacy):
    torch.manual_seed(1)
    d = collections.OrderedDict([
        ("f32", torch.randn(3, 4)),
        ("f16", torch.randn(5).half()),
        ("bf16", torch.randn(2, 3).bfloat16()),
        ("f64", torch.randn(4, dtype=torch.float64)),
        ("i64", torch.tensor([-(2 ** 40), 0, 2 ** 40])),
        ("i32", torch.tensor([-5, 7], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 300], dtype=torch.int16)),
        ("i8", torch.tensor([-100, 100], dtype=torch.int8)),
        ("u8", torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.25)),
        ("empty", torch.zeros(0, 3)),
        ("param", torch.nn.Parameter(torch.randn(2, 2))),  # _rebuild_parameter
    ])
    if not legacy:
        d["u16"] = torch.tensor([1, 65535], dtype=torch.uint16)  # _rebuild_tensor_v3 + UntypedStorage
    return d


def save_pair(name, obj, ref, legacy=True, protocol=2):
    torch.save(obj, os.path.join(GOOD, name + "_zip.pth"), pickle_protocol=protocol)
    index[name + "_zip.pth"] = ref
    if legacy:
        torch.save(obj, os.path.join(GOOD, name + "_legacy.pth"), _use_new_zipfile_serialization=False,
                   pickle_protocol=protocol)
        index[name + "_legacy.pth"] = ref


# ---- good files -------------------------------------------------------------------------------------------
for d in (GOOD, EVIL, BAD, SEEDS, MARKERS, PROOF):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
index = {}

if not SMALL:
    sd = resnet18_state_dict()
    write_reference("resnet18", sd)
    save_pair("resnet18", sd, "resnet18")
    half = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())
    write_reference("resnet18_fp16", half)
    save_pair("resnet18_fp16", half, "resnet18_fp16", legacy=False)
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(GOOD, "resnet18.safetensors"),
              metadata={"format": "pt"})
    index["resnet18.safetensors"] = "resnet18"

v = views()
write_reference("views", v)
save_pair("views", v, "views")
save_pair("views_p4", v, "views", protocol=4)  # STACK_GLOBAL, MEMOIZE, FRAME, SHORT_BINUNICODE
# Training checkpoints: the state dict nested, DataParallel's "module." prefix, other entries beside it.
nested = {"epoch": 3, "arch": "resnet18", "best_acc1": 0.75, "tag": b"\x00\xffbytes",
          "state_dict": collections.OrderedDict(("module." + k, t) for k, t in v.items())}
save_pair("nested", nested, "views")
save_pair("model_key", {"model": v, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]}}, "views")

for legacy in (False, True):
    d = dtypes(legacy)
    ref = "dtypes_legacy" if legacy else "dtypes"
    write_reference(ref, d)
    name = "dtypes_legacy.pth" if legacy else "dtypes_zip.pth"
    torch.save(d, os.path.join(GOOD, name), _use_new_zipfile_serialization=not legacy)
    index[name] = ref
d = {k: t.detach().contiguous() for k, t in dtypes(False).items()}
save_file(d, os.path.join(GOOD, "dtypes.safetensors"))
index["dtypes.safetensors"] = "dtypes"

with open(os.path.join(GOOD, "index.json"), "w") as f:
    json.dump(index, f, indent=1)
with open(os.path.join(GOOD, "sha256.json"), "w") as f:  # Python's hashlib, the oracle for ftbench's SHA-256
    json.dump({name: hashlib.sha256(read(os.path.join(GOOD, name))).hexdigest() for name in index}, f, indent=1)


# ---- malicious pickles ------------------------------------------------------------------------------------
class System:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, ("touch " + self.marker,))


class Eval:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (eval, ("open(%r, 'w').close()" % self.marker,))


class Callable:  # REDUCE of an arbitrary callable: open(marker, 'w') creates the file
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (open, (self.marker, "w"))


PAYLOADS = {"system": (System, 2, ["posix.system"]), "eval": (Eval, 4, ["builtins.eval"]),
            "reduce": (Callable, 2, ["open"])}
evil_index = {}
for kind, (cls, protocol, names) in PAYLOADS.items():
    for container in ("zip", "legacy"):
        name = "%s_%s.pth" % (kind, container)
        # Liveness: Python's unpickler runs the payload and the proof marker appears.
        proof = os.path.join(PROOF, name + ".ran")
        buf = io.BytesIO()
        torch.save({"w": torch.ones(2), "payload": cls(proof)}, buf, pickle_protocol=protocol,
                   _use_new_zipfile_serialization=(container == "zip"))
        buf.seek(0)
        torch.load(buf, weights_only=False)
        assert os.path.exists(proof), "payload %s did not run in Python: the test would prove nothing" % name
        marker = os.path.join(MARKERS, name + ".ran")
        torch.save({"w": torch.ones(2), "payload": cls(marker)}, os.path.join(EVIL, name), pickle_protocol=protocol,
                   _use_new_zipfile_serialization=(container == "zip"))
        evil_index[name] = {"marker": marker, "names": names}


def handmade_pickle(ops):
    return b"\x80\x02" + ops + b"."


# REDUCE whose callable is an allowed tag (a storage class) rather than a function: refused by REDUCE itself.
tag_reduce = handmade_pickle(b"ctorch\nFloatStorage\n)R")
evil_index["reduce_tag.pkl"] = {"marker": "", "names": ["REDUCE", "torch.FloatStorage"]}
with open(os.path.join(EVIL, "reduce_tag.pkl"), "wb") as f:
    f.write(tag_reduce)
with open(os.path.join(EVIL, "index.json"), "w") as f:
    json.dump(evil_index, f, indent=1)


# ---- broken files -----------------------------------------------------------------------------------------
def bad(name, data):
    with open(os.path.join(BAD, name), "wb") as f:
        f.write(data)


small = collections.OrderedDict([("a", torch.arange(6, dtype=torch.float32).view(2, 3)), ("b", torch.ones(4))])
zbuf, lbuf = io.BytesIO(), io.BytesIO()
torch.save(small, zbuf)
torch.save(small, lbuf, _use_new_zipfile_serialization=False)
zip_bytes, legacy_bytes = zbuf.getvalue(), lbuf.getvalue()
st_buf = io.BytesIO()
st_small = read(os.path.join(GOOD, "dtypes.safetensors"))

bad("truncated_zip.pth", zip_bytes[: len(zip_bytes) * 2 // 3])


def lying_entry_size(data, suffix, size):
    """The zip `data` with the central directory entry whose name ends in `suffix` declared deflated, with an
    uncompressed size of `size` (what the fuzzer found: LibTorch allocated the claim before reading)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(out[at + 28:at + 30], "little")
        if bytes(out[at + 46:at + 46 + name_len]).endswith(suffix):
            out[at + 10:at + 12] = (8).to_bytes(2, "little")
            out[at + 24:at + 28] = size.to_bytes(4, "little")
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise ValueError(f"no entry ending in {suffix!r}")


bad("lying_entry_size_zip.pth", lying_entry_size(zip_bytes, b"/version", 0x7FFFFFF0))
bad("truncated_legacy.pth", legacy_bytes[:-10])                 # inside the last storage
bad("truncated_legacy_pickle.pth", legacy_bytes[:200])          # inside the main pickle
bad("truncated.safetensors", st_small[:-7])
bad("wrong_magic_legacy.pth", legacy_bytes.replace(b"\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19",
                                                   b"\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x18", 1))
bad("wrong_magic_zip.pth", b"PK\x03\x05" + zip_bytes[4:])
bad("text.pth", b"# not weights\nThis is a README that someone renamed to .pth.\n" * 20)
bad("text.safetensors", b"hello, I am a text file and not a tensor file\n")
bad("empty.pth", b"")
bad("random.bin", bytes((i * 7919 + 13) % 251 for i in range(4096)))


def safetensors_bytes(header, data, length=None):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


bad("lying_header.safetensors", safetensors_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
                                                  b"\0" * 8, length=10 ** 6))
bad("huge_header.safetensors", struct.pack("<Q", 2 ** 62) + b"{}")
bad("overlap.safetensors", safetensors_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12))
bad("gap.safetensors", safetensors_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                          "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, b"\0" * 12))
bad("size_mismatch.safetensors", safetensors_bytes({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                                                   b"\0" * 8))
bad("huge_shape.safetensors", safetensors_bytes(
    {"a": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 8]}}, b"\0" * 8))
bad("unknown_dtype.safetensors", safetensors_bytes({"a": {"dtype": "F7", "shape": [1], "data_offsets": [0, 1]}}, b"\0"))
h = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}'
bad("duplicate.safetensors", struct.pack("<Q", len(h)) + h + b"\0\0")
h = b'{"\xff\xfe":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
bad("bad_utf8.safetensors", struct.pack("<Q", len(h)) + h + b"\0")
bad("trailing.safetensors", safetensors_bytes({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0\0"))


class FakeStorage:
    """Stands for a storage in a hand-made torch.save pickle, so sizes can lie."""
    def __init__(self, key, numel): self.key, self.numel = key, numel


class FakeTensor:
    def __init__(self, storage, size, stride, offset=0):
        self.storage, self.size, self.stride, self.offset = storage, size, stride, offset

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def lying_pickle(obj, legacy):
    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, FakeStorage):
                return ("storage", torch.FloatStorage, o.key, "cpu", o.numel) + ((None,) if legacy else ())
            return None
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def lying_zip(obj, records):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", lying_pickle(obj, legacy=False))
        z.writestr("archive/byteorder", "little")
        for key, data in records.items():
            z.writestr("archive/data/" + key, data)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def lying_legacy(obj, storages):
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    out.write(lying_pickle(obj, legacy=True))
    pickle.dump([k for k, _, _ in storages], out, protocol=2)
    for key, numel, data in storages:
        out.write(struct.pack("<q", numel) + data)
    return out.getvalue()


s = FakeStorage("0", 2)
bad("huge_shape_zip.pth", lying_zip({"w": FakeTensor(s, (2 ** 31, 2 ** 31), (2 ** 31, 1))}, {"0": b"\0" * 8}))
bad("past_storage_zip.pth", lying_zip({"w": FakeTensor(s, (4,), (1,))}, {"0": b"\0" * 8}))
bad("record_size_zip.pth", lying_zip({"w": FakeTensor(FakeStorage("0", 4), (4,), (1,))}, {"0": b"\0" * 8}))
bad("missing_record_zip.pth", lying_zip({"w": FakeTensor(s, (2,), (1,))}, {}))
bad("huge_storage_legacy.pth", lying_legacy({"w": FakeTensor(FakeStorage("0", 2 ** 60), (2,), (1,))},
                                            [("0", 2 ** 60, b"\0" * 8)]))
bad("lying_numel_legacy.pth", lying_legacy({"w": FakeTensor(s, (2,), (1,))}, [("0", 1000, b"\0" * 8)]))
bad("huge_shape_legacy.pth", lying_legacy({"w": FakeTensor(s, (2 ** 62, 4), (1, 1))}, [("0", 2, b"\0" * 8)]))
bad("not_a_state_dict.pth", lying_zip([1, 2, 3], {}))
bad("no_data_pkl_zip.pth", (lambda b: (zipfile.ZipFile(b, "w").writestr("archive/version", "3\n"), b)[1])(io.BytesIO()).getvalue())

# ---- fuzz seeds: small real inputs of each kind -----------------------------------------------------------
for sub in ("pickle", "legacy", "zip", "safetensors"):
    os.makedirs(os.path.join(SEEDS, sub))
for name in ("views_zip.pth", "views_p4_zip.pth", "dtypes_zip.pth"):
    data = read(os.path.join(GOOD, name))
    shutil.copy(os.path.join(GOOD, name), os.path.join(SEEDS, "zip", name))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        with open(os.path.join(SEEDS, "pickle", name + ".pkl"), "wb") as f:
            f.write(z.read(pkl))
for name in ("views_legacy.pth", "views_p4_legacy.pth", "dtypes_legacy.pth"):
    shutil.copy(os.path.join(GOOD, name), os.path.join(SEEDS, "legacy", name))
shutil.copy(os.path.join(GOOD, "dtypes.safetensors"), os.path.join(SEEDS, "safetensors", "dtypes.safetensors"))
save_file({"a": torch.ones(2, 2), "b": torch.zeros(3, dtype=torch.int64)}, os.path.join(SEEDS, "safetensors", "small.safetensors"))
with open(os.path.join(SEEDS, "zip", "small.pth"), "wb") as f:
    f.write(zip_bytes)
shutil.copy(os.path.join(BAD, "lying_entry_size_zip.pth"), os.path.join(SEEDS, "zip"))  # a regression input
with open(os.path.join(SEEDS, "legacy", "small.pth"), "wb") as f:
    f.write(legacy_bytes)
print("fixtures written to", OUT)
