"""lint over the TF Object Detection configs, against verdicts judged by hand.

The corpus lives outside the repository (``../shared/corpora/tfod`` beside the checkout, or
``$LRKIT_TFOD_CORPUS``); nothing of it is copied here, only file names and the verdicts. Each
file's schedule is ``lrkit.from_tf_object_detection(path)`` and its run length is
``train_config { num_steps: N }`` in the same file. Many files share a schedule and a run
length, so each distinct pair is linted once.
"""

import os
import re
from pathlib import Path

import pytest

import lrkit
from lrkit import ConfigError

CORPUS = Path(os.environ.get("LRKIT_TFOD_CORPUS") or
              Path(__file__).resolve().parents[2] / "shared" / "corpora" / "tfod")
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the TF Object Detection corpus is not at {CORPUS} (set "
    "LRKIT_TFOD_CORPUS to its folder to run lint against the judged verdicts)")

S, T2 = "samples/configs/", "configs/tf2/"
DECAY_PAST_RUN = [S + f"{n}.config" for n in (
    "faster_rcnn_inception_resnet_v2_atrous_coco", "faster_rcnn_inception_resnet_v2_atrous_pets",
    "faster_rcnn_inception_v2_coco", "faster_rcnn_inception_v2_pets", "faster_rcnn_nas_coco",
    "faster_rcnn_resnet101_pets", "faster_rcnn_resnet152_coco", "faster_rcnn_resnet152_pets",
    "faster_rcnn_resnet50_coco", "faster_rcnn_resnet50_pets",
    "mask_rcnn_inception_resnet_v2_atrous_coco", "mask_rcnn_inception_v2_coco",
    "mask_rcnn_resnet101_atrous_coco", "mask_rcnn_resnet50_atrous_coco", "rfcn_resnet101_coco",
    "rfcn_resnet101_pets")]
STAIRCASE_PAST_RUN = [S + f"{n}.config" for n in (
    "ssd_inception_v2_coco", "ssd_inception_v2_pets", "ssd_inception_v3_pets",
    "ssd_mobilenet_v1_coco", "ssd_mobilenet_v1_focal_loss_pets",
    "ssd_mobilenet_v1_focal_loss_pets_inference", "ssd_mobilenet_v1_pets",
    "ssd_mobilenet_v2_coco", "ssd_mobilenet_v2_fullyconv_coco", "ssd_mobilenet_v2_pets_keras",
    "ssd_mobilenet_v2_quantized_300x300_coco", "ssdlite_mobilenet_v1_coco",
    "ssdlite_mobilenet_v2_coco")]
WARMUP_FROM_ZERO = [T2 + f"{n}.config" for n in (
    "faster_rcnn_resnet101_v1_800x1333_coco17_gpu-8",
    "faster_rcnn_resnet152_v1_800x1333_coco17_gpu-8",
    "faster_rcnn_resnet50_v1_800x1333_coco17_gpu-8",
    "mask_rcnn_inception_resnet_v2_1024x1024_coco17_gpu-8")]
WARMUP_FROM_ZERO_40 = [S + "context_rcnn_resnet101_snapshot_serengeti_sync.config",
                       "test_data/context_rcnn_camera_trap.config"]
STAIRCASE_IN_RUN = ["test_data/ssd_mobilenet_v1_fpp.config",
                    S + "ssd_mobilenet_v2_oid_v4.config"]
PIECEWISE_IN_RUN = [T2 + "centernet_hourglass104_512x512_coco17_tpu-8.config",
                    T2 + "centernet_resnet101_v1_fpn_512x512_coco17_tpu-8.config"] + [
    S + f"{n}.config" for n in (
        "faster_rcnn_inception_resnet_v2_atrous_oid",
        "faster_rcnn_inception_resnet_v2_atrous_oid_v4",
        "faster_rcnn_resnet101_ava_v2.1", "faster_rcnn_resnet101_fgvc", "faster_rcnn_resnet50_fgvc",
        "faster_rcnn_resnet101_kitti", "faster_rcnn_resnet101_voc07")]
