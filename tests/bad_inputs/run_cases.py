"""The bad-input catalogue: every way a user can hand ftbench a broken input, and what ftbench must say.

    run_cases.py setup   --ftbench F --mpiexec M --workdir W   builds the shared fixtures (fixtures.py)
    run_cases.py case NAME... --ftbench F --mpiexec M --workdir W   runs cases (cases/NAME.case)
    run_cases.py catalogue                                      checks the catalogue covers issue 8's list

A case file (cases/*.case) is the contract for one bad input, readable without this script:

    # What the user did wrong, in a sentence or two (comment lines).
    covers: config-nan                 topics of the catalogue this case counts for (see TOPICS)
    setup: VERB ARGS...                prepares the case's directory (see SETUP VERBS), in order
    command: run $CONFIG               ftbench's arguments; `run` goes through mpiexec -n 2
    ranks: 2                           optional: ranks for a `run` case (default 2); other commands run alone
    position: none                     optional: a config-* case whose message cannot hold LINE:COL (an empty
                                       or missing file, a path refused after parsing); else it is required
    expect: $CONFIG:13:6: train.lr     substrings of the ONE error line, in any order
    marker: $SHARED/markers/x.ran      optional: a file that must not exist afterwards (a payload that ran)
    pending: REASON                    optional: a known defect to be fixed outside the catalogue; the case
                                       still runs, and is reported SKIPPED (never passed) while it fails,
                                       and FAILED once it passes (so that the line is removed)
    ---
    the experiment TOML, written to $CONFIG (optional). With `body: escapes`, \\xNN escapes are bytes.

Placeholders: $WORK (the case's own directory), $CONFIG ($WORK/experiment.toml), $DATA ($WORK/data, a copy
of a synthetic CIFAR-10 directory), $RESULTS ($WORK/results/catalogue.h5, a copy of a real results file of
this experiment), $SHARED (the shared fixtures, fixtures.py).

Every case must, or the test fails:
- exit 2, and under mpiexec on every rank (each rank's own status is recorded by a wrapper);
- finish within TIMEOUT_S (a hang guard, not a speed test);
- print exactly one line that mentions an error (once, not once per rank), holding every `expect` substring,
  at least one of which names the file (a placeholder or an absolute path) or the --set override; a config-* case's error carries $CONFIG:LINE:COL (unless position: none);
- not crash: no sanitizer report, signal, core file, "terminate called" or MPI_ABORT;
- leave every file that was in $WORK before the command byte-identical (sha256), add no .h5 file, and leave
  no `marker`.
"""
import argparse
import codecs
import glob
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixtures  # noqa: E402

TIMEOUT_S = 60
SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE for the cases (tests/bad_inputs/CMakeLists.txt)
MPI_FLAGS = fixtures.MPI_FLAGS
CRASH_SIGNS = ["Sanitizer", "runtime error:", "Segmentation fault", "core dumped", "terminate called", "MPI_ABORT",
               "Aborted", "Traceback", "signal"]

# What issue 8 (section 5) asks the catalogue to cover; `catalogue` checks each topic has a case.
TOPICS = """
config-syntax config-missing-file config-unknown-key config-misspelled-key config-wrong-type config-nan config-inf config-negative
config-zero config-huge-integer config-empty config-bom config-invalid-utf8 config-duplicate-key
config-duplicate-runs config-batch-below-world config-input-below-minimum config-unknown-model
config-unknown-strategy config-unknown-stage config-unwritable-output
data-missing data-empty data-truncated data-record-size data-label data-corrupt-targz
weights-truncated weights-wrong-format weights-shape-mismatch weights-malicious-pickle
results-other-experiment results-corrupt results-open-for-write
""".split()
MIN_CASES = 40


class CaseError(AssertionError):
    pass


class CasePending(Exception):
    """A known defect whose fix lies outside this catalogue's reach; CTest reports the case as skipped."""


