"""Backups and resuming (issue 17, dlwf/nn/resume.py): an interrupted fit goes on where it stopped.

In one process, with a fixed sample order (shuffle=False) and no dropout, nothing random happens
after the weights are built, so a resumed fit must end EXACTLY where an uninterrupted one ends:
these tests prove that the backup restores everything (weights, optimizer, early stopping, history).
In the workflow the epochs after a resume see another shuffling order (README, "Long runs"); the
real kill is tested in tests/integration/test_resume.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dlwf.core import runtime

runtime.configure_tensorflow(1)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlwf.core.errors import TrainingError  # noqa: E402
from dlwf.nn import resume, training, transfer_base  # noqa: E402
from tests.workflow import experiment_settings  # noqa: E402


class Interrupted(Exception):
    """Stands for the kill: raised by a callback, so fit stops without its on_train_end."""


class InterruptAt(keras.callbacks.Callback):
    """Raise Interrupted at the start of epoch ``epoch`` (1-based), or at its end with ``at_end``."""

    def __init__(self, epoch: int, at_end: bool = False):
        super().__init__()
        self.epoch, self.at_end = epoch, at_end

    def on_epoch_begin(self, epoch, logs=None):
        if not self.at_end and epoch + 1 == self.epoch:
            raise Interrupted(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.at_end and epoch + 1 == self.epoch:
            raise Interrupted(epoch)


def data(seed: int = 2):
    """Three classes from two features, 30% of the labels random: the validation loss falls for a few
    epochs and then rises, so early stopping has a best epoch well before it stops."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 5)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    labels = np.where(rng.random(96) < 0.3, rng.integers(0, 3, 96), labels)
    y = keras.utils.to_categorical(labels, 3)
    return x[:64], y[:64], x[64:], y[64:]


def model() -> keras.Model:
    keras.utils.set_random_seed(3)
    net = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    net.compile(keras.optimizers.Adam(0.02), "categorical_crossentropy", metrics=["accuracy"])
    return net


def early_stopping() -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)


def fit(net, callbacks, epochs=40):
    x, y, x_val, y_val = data()
    return net.fit(
        x,
        y,
        batch_size=16,
        epochs=epochs,
        validation_data=(x_val, y_val),
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )


def weights_equal(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


def test_a_fit_interrupted_after_the_best_epoch_resumes_to_the_same_end(tmp_path):
    """Weights, Adam's moments and step, early stopping's patience and best weights and the history
    all come back: the resumed fit stops at the same epoch with the same restored weights."""
    reference, stopper = model(), early_stopping()
    history = fit(reference, [stopper])
    best, stopped = stopper.best_epoch + 1, stopper.stopped_epoch + 1
    assert 1 < best < stopped - 1 < 39, (best, stopped)  # the kill falls between the best epoch and the stop
    kill = best + 1

    first = model()
    callbacks = [early_stopping()]
    backup = resume.EpochBackup(tmp_path / "backup", callbacks)
    with pytest.raises(Interrupted):
        fit(first, callbacks + [backup, InterruptAt(kill + 1)])
    state = resume.read_state(tmp_path / "backup")
    assert state["epochs_done"] == kill and not state["finished"] and len(state["history"]) == kill

    messages = []
    resumed = model()
    callbacks = [early_stopping()]
    backup = resume.EpochBackup(tmp_path / "backup", callbacks, log=messages.append)
    fit(resumed, callbacks + [backup])
    assert backup.resumed_from == kill
    assert messages == [
        f"resumed from the backup in {tmp_path / 'backup'}: epochs 1-{kill} were done before the "
        f"job was interrupted; training goes on with epoch {kill + 1} of 40"
    ]
    assert callbacks[0].stopped_epoch + 1 == stopped and callbacks[0].best_epoch + 1 == best
    assert weights_equal(resumed, reference)
    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations)
    expected = training.history_frame(history)
    pd.testing.assert_frame_equal(backup.history(), expected, check_exact=True)
    assert list(backup.history()["epoch"]) == list(range(1, stopped + 1))  # every epoch once