COSINE_OVER_RUN = ["configs/tf1/ssd_spaghettinet_edgetpu_320x320_coco17_sync_4x4.config"] + [
    T2 + f"{n}.config" for n in (
        "center_net_deepmac_1024x1024_coco_tpu-128",
        "center_net_deepmac_1024x1024_non_voc_only_tpu-128",
        "center_net_deepmac_1024x1024_voc_only_tpu-128",
        "center_net_deepmac_512x512_voc_only_tpu-32",
        "centernet_hourglass104_1024x1024_coco17_tpu-32",
        "centernet_hourglass104_1024x1024_kpts_coco17_tpu-32",
        "centernet_hourglass104_512x512_kpts_coco17_tpu-32",
        "centernet_resnet50_v1_fpn_512x512_kpts_coco17_tpu-8",
        "centernet_resnet50_v2_512x512_kpts_coco17_tpu-8",
        "faster_rcnn_resnet101_v1_1024x1024_coco17_tpu-8",
        "faster_rcnn_resnet101_v1_640x640_coco17_tpu-8",
        "faster_rcnn_resnet152_v1_1024x1024_coco17_tpu-8",
        "faster_rcnn_resnet152_v1_640x640_coco17_tpu-8",
        "faster_rcnn_resnet50_v1_1024x1024_coco17_tpu-8",
        "faster_rcnn_resnet50_v1_640x640_coco17_tpu-8",
        "faster_rcnn_resnet50_v1_fpn_640x640_coco17_tpu-8",
        "ssd_efficientdet_d0_512x512_coco17_tpu-8", "ssd_efficientdet_d1_640x640_coco17_tpu-8",
        "ssd_efficientdet_d2_768x768_coco17_tpu-8", "ssd_efficientdet_d3_896x896_coco17_tpu-32",
        "ssd_efficientdet_d4_1024x1024_coco17_tpu-32",
        "ssd_efficientdet_d5_1280x1280_coco17_tpu-32",
        "ssd_efficientdet_d6_1408x1408_coco17_tpu-32",
        "ssd_efficientdet_d7_1536x1536_coco17_tpu-32",
        "ssd_mobilenet_v1_fpn_640x640_coco17_tpu-8", "ssd_mobilenet_v2_320x320_coco17_tpu-8",
        "ssd_mobilenet_v2_fpnlite_320x320_coco17_tpu-8",
        "ssd_mobilenet_v2_fpnlite_640x640_coco17_tpu-8",
        "ssd_resnet101_v1_fpn_1024x1024_coco17_tpu-8", "ssd_resnet101_v1_fpn_640x640_coco17_tpu-8",
        "ssd_resnet152_v1_fpn_1024x1024_coco17_tpu-8", "ssd_resnet152_v1_fpn_640x640_coco17_tpu-8",
        "ssd_resnet50_v1_fpn_1024x1024_coco17_tpu-8",
        "ssd_resnet50_v1_fpn_640x640_coco17_tpu-8")] + [
    S + f"{n}.config" for n in (
        "ssd_mobilenet_v1_0.75_depth_300x300_coco14_sync",
        "ssd_mobilenet_v1_0.75_depth_quantized_300x300_coco14_sync",
        "ssd_mobilenet_v1_0.75_depth_quantized_300x300_pets_sync",
        "ssd_mobilenet_v1_300x300_coco14_sync",
        "ssd_mobilenet_v1_fpn_shared_box_predictor_640x640_coco14_sync",
        "ssd_mobilenet_v1_ppn_shared_box_predictor_300x300_coco14_sync",
        "ssd_mobilenet_v1_quantized_300x300_coco14_sync",
        "ssd_mobilenet_v2_fpnlite_quantized_shared_box_predictor_256x256_depthmultiplier_75_coco14_sync",
        "ssd_mobilenet_v2_mnasfpn_shared_box_predictor_320x320_coco_sync",
        "ssd_resnet101_v1_fpn_shared_box_predictor_oid_512x512_sync",
        "ssd_resnet50_v1_fpn_shared_box_predictor_640x640_coco14_sync",
        "ssdlite_mobiledet_cpu_320x320_coco_sync_4x4",
        "ssdlite_mobiledet_dsp_320x320_coco_sync_4x4",
        "ssdlite_mobiledet_edgetpu_320x320_coco_sync_4x4",
        "ssdlite_mobiledet_gpu_320x320_coco_sync_4x4",
        "ssdlite_mobilenet_edgetpu_320x320_coco", "ssdlite_mobilenet_edgetpu_320x320_coco_quant",
        "ssdlite_mobilenet_v3_large_320x320_coco", "ssdlite_mobilenet_v3_small_320x320_coco")]

