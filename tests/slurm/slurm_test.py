"""The Slurm job scripts against a real one-node Slurm cluster (tests/slurm/cluster.sh starts and stops it).

    slurm_test.py FTBENCH_ROOT FTBENCH WORKDIR [--preemption]

Submits slurm/finetune.sbatch and slurm/sweep-array.sbatch with CPU settings (--gpus-per-node=0, two tasks of
one CPU) and checks what they produce: the HDF5 files (h5py), the report over an array's files, the logs. With
--preemption it runs only the preemption test. If the daemons cannot start, the test fails with their logs.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

import h5py

ROOT = FTBENCH = WORK = ""
ENV = {}

EXPERIMENT = """
[experiment]
name = "slurm-{name}"
output = "{work}/{name}.h5"
[data]
dataset = "synthetic"
path = "{work}/synthetic"
train_size = {train}
test_size = 64
input_size = 32
[train]
epochs = {epochs}
batch_size = 32
lr = 0.05
threads = 1
[matrix]
models = {models}
"""


def write_experiment(name, models='["resnet18"]', epochs=1, train=256):
    path = os.path.join(WORK, name + ".toml")
    with open(path, "w") as f:
        f.write(EXPERIMENT.format(name=name, work=WORK, models=models, epochs=epochs, train=train))
    return path


def sbatch(*args, wait=True):
    cmd = ["sbatch", "--parsable"] + (["--wait"] if wait else []) + list(args)
    return subprocess.run(cmd, cwd=WORK, env=ENV, capture_output=True, text=True, timeout=600)


def logs(pattern):
    out = ""
    for path in sorted(glob.glob(os.path.join(WORK, "logs", pattern))):
        with open(path) as f:
            out += f"--- {path}\n" + f.read()
    return out


class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start = subprocess.run([os.path.join(ROOT, "tests/slurm/cluster.sh"), "start", os.path.join(WORK, "cluster")],
                               capture_output=True, text=True, timeout=120)
        if start.returncode != 0:
            raise RuntimeError("the test cluster did not start:\n" + start.stdout + start.stderr)
        ENV["SLURM_CONF"] = os.path.join(WORK, "cluster", "slurm.conf")

    @classmethod
    def tearDownClass(cls):
        subprocess.run([os.path.join(ROOT, "tests/slurm/cluster.sh"), "stop", os.path.join(WORK, "cluster")],
                       timeout=120)


class JobScripts(Cluster):
    def test_single_node_job_runs_two_tasks_and_writes_its_file(self):
        exp = write_experiment("single")
        job = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1",
                     os.path.join(ROOT, "slurm/finetune.sbatch"), exp)
        self.assertEqual(job.returncode, 0, job.stdout + job.stderr + logs("ftbench-*.out"))
        with h5py.File(os.path.join(WORK, "single.h5"), "r") as f:
            run = f["runs/resnet18-full-s0"]
            self.assertEqual(run.attrs["status"], "completed")
            self.assertEqual(int(run.attrs["world_size"]), 2)
            self.assertEqual(len(run["epoch"]), 1)
        log = logs(f"ftbench-{job.stdout.strip()}.out")
        self.assertIn("2 task(s)", log)
        self.assertIn("2 rank(s)", log)
        self.assertIn("ftbench exited 0", log)

    def test_mpirun_inside_the_allocation_works_too(self):
        exp = write_experiment("mpirun")
        env_job = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1",
                         "--export=ALL,FTBENCH_LAUNCH=mpirun", os.path.join(ROOT, "slurm/finetune.sbatch"), exp)
        self.assertEqual(env_job.returncode, 0, env_job.stdout + env_job.stderr + logs("ftbench-*.out"))
        with h5py.File(os.path.join(WORK, "mpirun.h5"), "r") as f:
            self.assertEqual(int(f["runs/resnet18-full-s0"].attrs["world_size"]), 2)

    def test_array_runs_one_task_per_run_and_report_shows_all(self):
        exp = write_experiment("sweep", models='["resnet18", "squeezenet1_1", "googlenet"]')
        listed = subprocess.run([FTBENCH, "run", exp, "--list"], capture_output=True, text=True)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("3 run(s)", listed.stdout)
        sweep_dir = os.path.join(WORK, "sweep-results")
        job = sbatch("--array=0-2", "--gpus-per-node=0", "--cpus-per-task=1",
                     f"--export=ALL,FTBENCH_SWEEP_DIR={sweep_dir}", os.path.join(ROOT, "slurm/sweep-array.sbatch"),
                     exp)
        self.assertEqual(job.returncode, 0, job.stdout + job.stderr + logs("ftbench-sweep-*.out"))
        self.assertEqual(sorted(f for f in os.listdir(sweep_dir) if f.endswith(".h5")), ["run-0.h5", "run-1.h5", "run-2.h5"])
        report = subprocess.run([FTBENCH, "report", sweep_dir, "--format", "json", "--runs"], capture_output=True,
                                text=True)
        self.assertEqual(report.returncode, 0, report.stderr)
        rows = json.loads(report.stdout)
        self.assertEqual(sorted(r["run"] for r in rows),
                         ["googlenet-full-s0", "resnet18-full-s0", "squeezenet1_1-full-s0"])
        self.assertTrue(all(r["status"] == "completed" for r in rows), rows)

    def test_srun_without_pmi_fails_instead_of_running_singletons(self):
        # Open MPI 4.1 itself refuses a direct launch without PMI; the job fails and writes nothing.
        exp = write_experiment("nopmi")
        job = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1",
                     "--export=ALL,FTBENCH_SRUN_MPI=none", os.path.join(ROOT, "slurm/finetune.sbatch"), exp)
        self.assertNotEqual(job.returncode, 0)
        log = logs(f"ftbench-{job.stdout.strip()}.out")
        self.assertIn("PMI", log)
        self.assertRegex(log, r"ftbench exited [1-9]")
        self.assertFalse(os.path.exists(os.path.join(WORK, "nopmi.h5")))

    def test_a_singleton_of_a_larger_srun_step_is_refused(self):
        # What an MPI without that check would do: each of srun's N tasks sees a world of one. ftbench compares
        # srun's task count with the MPI world and stops with exit 2 before touching anything.
        exp = write_experiment("singleton")
        exit_file = os.path.join(WORK, "singleton.exit")
        env = dict(ENV, SLURM_STEP_NUM_TASKS="2", FTBENCH_EXIT_FILE=exit_file)
        env.pop("OMPI_COMM_WORLD_SIZE", None)
        out = subprocess.run([FTBENCH, "run", exp], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("srun started 2 tasks, but MPI sees a world of 1", out.stderr)
        self.assertIn("--mpi=pmix", out.stderr)
        self.assertFalse(os.path.exists(os.path.join(WORK, "singleton.h5")))
        with open(exit_file) as f:
            self.assertEqual(f.read(), "2\n")  # what the job scripts read (FTBENCH_EXIT_FILE)

    def test_a_step_that_reports_success_without_ftbench_finishing_fails_the_job(self):
        # srun can exit 0 for a step whose tasks never started ("task launch failed"). That race cannot be
        # caused on demand, so the step here runs a program that exits 0 without being ftbench: no exit code
        # reaches FTBENCH_EXIT_FILE, and the job must fail rather than complete.
        exp = write_experiment("lost")
        job = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1", "--export=ALL,FTBENCH=/bin/true",
                     os.path.join(ROOT, "slurm/finetune.sbatch"), exp)
        log = logs(f"ftbench-{job.stdout.strip()}.out")
        self.assertNotEqual(job.returncode, 0, log)
        self.assertIn("srun reported success, but ftbench never finished", log)
        self.assertIn("ftbench exited 1", log)


def job_field(job_id, field):
    q = subprocess.run(["scontrol", "show", "job", job_id], env=ENV, capture_output=True, text=True)
    return next((w.split("=", 1)[1] for w in q.stdout.split() if w.startswith(field + "=")), "")


class Preemption(Cluster):
    def preempt_after_first_epoch(self, name, *sbatch_args):
        """Submits finetune.sbatch (2 CPU tasks), waits for epoch 1 in the file, sends the batch shell USR1."""
        exp = write_experiment(name, epochs=4, train=1024)
        job = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1", *sbatch_args,
                     os.path.join(ROOT, "slurm/finetune.sbatch"), exp, wait=False)
        self.assertEqual(job.returncode, 0, job.stderr)
        job_id = job.stdout.strip()
        out = os.path.join(WORK, name + ".h5")
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                with h5py.File(out, "r") as f:
                    if len(f["runs/resnet18-full-s0/epoch"]) >= 1:
                        break
            except (OSError, KeyError):
                pass
            time.sleep(1)
        subprocess.run(["scancel", "--signal=USR1", "--batch", job_id], env=ENV, check=True)
        return exp, job_id, out

    def test_usr1_checkpoints_exits_75_requeues_and_completes_each_epoch_once(self):
        _, job_id, out = self.preempt_after_first_epoch("preempt")
        deadline = time.time() + 600
        state = ""
        pending_since = None
        while time.time() < deadline:
            state = job_field(job_id, "JobState")
            restarts = job_field(job_id, "Restarts") or "0"
            # The first instance's end can show as COMPLETED with Restarts=1 for a moment before the job is
            # pending again; done means the requeued instance (restart 1) has itself finished.
            second = logs(f"ftbench-{job_id}.out").split("restart 1/", 1)
            if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT") and int(restarts) >= 1 and \
                    len(second) == 2 and "ftbench exited" in second[1]:
                break
            if state == "PENDING" and int(restarts) >= 1:
                # A requeued job waits about 2 minutes (Reason=BeginTime); release it after 10 s, which
                # leaves slurmd time to finish tearing down the first instance's step (a step launched
                # at once can fail with "task launch failed: Unspecified error").
                pending_since = pending_since or time.time()
                if time.time() - pending_since > 10:
                    subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], env=ENV,
                                   capture_output=True)
            time.sleep(2)
        log = logs(f"ftbench-{job_id}.out")
        self.assertEqual(state, "COMPLETED", log)
        self.assertIn("exit 75", log)
        self.assertIn("requeueing", log)
        with h5py.File(out, "r") as f:
            run = f["runs/resnet18-full-s0"]
            self.assertEqual(run.attrs["status"], "completed")
            self.assertEqual(list(run["epoch"][:]), [1, 2, 3, 4])  # each epoch exactly once
            self.assertEqual(run.attrs["resumes"], 1)
        self.assertIn("resuming from", log)

    def test_a_refused_requeue_fails_the_job_with_75_and_a_resubmission_resumes(self):
        # --no-requeue: `scontrol requeue` is refused. The job must end FAILED with exit 75, not COMPLETED with
        # three epochs missing; the same command submitted again resumes from the checkpoint.
        exp, job_id, out = self.preempt_after_first_epoch("norequeue", "--no-requeue")
        deadline = time.time() + 300
        while time.time() < deadline and job_field(job_id, "JobState") in ("PENDING", "RUNNING", "COMPLETING", ""):
            time.sleep(2)
        log = logs(f"ftbench-{job_id}.out")
        self.assertEqual(job_field(job_id, "JobState"), "FAILED", log)
        self.assertEqual(job_field(job_id, "ExitCode"), "75:0", log)
        self.assertIn(f"error: scontrol requeue {job_id} failed", log)
        self.assertIn("submit the same command again to resume", log)
        with h5py.File(out, "r") as f:
            run = f["runs/resnet18-full-s0"]
            self.assertEqual(run.attrs["status"], "interrupted")
            done = len(run["epoch"])
        self.assertLess(done, 4)
        again = sbatch("--gpus-per-node=0", "--ntasks-per-node=2", "--cpus-per-task=1",
                       os.path.join(ROOT, "slurm/finetune.sbatch"), exp)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr + logs(f"ftbench-{again.stdout.strip()}.out"))
        with h5py.File(out, "r") as f:
            run = f["runs/resnet18-full-s0"]
            self.assertEqual(run.attrs["status"], "completed")
            self.assertEqual(list(run["epoch"][:]), [1, 2, 3, 4])
            self.assertEqual(run.attrs["resumes"], 1)


def main():
    global ROOT, FTBENCH, WORK
    ROOT, FTBENCH, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
    preemption = "--preemption" in sys.argv
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "logs"))
    ENV.update(os.environ)
    ENV["FTBENCH_ROOT"] = ROOT
    ENV["FTBENCH"] = FTBENCH
    suite = unittest.TestLoader().loadTestsFromTestCase(Preemption if preemption else JobScripts)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