def parse_case(path):
    with open(path, "rb") as f:
        raw = f.read()
    head, sep, rest = raw.partition(b"\n---\n")
    spec = {"name": os.path.basename(path)[:-len(".case")], "covers": [], "setup": [], "expect": [], "marker": [],
            "comment": [], "body": None, "ranks": 2, "command": None, "body_mode": "text",
            "position": None, "pending": None}
    for line in head.decode("utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            spec["comment"].append(line[1:].strip())
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("covers",):
            spec["covers"] += value.split()
        elif key in ("setup", "expect", "marker"):
            spec[key].append(value)
        elif key == "pending":
            spec["pending"] = value
        elif key == "command":
            spec["command"] = value
        elif key == "ranks":
            spec["ranks"] = int(value)
        elif key == "body":
            spec["body_mode"] = value
        elif key == "position":
            if value not in ("required", "none"):
                raise CaseError(f"{path}: position: {value}: expected required or none")
            spec["position"] = value == "required"
        else:
            raise CaseError(f"{path}: unknown key '{key}'")
    if sep:
        spec["body"] = rest
    if spec["position"] is None:  # a config case points at the TOML unless it says why it cannot
        spec["position"] = any(t.startswith("config-") for t in spec["covers"])
    if not spec["command"] or not spec["expect"] or not spec["covers"] or not spec["comment"]:
        raise CaseError(f"{path}: a case needs a comment, covers:, command: and at least one expect:")
    return spec


def substitute(text, env):
    for key in sorted(env, key=len, reverse=True):
        text = text.replace("$" + key, env[key])
    return text


# ---- setup verbs -------------------------------------------------------------------------------------------
def size_arg(path, spec):
    """N bytes, -N (N fewer than now) or N% of the current size."""
    size = os.path.getsize(path)
    if spec.endswith("%"):
        return size * int(spec[:-1]) // 100
    return size + int(spec) if spec.startswith("-") else int(spec)


def setup_step(step, env):
    verb, *args = step.split(None, 2 if step.startswith(("write", "poke")) else -1)
    args = [substitute(a, env) for a in args]
    if verb == "copy":  # copy SRC DST
        os.makedirs(os.path.dirname(args[1]), exist_ok=True)
        (shutil.copytree if os.path.isdir(args[0]) else shutil.copy)(args[0], args[1])
    elif verb == "remove":  # remove PATH
        (shutil.rmtree if os.path.isdir(args[0]) else os.remove)(args[0])
    elif verb == "mkdir":
        os.makedirs(args[0], exist_ok=True)
    elif verb == "truncate":  # truncate PATH SIZE
        os.truncate(args[0], size_arg(args[0], args[1]))
    elif verb == "write":  # write PATH TEXT (\xNN escapes allowed)
        with open(args[0], "wb") as f:
            f.write(codecs.escape_decode(args[1].encode())[0] if len(args) > 1 else b"")
    elif verb == "append":  # append PATH HEX
        with open(args[0], "ab") as f:
            f.write(bytes.fromhex(args[1]))
    elif verb == "poke":  # poke PATH OFFSET HEX: overwrite bytes at OFFSET (negative: from the end)
        offset, data = args[1].split(None, 1)
        with open(args[0], "r+b") as f:
            f.seek(int(offset, 0), os.SEEK_SET if int(offset, 0) >= 0 else os.SEEK_END)
            f.write(bytes.fromhex(data))
    elif verb == "targz":  # targz DIR OUT: cifar-10-binary.tar.gz layout (cifar-10-batches-bin/...)
        with tarfile.open(args[1], "w:gz") as tar:
            tar.add(args[0], arcname="cifar-10-batches-bin")
    elif verb == "gzip":  # gzip SRC OUT: a gzip stream that is not a tar archive
        with open(args[0], "rb") as src, gzip.open(args[1], "wb") as out:
            out.write(src.read())
    else:
        raise CaseError(f"unknown setup verb '{verb}'")


# ---- running and checking ------------------------------------------------------------------------------------
def snapshot(root):
    digests = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                digests[path] = hashlib.sha256(f.read()).hexdigest()
    return digests


def run_case(spec, args):
    work = os.path.join(args.workdir, "cases", spec["name"])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shared = os.path.join(args.workdir, "shared")
    if not os.path.exists(os.path.join(shared, "results", "catalogue.h5")):
        raise CaseError(f"{shared}: no shared fixtures; run the bad_inputs_setup test first")
    env = {"WORK": work, "CONFIG": os.path.join(work, "experiment.toml"), "DATA": os.path.join(work, "data"),
           "RESULTS": os.path.join(work, "results", "catalogue.h5"), "SHARED": shared}
    shutil.copytree(os.path.join(shared, "data"), env["DATA"])
    os.makedirs(os.path.join(work, "results"))
    shutil.copy(os.path.join(shared, "results", "catalogue.h5"), env["RESULTS"])
    if spec["body"] is not None:
        body = spec["body"]
        if spec["body_mode"] == "escapes":
            body = codecs.escape_decode(body)[0]
        elif spec["body_mode"] != "text":
            raise CaseError(f"body: {spec['body_mode']}: expected text or escapes")
        with open(env["CONFIG"], "wb") as f:
            f.write(substitute(body.decode("latin-1"), env).encode("latin-1"))
    for step in spec["setup"]:
        setup_step(step, env)

    before = snapshot(work)
    argv = substitute(spec["command"], env).split()
    rc_dir = tempfile.mkdtemp(prefix="ftbench-rc-")
    mpi = argv[0] == "run"
    if mpi:
        # Each rank records its own exit status: mpiexec's alone would hide a rank that exited 0 or hung.
        wrapper = '"$@"; rc=$?; echo $rc > "$0/rank$OMPI_COMM_WORLD_RANK"; exit $rc'
        cmd = [args.mpiexec, "-n", str(spec["ranks"])] + MPI_FLAGS + ["sh", "-c", wrapper, rc_dir, args.ftbench] + argv
    else:
        cmd = [args.ftbench] + argv
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S, cwd=work,
                              start_new_session=True)
    except subprocess.TimeoutExpired as e:
        raise CaseError(f"{spec['name']}: no answer within {TIMEOUT_S} s (a hang): {' '.join(cmd)}\n"
                        f"stdout: {e.stdout}\nstderr: {e.stderr}")
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    check(proc.returncode == 2, f"exit status {proc.returncode}, expected 2")
    if mpi:
        codes = {}
        for r in range(spec["ranks"]):
            path = os.path.join(rc_dir, f"rank{r}")
            codes[r] = open(path).read().strip() if os.path.exists(path) else "none (killed?)"
        check(all(c == "2" for c in codes.values()), f"per-rank exit statuses {codes}, expected 2 on every rank")
    shutil.rmtree(rc_dir, ignore_errors=True)
    for sign in CRASH_SIGNS:
        check(sign not in output, f"crash sign '{sign}' in the output")
    check(not glob.glob(os.path.join(work, "**", "core*"), recursive=True), "a core file was left")

    expects = [substitute(e, env) for e in spec["expect"]]
    check(any(any("$" + k in e for k in env) or e.startswith(("/", "--set ")) for e in spec["expect"]),
          "no expect names the file (through $WORK, $CONFIG, $DATA, $RESULTS, $SHARED or an absolute path) or "
          "the --set override")
    error_lines = [l for l in output.splitlines() if re.search(r"error", l, re.IGNORECASE)]
    check(len(error_lines) == 1, f"{len(error_lines)} lines mention an error, expected exactly one (printed once, "
                                 f"one line): {error_lines}")
    line = error_lines[0] if error_lines else ""
    for e in expects:
        check(e in line, f"the error line lacks {e!r}")
    if spec["position"]:
        check(re.search(re.escape(env["CONFIG"]) + r":\d+:\d+: ", line) is not None,
              "the error line has no $CONFIG:LINE:COL position")

    after = snapshot(work)
    for path, digest in before.items():
        check(after.get(path) == digest, f"{path} was {'changed' if path in after else 'removed'}")
    new_h5 = [p for p in after if p not in before and p.endswith(".h5")]
    check(not new_h5, f"new results files appeared: {new_h5}")
    for marker in spec["marker"]:
        check(not os.path.exists(substitute(marker, env)), f"{substitute(marker, env)} exists: the payload ran")

    print(f"{spec['name']}: exit {proc.returncode} in {elapsed:.1f} s: {line}")
    if spec["pending"]:
        if not problems:
            raise CaseError(f"{spec['name']} is marked pending ({spec['pending']}) but now meets the contract: "
                            "remove its pending: line")
        raise CasePending(f"{spec['name']} does not meet the contract yet ({spec['pending']}):\n  - " +
                          "\n  - ".join(problems))
    if problems:
        raise CaseError(f"{spec['name']} ({' '.join(cmd)}):\n  - " + "\n  - ".join(problems) +
                        f"\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")


