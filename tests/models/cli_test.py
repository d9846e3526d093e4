"""`ftbench inspect` and `ftbench forward` from the outside: exit codes, messages, and what inspect shows.

    cli_test.py FTBENCH WORKDIR
"""
import os
import re
import subprocess
import sys
import unittest

import torch
from safetensors.torch import save_file

FTBENCH = WORKDIR = ""

# Issue 4's list: every one must be in the registry.
REQUIRED = """resnet18 resnet34 resnet50 resnet101 resnet152 resnext50_32x4d wide_resnet50_2
vgg11 vgg13 vgg16 vgg19 vgg11_bn vgg13_bn vgg16_bn vgg19_bn alexnet inception_v3 googlenet
densenet121 densenet161 densenet169 densenet201 mobilenet_v2 mobilenet_v3_small mobilenet_v3_large
efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 regnet_y_400mf regnet_y_800mf
shufflenet_v2_x1_0 squeezenet1_1 mnasnet1_0 convnext_tiny vit_b_16 swin_t""".split()


def ftbench(*args):
    return subprocess.run([FTBENCH, *args], capture_output=True, text=True, timeout=120)


def batch(name, size, key="input"):
    path = os.path.join(WORKDIR, name)
    save_file({key: torch.zeros(1, 3, size, size)}, path)
    return path


class Inspect(unittest.TestCase):
    def test_lists_every_required_model_with_its_note(self):
        out = ftbench("inspect", "--list")
        self.assertEqual(out.returncode, 0, out.stderr)
        listed = {line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()}
        self.assertEqual(sorted(set(REQUIRED) - listed), [])

    def test_readme_table_matches_the_registry(self):
        out = ftbench("inspect", "--list")
        listed = [line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()]
        readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
        table = readme.split("<!-- models-table:")[1].split("<!-- /models-table -->")[0]
        in_readme = re.findall(r"^\| `([a-z0-9_]+)` \|", table, re.M)
        self.assertEqual(in_readme, listed, "regenerate the README's models table from `ftbench inspect --list`")

    def test_unknown_model_exits_2_with_the_closest_name_and_the_valid_ones(self):
        out = ftbench("inspect", "resnet81")
        self.assertEqual(out.returncode, 2)
        self.assertIn("did you mean 'resnet18'?", out.stderr)
        self.assertIn("resnet152", out.stderr)
        self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)

    def test_input_below_the_minimum_exits_2_naming_it(self):
        out = ftbench("inspect", "resnet18", "--input-size", "16")
        self.assertEqual(out.returncode, 2)
        self.assertIn("minimum of 32", out.stderr)

    def test_resnet18_shows_identity_and_projection_shortcuts_with_the_line(self):
        out = ftbench("inspect", "resnet18", "--input-size", "64")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"\n  layer1\.0 +BasicBlock +identity +resnet\.cpp:\d+")
        self.assertRegex(out.stdout, r"\n  layer2\.0 +BasicBlock +1x1 downsample projection \(conv stride \[2, 2\]")
        self.assertRegex(out.stdout, r"\n  layer2\.1 +BasicBlock +identity")
        self.assertRegex(out.stdout, r"parameters 11181642 total, 11181642 trainable")
        self.assertRegex(out.stdout, r"\n +layer4 +Sequential +\[1, 512, 2, 2\]")
        self.assertRegex(out.stdout, r"\n +fc +Linear +\[1, 10\] +5,130")

    def test_bottleneck_models_mark_their_residuals_too(self):
        out = ftbench("inspect", "resnet50", "--input-size", "32")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"\n  layer1\.0 +Bottleneck +1x1 downsample projection \(conv stride \[1, 1\]")
        self.assertEqual(len(re.findall(r"Bottleneck +identity", out.stdout)), 12)  # 16 blocks, 4 projections


class Forward(unittest.TestCase):
    def test_input_below_the_minimum_exits_2_naming_the_file_and_minimum(self):
        small = batch("small.safetensors", 16)
        out = ftbench("forward", "--model", "resnet18", "--input", small, "--output", os.path.join(WORKDIR, "o.st"))
        self.assertEqual(out.returncode, 2)
        self.assertIn(small, out.stderr)
        self.assertIn("minimum of 32", out.stderr)

    def test_vit_takes_224_only(self):
        out = ftbench("forward", "--model", "vit_b_16", "--input", batch("v.safetensors", 64), "--output",
                      os.path.join(WORKDIR, "o.st"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("224x224 only", out.stderr)

    def test_a_file_without_input_exits_2_saying_what_to_save(self):
        wrong = batch("wrong.safetensors", 32, key="images")
        out = ftbench("forward", "--model", "resnet18", "--input", wrong, "--output", os.path.join(WORKDIR, "o.st"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("no tensor named 'input'", out.stderr)

    def test_weights_of_another_model_exit_2_listing_the_keys(self):
        weights = os.path.join(WORKDIR, "tiny.safetensors")
        save_file({"fc.weight": torch.zeros(3, 3)}, weights)
        out = ftbench("forward", "--model", "resnet18", "--weights", weights, "--input", batch("b.safetensors", 32),
                      "--output", os.path.join(WORKDIR, "o.st"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("missing", out.stderr)


if __name__ == "__main__":
    FTBENCH, WORKDIR = sys.argv[1], sys.argv[2]
    os.makedirs(WORKDIR, exist_ok=True)
    unittest.main(argv=sys.argv[:1], verbosity=2)