#: (the codes lint must give, the judgment, the files): every file with a run length.
VERDICTS = [
    (("LR001",), "true: a piecewise decay at steps 900k and 1.2M in a 200k-step run never "
     "decays. That the run never reaches the final value (LR004) is the same cause: not "
     "reported twice", DECAY_PAST_RUN),
    (("LR001",), "true: a staircase decay every 800,720 steps in a 200k-step run never moves",
     STAIRCASE_PAST_RUN),
    (("LR013",), "true: warmup to step 400k, decays at 500k and 600k, then 88% of a 5M-step "
     "run at the last value", [S + "context_rcnn_resnet101_snapshot_serengeti.config"]),
    (("LR013",), "true: decays at steps 15k and 30k, then 85% of a 200k-step run at a "
     "hundredth of the LR", [S + "mask_rcnn_resnet101_pets.config"]),
    ((), "noise: the warmup from 0 wastes 1 update of 200,000 (LR006 needs > 0.1% of the run)",
     WARMUP_FROM_ZERO),
    ((), "noise: the warmup from 0 wastes 1 update of 500,000; the last stage takes 40% of the "
     "run, long but under half: a deliberate low-LR tail, not a misplaced boundary",
     WARMUP_FROM_ZERO_40),
    ((), "clean: a staircase every 800,720 steps decays 12 times in a 10M-step run",
     STAIRCASE_IN_RUN),
    ((), "clean: piecewise decays inside the run, last stage 12-30% of it", PIECEWISE_IN_RUN),
    ((), "clean: (warmup and) cosine to 0 over exactly the run; the highest peak, 4.0, is a "
     "large-batch LR under LR010's 10", COSINE_OVER_RUN),
]
#: Files lint is not run on, and why.
NO_RUN_LENGTH = [S + f"{n}.config" for n in (
    "embedded_ssd_mobilenet_v1_coco", "facessd_mobilenet_v2_quantized_320x320_open_image_v4",
    "faster_rcnn_inception_resnet_v2_atrous_cosine_lr_coco", "faster_rcnn_resnet101_atrous_coco",
    "faster_rcnn_resnet101_coco")]  # no train_config { num_steps }: no run to lint against
NO_LEARNING_RATE = ["tpu_exporters/testdata/faster_rcnn/faster_rcnn_resnet101_atrous_coco.config",
                    "tpu_exporters/testdata/ssd/ssd_pipeline.config"]  # refused on import

EXPECTED = {f: codes for codes, _, files in VERDICTS for f in files}
_linted: dict[tuple[lrkit.Schedule, int, float], list[str]] = {}


def run_length(text: str) -> int | None:
    """``num_steps`` inside the ``train_config { … }`` block, or None."""
    m = re.search(r"\btrain_config\s*:?\s*\{", text)
    if m is None:
        return None
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    steps = re.search(r"^\s*num_steps\s*:\s*(\d+)", text[m.end():i], re.MULTILINE)
    return int(steps.group(1)) if steps else None


def codes(name: str, zero_share: float = 0.001) -> list[str]:
    path = CORPUS / name
    s, total = lrkit.from_tf_object_detection(path), run_length(path.read_text())
    assert total is not None, name
    key = (s, total, zero_share)
    if key not in _linted:
        _linted[key] = [w.code for w in lrkit.lint(s, total, zero_share=zero_share)]
    return _linted[key]


def test_the_table_covers_the_corpus_once():
    listed = [f for _, _, files in VERDICTS for f in files] + NO_RUN_LENGTH + NO_LEARNING_RATE
    assert len(listed) == len(set(listed)) == 109
    found = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.config")}
    assert found == set(listed)


def test_lint_gives_the_judged_verdict_on_every_config():
    wrong = {f: (codes(f), list(want)) for f, want in EXPECTED.items() if codes(f) != list(want)}
    assert not wrong, "file: (lint's codes, the verdict)\n" + "\n".join(
        f"{f}: {got}" for f, got in sorted(wrong.items()))


def test_the_counts_of_the_issue():
    found = [c for f in EXPECTED for c in codes(f)]
    assert len(EXPECTED) == 102
    assert {c: found.count(c) for c in set(found)} == {"LR001": 29, "LR013": 2}


def test_the_zero_first_updates_are_there_but_below_their_share():
    # the 6 warmups from 0, plus the 5M-step run whose LR013 is its finding: 1 update of
    # 200,000 to 5,000,000 each, reported only when every share is
    zero = WARMUP_FROM_ZERO + WARMUP_FROM_ZERO_40 + [
        S + "context_rcnn_resnet101_snapshot_serengeti.config"]
    assert sorted(f for f in EXPECTED if lrkit.from_tf_object_detection(CORPUS / f)(0) == 0) \
        == sorted(zero)
    for f in zero:
        assert "LR006" in codes(f, zero_share=0.0) and "LR006" not in codes(f)


def test_the_files_not_linted():
    for name in NO_RUN_LENGTH:
        text = (CORPUS / name).read_text()
        assert run_length(text) is None and lrkit.from_tf_object_detection(CORPUS / name)
    for name in NO_LEARNING_RATE:
        with pytest.raises(ConfigError, match="no learning rate"):
            lrkit.from_tf_object_detection(CORPUS / name)


def test_run_length_reads_only_the_train_config():
    assert run_length("eval_config { num_steps: 5 } train_config { batch_size: 8\n"
                      "  num_steps: 200000\n  optimizer { } }") == 200000
    assert run_length("train_config { batch_size: 8 }\neval_config {\n  num_steps: 5 }") is None