def test_without_its_early_stopping_state_the_resumed_fit_would_end_elsewhere(tmp_path):
    """The check above can fail: a backup that restores only weights and epoch (as Keras' own
    BackupAndRestore does) resumes with a fresh patience counter and best value."""
    reference, stopper = model(), early_stopping()
    fit(reference, [stopper])
    kill = stopper.best_epoch + 2
    keras_backup = keras.callbacks.BackupAndRestore(str(tmp_path / "keras"), delete_checkpoint=False)
    with pytest.raises(Interrupted):
        fit(model(), [early_stopping(), keras_backup, InterruptAt(kill + 1)])
    resumed, callbacks = model(), [early_stopping()]
    fit(resumed, callbacks + [keras.callbacks.BackupAndRestore(str(tmp_path / "keras"), delete_checkpoint=False)])
    assert callbacks[0].stopped_epoch != stopper.stopped_epoch or not weights_equal(resumed, reference)


def test_a_fit_killed_after_it_had_finished_trains_nothing_again(tmp_path):
    reference = model()
    callbacks = [early_stopping()]
    backup = resume.EpochBackup(tmp_path / "backup", callbacks)
    fit(reference, callbacks + [backup])  # the job would now be killed before saving its outputs
    assert resume.read_state(tmp_path / "backup")["finished"]
    messages, trained = [], []
    again = model()
    callbacks = [early_stopping(), keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: trained.append(e))]
    backup = resume.EpochBackup(tmp_path / "backup", callbacks, log=messages.append)
    fit(again, callbacks + [backup])
    assert trained == [] and "nothing is trained again" in messages[0]
    assert weights_equal(again, reference)  # the restored best weights, as the finished fit left them
    assert len(backup.history()) == len(resume.read_state(tmp_path / "backup")["history"])


def test_an_epoch_with_a_non_finite_loss_is_never_backed_up(tmp_path):
    net = model()
    backup = resume.EpochBackup(tmp_path / "backup")
    backup.set_model(net)
    backup.set_params({"epochs": 10})
    backup.on_train_begin()
    backup.on_epoch_end(0, {"loss": 1.0})
    backup.on_epoch_end(1, {"loss": float("nan")})
    assert resume.read_state(tmp_path / "backup")["epochs_done"] == 1


def test_backups_are_written_at_most_every_so_many_seconds(tmp_path):
    net = model()
    backup = resume.EpochBackup(tmp_path / "backup", every_seconds=3600)
    with pytest.raises(Interrupted):
        fit(net, [backup, InterruptAt(6)])
    assert resume.read_state(tmp_path / "backup") is None  # no epoch was due within the hour
    backup = resume.EpochBackup(tmp_path / "every", every_seconds=0)
    with pytest.raises(Interrupted):
        fit(model(), [backup, InterruptAt(6)])
    assert resume.read_state(tmp_path / "every")["epochs_done"] == 5
    assert sorted(p.name for p in (tmp_path / "every").iterdir()) == ["epoch-00005.weights.h5", "state.json"]


# ------------------------------------------------------------------ the job's backup directory


def test_a_backup_of_another_configuration_is_discarded_never_resumed(tmp_path):
    directory = tmp_path / ".backup"
    fingerprint = {"settings": {"epochs": 10}, "inputs": {"train.csv": "a" * 32, "dlwf/nn/builders.py": "b" * 32}}
    assert resume.prepare(directory, fingerprint) is False  # new: nothing to resume
    (directory / resume.STATE_FILE).write_text("{}")
    assert resume.prepare(directory, fingerprint) is True  # the same job: resume
    messages = []
    changed = {"settings": {"epochs": 20}, "inputs": {"train.csv": "a" * 32, "dlwf/nn/builders.py": "c" * 32}}
    assert resume.prepare(directory, changed, log=messages.append) is False
    assert messages == [
        f"discarded the backup in {directory} of an earlier, unfinished run of this job (its input "
        "files (dlwf/nn/builders.py) differ; its settings differ from this run's), so training starts "
        "at epoch 1"
    ]
    messages.clear()
    assert resume.prepare(directory, {**changed, "code": "a1"}, log=messages.append) is False
    assert "(the code it ran differs from this run's)" in messages[0]
    assert sorted(p.name for p in directory.iterdir()) == [resume.FINGERPRINT_FILE]
    assert json.loads((directory / resume.FINGERPRINT_FILE).read_text()) == {**changed, "code": "a1"}


def test_a_disabled_backup_resumes_nothing_and_clears_an_old_one(tmp_path):
    directory = tmp_path / ".backup"
    resume.prepare(directory, {"a": 1})
    (directory / resume.STATE_FILE).write_text("{}")
    job = resume.Job(directory, {"a": 1}, enabled=False)
    assert job.open() is False and job.callback([]) is None and job.chunks("train") is None
    assert list(directory.iterdir()) == []


