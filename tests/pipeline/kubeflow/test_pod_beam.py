"""pipeline/kubeflow/pod_beam.py: each pod picks its Beam mode by the size of the data its task reads."""
from pipeline.kubeflow import pod_beam


def test_a_pod_runs_beam_in_process_for_small_data_multi_process_for_large_and_as_compiled_when_told(tmp_path, monkeypatch):
    images = tmp_path / "images" / "horses"
    images.mkdir(parents=True)
    for n in range(3):
        (images / f"horse{n}-0.png").write_bytes(b"png")
    examples = tmp_path / "examples" / "Split-train"
    examples.mkdir(parents=True)
    (examples / "data.gz").write_bytes(b"x" * 1000)
    monkeypatch.setattr(pod_beam, "pod_cpus", lambda: 4)

    small, why = pod_beam.beam_args_for_pod([], {"inputs": {"parameterValues": {"input_base": str(tmp_path / "images")}}})
    assert small == ["--direct_running_mode=in_memory", "--direct_num_workers=1"] and "3 images" in why
    from_examples, _ = pod_beam.beam_args_for_pod([], {"inputs": {"artifacts": {"examples": {"artifacts": [{"uri": str(tmp_path / "examples")}]}}}})
    assert from_examples == small
    monkeypatch.setattr(pod_beam, "choose_beam_args", lambda images, size, cpus: (
        ["--direct_running_mode=multi_processing", f"--direct_num_workers={cpus}"], "large"))
    large, _ = pod_beam.beam_args_for_pod([], {"inputs": {"parameterValues": {"input_base": str(tmp_path / "images")}}})
    assert large == ["--direct_running_mode=multi_processing", "--direct_num_workers=4"]  # the pod's CPUs, not the node's
    assert pod_beam.beam_args_for_pod(["--runner=DataflowRunner"], {})[0] == []
    assert pod_beam.beam_args_for_pod([], {"inputs": {}})[0] == []
