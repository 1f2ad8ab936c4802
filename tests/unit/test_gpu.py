"""GPU use: memory growth on every visible GPU, the device in the job's records, and a job that
requested a GPU but sees none (a warning in its log and metrics.json, or a one-line error with
``require_gpu: true``). This machine has no GPU: TensorFlow's device list is replaced where a GPU
must be seen."""

import json
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pandas as pd
import pytest
import tensorflow as tf

from dlwf.core import runtime
from dlwf.core.errors import MissingGPUError
from dlwf.evaluate import record as records
from dlwf.plan.config import validate
from dlwf.report import leaderboard
from dlwf.steps import common
from tests.workflow import REPO, default_config


@pytest.fixture
def restore_runtime(monkeypatch):
    """Whatever a test configures, the module's recorded device and GPU status are restored after it."""
    monkeypatch.setattr(runtime, "_device", runtime._device)
    monkeypatch.setattr(runtime, "_gpu_status", runtime._gpu_status)


def fake_gpus(monkeypatch, names):
    """TensorFlow 'sees' GPUs with these names; returns the memory-growth calls made."""
    devices = [SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(len(names))]
    calls = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: devices if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda d, on: calls.append((d.name, on)))
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details", lambda d: {"device_name": names[devices.index(d)]}
    )
    return calls


def test_every_visible_gpu_gets_memory_growth_and_the_device_is_recorded(monkeypatch, restore_runtime, capsys):
    calls = fake_gpus(monkeypatch, ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"])
    device = runtime.configure_tensorflow(1, gpus_requested=1, require_gpu=True)
    assert device == "GPU:NVIDIA H100 80GB HBM3"
    assert calls == [("/physical_device:GPU:0", True), ("/physical_device:GPU:1", True)]
    assert runtime.gpu_status() == {"gpu_requested": 1, "gpus_visible": 2, "warnings": []}
    environment = common.environment()
    assert environment["device"] == device and environment["warnings"] == []
    assert "on GPU:NVIDIA H100 80GB HBM3 (2 GPU(s) visible, memory growth on)" in capsys.readouterr().out


def test_a_requested_gpu_that_is_missing_gives_a_warning_in_the_log_and_the_environment(restore_runtime, capsys):
    device = runtime.configure_tensorflow(1, gpus_requested=1)  # tensorflow-cpu: no GPU here
    assert device == "CPU (1 thread)"
    status = runtime.gpu_status()
    assert status["gpu_requested"] == 1 and status["gpus_visible"] == 0
    assert len(status["warnings"]) == 1
    assert "requested 1 GPU (resources: gpu=1) but TensorFlow sees none" in status["warnings"][0]
    assert f"WARNING: {status['warnings'][0]}" in capsys.readouterr().out
    assert common.environment()["warnings"] == status["warnings"]


def test_no_warning_when_no_gpu_was_requested(restore_runtime):
    runtime.configure_tensorflow(1, gpus_requested=0, require_gpu=True)
    assert runtime.gpu_status() == {"gpu_requested": 0, "gpus_visible": 0, "warnings": []}


def test_require_gpu_makes_a_missing_gpu_an_error(restore_runtime):
    with pytest.raises(MissingGPUError) as error:
        runtime.configure_tensorflow(1, gpus_requested=1, require_gpu=True)
    message = str(error.value)
    assert "\n" not in message
    assert "CPU-only build" in message and "make gpu-venv" in message
    assert "require_gpu: true in the config makes this an error" in message


@pytest.mark.parametrize(
    ("cuda_build", "visible", "expected"),
    [
        (False, None, "the installed TensorFlow is a CPU-only build; on a GPU host use the GPU build"),
        (True, "", "CUDA_VISIBLE_DEVICES='' hides every GPU"),
        (True, "-1", "CUDA_VISIBLE_DEVICES='-1' hides every GPU"),
        (True, "0", "check that the job runs on a GPU node and that nvidia-smi works there"),
    ],
)
def test_the_missing_gpu_message_names_the_likely_cause(cuda_build, visible, expected):
    message = runtime.missing_gpu_message(2, cuda_build, visible)
    assert message.startswith("this job requested 2 GPUs (resources: gpu=2) but TensorFlow sees none")
    assert expected in message


def test_every_script_that_runs_tensorflow_sets_it_up_first():
    """So every TensorFlow job gets memory growth, its thread count and the GPU check."""
    from dlwf.plan.code import script_reach

    problems = []
    for script in sorted((REPO / "scripts").glob("*.py")):
        if script.name.startswith("_"):
            continue
        runs_tensorflow = bool({"tensorflow", "keras", "keras_tuner"} & script_reach(script).third_party)
        # announce=False: a training job's summary line names the device (README, "Long runs: resume and watch")
        calls = re.search(r"run_with_tensorflow\(main, snakemake(, announce=False)?\)", script.read_text())
        if runs_tensorflow and not calls:
            problems.append(f"{script.name} reaches TensorFlow but does not call run_with_tensorflow(main, snakemake)")
    assert not problems, "\n".join(problems)


def test_require_gpu_is_a_boolean_setting_defaulting_to_false():
    config = default_config()
    validated, problems = validate(config)
    assert not problems and validated["require_gpu"] is False
    _, problems = validate({**default_config(), "require_gpu": "yes"})
    assert any("require_gpu" in p for p in problems)


def test_require_gpu_is_no_rule_param():
    """It changes no result, so changing it must rerun nothing: no rule reads it as a param."""
    rule_text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    assert "require_gpu" not in rule_text
    assert "require_gpu" in (REPO / "scripts" / "_rule.py").read_text()


def test_metrics_records_the_training_environment_and_the_version():
    settings = {"dataset": "d", "training": {"epochs": 3, "early_stopping": None}}
    evaluation = {"device": "CPU (2 threads)", "gpu_requested": 0, "warnings": []}
    training = {"device": "GPU:NVIDIA A100", "gpu_requested": 1, "warnings": []}
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [1.0, 0.9, 0.8]})
    record = records.base_record("x", settings, 10, history, {"file": "t", "md5": "m"}, {}, evaluation, training)
    import dlwf

    assert record["provenance"]["environment"] == evaluation
    assert record["provenance"]["training_environment"] == training
    assert record["provenance"]["workflow_version"] == dlwf.__version__
    assert leaderboard.training_device(record["provenance"]) == "GPU:NVIDIA A100"
    assert leaderboard.training_device({"environment": evaluation, "training_environment": None}) == "CPU (2 threads)"