def penguin_like(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, keras.utils.to_categorical((x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int), 3)


def test_training_with_a_backup_gives_the_same_model_as_without(tmp_path):
    """The backup only reads the training's state: the lesson's numbers cannot move."""
    settings = experiment_settings("dense10", {"training": {"epochs": 12}})
    x, y = penguin_like()
    plain, plain_history = training.train(settings, x, y, 3, validation=(x[:30], y[:30]))
    job = resume.Job(tmp_path / ".backup", {"job": 1}, every_seconds=0)
    backed_up, history = training.train(settings, x, y, 3, validation=(x[:30], y[:30]), backup=job)
    pd.testing.assert_frame_equal(history, plain_history, check_exact=True)
    assert weights_equal(backed_up, plain)
    assert job.resumes == [] and job.record() == {"resumed": []}
    job.finish()
    assert not (tmp_path / ".backup").exists()


def test_a_nan_loss_removes_the_backup(tmp_path):
    settings = experiment_settings("dense10", {"training": {"epochs": 3, "learning_rate": 1e20}})
    x, y = penguin_like()
    job = resume.Job(tmp_path / ".backup", {"job": 1}, every_seconds=0)
    with pytest.raises(TrainingError, match="training loss became nan"):
        training.train(settings, x * 1e6, y, 3, backup=job)
    assert not (tmp_path / ".backup").exists()


def test_the_summary_line_names_what_is_trained(tmp_path, capsys):
    settings = experiment_settings("dense10", {"training": {"epochs": 2}})
    x, y = penguin_like()
    job = resume.Job(tmp_path / ".backup", {"job": 1})
    training.train(settings, x, y, 3, validation=(x[:30], y[:30]), backup=job, what="penguins/dense10")
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "TRAINING penguins/dense10: inputs (120, 4) -> targets (120, 3), validation (30, 4); dense_net, 83 parameters "
        f"(83 trainable); 2 epochs, batch 32, adam; TensorFlow {tf.__version__} "
        f"on {runtime.device()}; from epoch 1; backup {tmp_path / '.backup'}"
    )


# ------------------------------------------------------------------ TensorBoard event files


