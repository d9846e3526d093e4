"""`ftbench weights` end to end, with Python as the oracle.

    cli_test.py FTBENCH FIXTURES_DIR SOURCE_DIR

- every good file: exit 0; resnet18 files fit --model resnet18, and the small ones do not (exit 2);
- every bad and malicious file: exit 2, one line on stderr naming the file, no crash, and no payload ran;
- `weights convert`: the output is read by the safetensors package and equals torch.load of the input;
- scripts/fetch_weights.sh --list: each URL is torchvision's own for that model.
Prints 'N passed, M failed'.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torchvision.models import get_model_weights

FTBENCH, FIXTURES, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    if not ok:
        print("FAILED:", what)


def ftbench(*args):
    return subprocess.run([FTBENCH, "weights", *args], capture_output=True, text=True, errors="replace", timeout=120)


good = os.path.join(FIXTURES, "good")
for name in sorted(json.load(open(os.path.join(good, "index.json")))):
    r = ftbench("check", os.path.join(good, name))
    check(r.returncode == 0 and "tensors" in r.stdout, "check %s: rc=%d %s" % (name, r.returncode, r.stderr))
    if name.startswith("resnet18"):
        r = ftbench("check", os.path.join(good, name), "--model", "resnet18")
        check(r.returncode == 0 and ": fits:" in r.stdout, "%s fits resnet18: %s %s" % (name, r.stdout, r.stderr))
r = ftbench("check", os.path.join(good, "views_zip.pth"), "--model", "resnet18")
check(r.returncode == 2 and "does not fit resnet18" in r.stderr, "views do not fit resnet18: " + r.stderr)

for folder in ("bad", "evil"):
    for name in sorted(os.listdir(os.path.join(FIXTURES, folder))):
        if name.endswith((".json", ".pkl")):
            continue
        path = os.path.join(FIXTURES, folder, name)
        r = ftbench("check", path)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("ftbench: error: " + path),
              "%s/%s: rc=%d stderr=%r" % (folder, name, r.returncode, r.stderr[-300:]))
evil = json.load(open(os.path.join(FIXTURES, "evil", "index.json")))
for name, info in evil.items():
    if info["marker"]:
        check(not os.path.exists(info["marker"]), "payload of %s ran" % name)
check(os.listdir(os.path.join(FIXTURES, "markers")) == [], "markers appeared")

with tempfile.TemporaryDirectory() as tmp:
    for name in ("resnet18_legacy.pth", "views_zip.pth", "dtypes_zip.pth", "nested_legacy.pth"):
        src, out = os.path.join(good, name), os.path.join(tmp, name + ".safetensors")
        r = ftbench("convert", src, out)
        check(r.returncode == 0, "convert %s: %s" % (name, r.stderr))
        if r.returncode:
            continue
        expected = torch.load(src, weights_only=True)
        if "state_dict" in expected:
            expected = {k[len("module."):]: v for k, v in expected["state_dict"].items()}
        got = load_file(out)
        check(sorted(got) == sorted(expected), "convert %s: names differ" % name)
        check(all(torch.equal(got[k], expected[k]) and got[k].dtype == expected[k].dtype for k in got),
              "convert %s: values differ" % name)
        with safe_open(out, "pt") as f:
            meta = f.metadata()
        check(meta.get("ftbench.source") == name and len(meta.get("ftbench.source_sha256", "")) == 64,
              "convert %s: metadata %r" % (name, meta))
    r = ftbench("check", os.path.join(tmp, "resnet18_legacy.pth.safetensors"), "--model", "resnet18")
    check(r.returncode == 0 and ": fits:" in r.stdout, "converted resnet18 fits: " + r.stderr)
    r = ftbench("convert", os.path.join(good, "views_zip.pth"), os.path.join(tmp, "out.pth"))
    check(r.returncode == 2 and ".safetensors" in r.stderr, "convert to a non-.safetensors name: " + r.stderr)

listing = subprocess.run(["bash", os.path.join(SOURCE, "scripts", "fetch_weights.sh"), "--list"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
for line in filter(None, listing):
    model, file, url = line.split()
    official = get_model_weights(model).IMAGENET1K_V1.url
    check(url == official and url.endswith("/" + file), "fetch_weights.sh %s: %s, torchvision says %s" % (model, url, official))

print("%d passed, %d failed" % (results["passed"], results["failed"]))
sys.exit(1 if results["failed"] else 0)