def all_cases():
    return sorted(glob.glob(os.path.join(HERE, "cases", "*.case")))


def check_catalogue():
    specs = [parse_case(p) for p in all_cases()]
    covered = {t for s in specs for t in s["covers"]}
    unknown = covered - set(TOPICS)
    missing = [t for t in TOPICS if t not in covered]
    if unknown:
        raise CaseError(f"cases cover unknown topics {sorted(unknown)}; add them to TOPICS or fix the case")
    if missing:
        raise CaseError(f"no case covers {missing}")
    if len(specs) < MIN_CASES:
        raise CaseError(f"{len(specs)} cases, the catalogue needs at least {MIN_CASES}")
    print(f"{len(specs)} cases cover all {len(TOPICS)} topics")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["setup", "case", "catalogue"])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--ftbench")
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if os.getuid() == 0:
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    if args.action == "catalogue":
        check_catalogue()
    elif args.action == "setup":
        fixtures.build(args.ftbench, args.mpiexec, os.path.join(args.workdir, "shared"))
    else:
        names = args.names or [os.path.basename(p)[:-5] for p in all_cases()]
        failed, pending = [], []
        for name in names:
            try:
                run_case(parse_case(os.path.join(HERE, "cases", name + ".case")), args)
            except CaseError as e:
                failed.append(name)
                print(f"FAILED {e}", file=sys.stderr)
            except CasePending as e:
                pending.append(name)
                print(f"SKIPPED (pending) {e}", file=sys.stderr)
        if failed:
            sys.exit(f"{len(failed)} of {len(names)} case(s) failed: {' '.join(failed)}")
        if pending:
            print(f"{len(pending)} of {len(names)} case(s) pending, not passed: {' '.join(pending)}", file=sys.stderr)
            sys.exit(SKIP_EXIT)


if __name__ == "__main__":
    main()