def scalar_steps(log_dir) -> dict[str, list[int]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps = {}
    for run in ("train", "validation"):
        events = EventAccumulator(str(log_dir / run), size_guidance={"tensors": 0})
        events.Reload()
        steps[run] = sorted(e.step for e in events.Tensors("epoch_loss"))
    return steps


def test_tensorboard_shows_every_epoch_once_after_a_resume(tmp_path):
    """Events written after the last backup (epoch 6 here) are dropped when the backup is restored."""
    log_dir = tmp_path / "tensorboard"
    board = training.TensorBoard(log_dir=str(log_dir))
    backup = resume.EpochBackup(tmp_path / "backup", [board], every_seconds=0)
    with pytest.raises(Interrupted):  # killed after TensorBoard logged epoch 6, before it was backed up
        fit(model(), [board, InterruptAt(6, at_end=True), backup], epochs=10)
    assert scalar_steps(log_dir)["train"] == list(range(6))
    assert resume.restore_tensorboard(tmp_path / "backup", log=lambda m: None) == 2
    assert scalar_steps(log_dir)["train"] == list(range(5))
    board = training.TensorBoard(log_dir=str(log_dir))
    fit(model(), [board, resume.EpochBackup(tmp_path / "backup", [board], every_seconds=0)], epochs=10)
    assert scalar_steps(log_dir) == {"train": list(range(10)), "validation": list(range(10))}


# ------------------------------------------------------------------ the feature pass


class Extractor:
    """A frozen 'base' that counts its batches and can be made to fail at one."""

    def __init__(self, fail_at: int | None = None):
        keras.utils.set_random_seed(1)
        self.net = keras.Sequential(
            [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalMaxPooling2D()]
        )
        self.calls, self.fail_at = 0, fail_at

    def predict_on_batch(self, batch):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted(self.calls)
        return self.net.predict_on_batch(batch)


def test_an_interrupted_feature_pass_resumes_with_the_same_batches_and_features(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (100, 8, 8, 3), dtype=np.uint8)
    expected = transfer_base.extract_features(Extractor(), images, batch_size=16)
    with pytest.raises(Interrupted):
        transfer_base.extract_features(
            Extractor(fail_at=5), images, batch_size=16, backup=resume.ChunkBackup(tmp_path, "train", every_seconds=0)
        )
    extractor = Extractor()
    features = transfer_base.extract_features(
        extractor, images, batch_size=16, backup=resume.ChunkBackup(tmp_path, "train", every_seconds=0)
    )
    assert extractor.calls == 7 - 4  # 7 batches of 16 (the last of 4), 4 of them done before the failure
    np.testing.assert_array_equal(features, expected)


# ------------------------------------------------------------------ keras-tuner


def test_a_reloaded_grid_search_goes_on_with_the_next_grid_point(tmp_path):
    """keras-tuner 1.4.8's GridSearchOracle loses its place in the grid when reloaded (KeyError in
    populate_space); ResumableGridSearchOracle keeps it: the reloaded search creates the same next
    trials as an uninterrupted one and does not run the finished ones again."""
    import keras_tuner

    from dlwf.nn.tuning import ResumableGridSearchOracle

    x, y, x_val, y_val = data()
    built = []

    def build(hp):
        units, rate = hp.Choice("units", [2, 4, 8]), hp.Choice("rate", [0.01, 0.1])
        built.append((units, rate))
        keras.utils.set_random_seed(0)
        net = keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        net.compile(keras.optimizers.Adam(rate), "categorical_crossentropy")
        return net

    def search(directory, max_trials, overwrite):
        oracle = ResumableGridSearchOracle(objective="val_loss", max_trials=max_trials, seed=1)
        tuner = keras_tuner.Tuner(
            oracle=oracle, hypermodel=build, directory=str(directory), project_name="p", overwrite=overwrite
        )
        tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
        return [tuner.oracle.trials[t].hyperparameters.values for t in sorted(tuner.oracle.trials)]

    reference = search(tmp_path / "uninterrupted", 5, True)
    search(tmp_path / "interrupted", 2, True)  # stands for a search killed after two trials
    built.clear()
    resumed = search(tmp_path / "interrupted", 5, False)
    assert resumed == reference and len(reference) == 5
    assert [tuple(v.values()) for v in resumed[2:]] == built[-3:]  # only the three new trials were built


def test_the_feature_pass_step_resumes_and_removes_its_backup(tmp_path, monkeypatch):
    """dlwf.steps.transfer.features with a backup: interrupted in the test images, run again, it keeps
    the train features of the first run, computes the rest, and writes what an uninterrupted pass writes."""
    from dlwf.core.fileio import write_json
    from dlwf.data import images
    from dlwf.steps import transfer

    prepared = tmp_path / "prepared"
    prepared.mkdir()
    rng = np.random.default_rng(0)
    for part, n in (("train", 200), ("test", 100)):  # batches of 64: 4 and 2
        np.save(prepared / images.FILES[part]["images"], rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8))
        np.save(prepared / images.FILES[part]["labels"], rng.integers(0, 3, n).astype(np.uint8))
    write_json(
        {
            "class_names": ["a", "b", "c"],
            "n_classes": 3,
            "image_shape": [8, 8, 3],
            "counts": {"train": 200, "test": 100},
        },
        prepared / "classes.json",
    )
    base = {**experiment_settings("transfer")["base_model"], "weights": None}
    calls = {"n": 0, "fail_at": None}

    def build_extractor(config, image_shape, where):
        net = Extractor().net
        predict = net.predict_on_batch

        def counted(batch):
            calls["n"] += 1
            if calls["n"] == calls["fail_at"]:
                raise Interrupted(calls["n"])
            return predict(batch)

        net.predict_on_batch = counted
        return net

    monkeypatch.setattr(transfer_base, "build_extractor", build_extractor)

    def run(name, fail_at=None):
        calls.update(n=0, fail_at=fail_at)
        out = tmp_path / name
        job = resume.Job(out / ".backup", {"base": 1}, every_seconds=0)
        transfer.features(
            base,
            str(prepared),
            str(out / "extractor.keras"),
            {"train": str(out / "train.npy"), "test": str(out / "test.npy")},
            str(out / "base.json"),
            backup=job,
        )
        return out

    reference = run("reference")
    assert calls["n"] == 4 + 2 and not (reference / ".backup").exists()
    with pytest.raises(Interrupted):
        run("killed", fail_at=3)  # two batches of training images were done
    assert not (tmp_path / "killed" / "train.npy").exists()
    resumed = run("killed")
    assert calls["n"] == 2 + 2  # the other two batches of training images and the test images
    for part in ("train", "test"):
        np.testing.assert_array_equal(np.load(resumed / f"{part}.npy"), np.load(reference / f"{part}.npy"))
    assert json.loads((resumed / "base.json").read_text())["resumed"] is True
    assert not (resumed / ".backup").exists()
