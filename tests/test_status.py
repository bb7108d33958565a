"""The one status vocabulary, typed records, and the one device resolver."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
import torch

from resnet_explorer import status
from resnet_explorer.analysis._common import AnalysisError
from resnet_explorer.analysis.devices import resolve_device
from resnet_explorer.explore.runner import ExploreDone, Sampled
from resnet_explorer.probes import ProbeConfig, ProbeError
from resnet_explorer.probes.events import Eval, Step
from resnet_explorer.probes.runner import training_device
from resnet_explorer.store import records


def test_every_layer_reads_its_words_from_one_vocabulary():
    assert records.RUN_STATUSES == status.STORED_STATUSES
    assert records.FINAL_STATUSES == status.STORED_FINAL
    assert set(status.JOB_STATES) - {"queued", "running"} == status.FINISHED
    assert {status.stored_status(s) for s in status.RUN_FINAL} == set(status.STORED_FINAL)
    assert status.stored_status("done") == "completed"
    assert status.stored_status("diverged") == "failed"
    with pytest.raises(ValueError, match="not a run state"):
        status.stored_status("completed")
    assert all(status.is_finished(s) for s in (*status.RUN_FINAL, *status.STORED_FINAL))
    assert not any(status.is_finished(s) for s in status.ACTIVE)


def test_a_job_outcome_follows_its_runs():
    assert status.job_outcome(["done", "diverged"], cancelled=False) == "done"
    assert status.job_outcome(["oom", "failed"], cancelled=False) == "failed"
    assert status.job_outcome(["done"], cancelled=True) == "cancelled"


def _step() -> Step:
    return Step(
        label="a", step=3, loss=None, acc=0.5, lr=0.1, step_time=0.01, images_per_s=None, elapsed=1
    )


def test_a_record_is_typed_and_its_own_read_only_json_document():
    step = _step()
    assert step.step == 3 and step["step"] == 3 and step["event"] == "step"
    assert list(step)[:3] == ["event", "label", "step"]
    assert json.loads(json.dumps(step)) == step.to_dict()
    with pytest.raises(TypeError, match="read-only"):
        step["step"] = 4
    with pytest.raises(TypeError, match="read-only"):
        step.update(step=4)
    assert pickle.loads(pickle.dumps(step)) == step
    assert copy.deepcopy(step).step == 3


def test_optional_keys_are_absent_and_documents_flattened():
    ev = Eval(
        label="a",
        step=1,
        elapsed=0.1,
        held_out_loss=1.0,
        held_out_acc=0.5,
        train_loss=None,
        train_acc=None,
        held_out_size=8,
        activations={"layer1": {"mean": 0.0, "std": 1.0}},
    )
    assert "activations" in ev and "grad_norm" not in ev and ev.grad_norm is None
    assert ev["train_loss"] is None  # a None that is part of the JSON form stays
    sampled = Sampled({"accepted": 3, "requested": 4})
    assert sampled["accepted"] == 3 and sampled.report == {"accepted": 3, "requested": 4}
    done = ExploreDone(status="done", counts={"ok": 3}, seconds=1.0)
    assert "error" not in done and done["status"] == "done"


def test_one_device_resolver_for_analyses_and_probes():
    assert resolve_device("cpu").key == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("meta", "mps", "cuda:x", "cuda:-1", "", "CPU"):
        with pytest.raises(AnalysisError, match="not known"):
            resolve_device(bad)
        with pytest.raises(ProbeError, match="device="):
            training_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(AnalysisError, match="no CUDA GPU"):
            resolve_device("cuda:0")
    assert training_device("cpu") == torch.device("cpu")


def test_one_precision_list_probes_add_auto_and_refuse_fp16_with_the_reason():
    assert ProbeConfig(precision="bf16").precision == "bf16"
    with pytest.raises(ProbeError, match="loss scaling"):
        ProbeConfig(precision="fp16")
    with pytest.raises(ProbeError, match="precision='int8'"):
        ProbeConfig(precision="int8")