RULE_SCRIPT = textwrap.dedent(
    """
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, {scripts!r})
    from _rule import run_with_tensorflow


    class Resources(dict):
        pass


    def main(snakemake):
        from dlwf.steps import common

        common.write_environment(snakemake.output[0])


    snakemake = SimpleNamespace(
        rule="train_image_classifier", threads=1, log=[{log!r}], output=[{out!r}],
        resources=Resources(gpu=1, mem_mb=4000), config={{"require_gpu": {require}}},
    )
    run_with_tensorflow(main, snakemake)
    """
)


def run_rule_script(tmp_path, require_gpu):
    log, out = tmp_path / "train.log", tmp_path / "train_environment.json"
    script = tmp_path / "job.py"
    script.write_text(
        RULE_SCRIPT.format(scripts=str(REPO / "scripts"), log=str(log), out=str(out), require=require_gpu)
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    return proc, log, out


def test_a_gpu_job_without_a_gpu_warns_in_its_log_and_records_it(tmp_path):
    """As Snakemake runs it: the rule's resources (gpu=1) reach the TensorFlow set-up."""
    proc, log, out = run_rule_script(tmp_path, require_gpu=False)
    assert proc.returncode == 0, proc.stderr + log.read_text()
    assert "WARNING: this job requested 1 GPU (resources: gpu=1) but TensorFlow sees none" in log.read_text()
    environment = json.loads(out.read_text())
    assert environment["gpu_requested"] == 1 and environment["device"].startswith("CPU")
    assert "CPU-only build" in environment["warnings"][0]


def test_a_gpu_job_without_a_gpu_fails_in_one_line_with_require_gpu(tmp_path):
    proc, log, out = run_rule_script(tmp_path, require_gpu=True)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR in rule")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("ERROR in rule train_image_classifier: this job requested 1 GPU")
    assert "require_gpu: true" in errors[0]
    assert errors[0] in log.read_text()
    assert not out.exists()
