"""The Ray executor on real local clusters (no mocks of Ray), all inside a loopback-only namespace."""

import json
import os
import signal

import pytest

from tests.ray_helpers import (TINY, LocalCluster, needs_ray, no_leftovers, normbench, records,
                               start_normbench, wait_for_records)

pytestmark = needs_ray
CPU_CASES = 8


def by_case(results):
    return {r["case_id"]: r for r in records(results)}


LAYER_SUITE = """
name: tinylayer
workload: layer
normalizers: {batch: {}, group: {groups: 32}}
layer: {shape: cifar_64, batch_size: 2}
grid: {pass: [forward, forward_backward]}
devices: [cpu]
timing: {min_rounds: 3, max_time: 0.01, warmup_rounds: 1}
"""


def test_workers_2_gives_the_serial_results_with_timing_alone(tmp_path, write_suite):
    layer_suite = str(write_suite(LAYER_SUITE, "layer.yaml"))
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    for results, flags in ((serial, ["--threads", "1"]), (parallel, ["--workers", "2"])):
        out = normbench("run", TINY, "--results", str(results), "--no-report", *flags)
        assert out.returncode == 0, out.stderr[-3000:]
    out = normbench("run", layer_suite, "--results", str(tmp_path / "layer"), "--no-report", "--workers", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    # Layer cases are timing alone: one worker per node holds and uses every CPU of it.
    layer = records(tmp_path / "layer")
    assert len(layer) == 4 and all(r["status"] == "ok" and r["timing_exclusive"] is True for r in layer)
    assert all(r["threads"] == r["slot_cpus"] == os.cpu_count() for r in layer)

    one, two = by_case(serial), by_case(parallel)
    assert sorted(one) == sorted(two) and len(two) == 2 * CPU_CASES
    for case_id, record in two.items():
        assert record["status"] == one[case_id]["status"], case_id
        if record["device"] == "gpu":
            assert record["status"] == "skipped" and "no GPU" in record["error"]
            continue
        assert record["status"] == "ok", record["error"]
        # Same thread settings, same accuracy and loss, whichever backend ran the case.
        assert record["test_accuracy"] == one[case_id]["test_accuracy"]
        assert record["final_loss"] == one[case_id]["final_loss"]
        assert record["executor"] == "ray" and one[case_id]["executor"] == "serial"
        assert record["timing_exclusive"] is True and record["threads"] == 1 and record["slot_cpus"] == 1
        assert record["train_samples_per_sec"] > 0
    info = json.loads((parallel / "latest" / "run.json").read_text())
    assert info["state"] == "complete" and info["executions"][0]["executor"] == "ray"
    assert info["executions"][0]["workers"] == 2
    benchmarks = json.loads((parallel / "latest" / "benchmarks.json").read_text())["benchmarks"]
    assert len(benchmarks) == 2 * CPU_CASES
    assert no_leftovers() == []


def test_workers_2_time_each_settings_candidates_together_in_one_worker(tmp_path):
    """Each batch size's four candidates go to one slot, are trained there one after another and
    timed in one call, round by round in turn, with the node to itself (order and groups checked,
    not speed); the other slot does the same with the other batch size's meanwhile."""
    from tests.test_paired_timing import assert_tiny_timed_in_groups

    results = tmp_path / "results"
    out = normbench("run", TINY, "--results", str(results), "--no-report", "--workers", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    assert_tiny_timed_in_groups(results / "latest")
    cpu = [r for r in records(results) if r["device"] == "cpu"]
    assert all(r["executor"] == "ray" and r["timing_exclusive"] is True for r in cpu)
    assert no_leftovers() == []


@pytest.fixture
def cluster(tmp_path):
    cluster = LocalCluster(tmp_path)
    yield cluster
    cluster.stop()


def test_a_two_node_cluster_runs_each_case_once_on_both_nodes(tmp_path, cluster):
    cluster.start_node(1, head=True)
    cluster.start_node(1)
    cluster.wait_for(2)
    results = tmp_path / "results"
    out = normbench("run", TINY, "--results", str(results), "--no-report", "--address", cluster.address)
    assert out.returncode == 0, out.stderr[-3000:]
    cpu = [r for r in records(results) if r["device"] == "cpu"]
    assert len(cpu) == len({r["case_id"] for r in cpu}) == CPU_CASES
    assert all(r["status"] == "ok" and r["timing_exclusive"] is True for r in cpu)
    assert len({r["node"] for r in cpu}) == 2  # both nodes took cases
    assert "running" in out.stderr and "done" in out.stderr  # per-node progress


def test_a_lost_node_fails_its_case_and_the_run_completes_on_the_rest(tmp_path, cluster, write_suite):
    # 16 cases, so both nodes still have cases to take when the first record lands: the second
    # node is killed holding work (a call in flight, trained cases waiting for their timing, or
    # the next case it is sent)
    suite = write_suite(open(TINY).read().replace("seeds: [0]", "seeds: [0, 1]").replace("[cpu, gpu]", "[cpu]"))
    slow = {"NORMBENCH_FAULTS": "/=slow"}  # every case's training takes >= 3 s, on the nodes' workers
    cluster.start_node(1, head=True, **slow)
    second = cluster.start_node(1, **slow)
    cluster.wait_for(2)
    results = tmp_path / "results"
    proc = start_normbench("run", str(suite), "--results", str(results), "--no-report", "--address", cluster.address)
    wait_for_records(results, 1, proc)
    cluster.kill(second)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    cpu = records(results)
    assert len(cpu) == len({r["case_id"] for r in cpu}) == 2 * CPU_CASES  # none lost, none twice
    lost = [r for r in cpu if r["status"] == "failed"]
    # only the case of the call in flight fails; trained cases it held go back to the queue. Killed
    # while timing a group, no case is the culprit: the group runs again, each case timed alone.
    assert len(lost) <= 2 and all("worker lost" in r["error"] for r in lost), [r["error"] for r in lost]
    assert lost or "lost timing" in err, err[-3000:]
    assert sum(r["status"] == "ok" for r in cpu) == 2 * CPU_CASES - len(lost)


def test_crashes_and_hangs_become_failed_records_and_the_run_goes_on(tmp_path, write_suite):
    suite = write_suite(open(TINY).read().replace("warmup_rounds: 1}", "warmup_rounds: 1, case_timeout: 15}"))
    results = tmp_path / "results"
    out = normbench("run", str(suite), "--results", str(results), "--no-report", "--workers", "2",
                    NORMBENCH_FAULTS="group/batch_size=8/=segfault;layer/batch_size=16/=hang")
    assert out.returncode == 0, out.stderr[-3000:]
    cpu = {r["case_id"]: r for r in records(results) if r["device"] == "cpu"}
    assert len(cpu) == CPU_CASES
    crashed, hung = cpu["tiny/group/batch_size=8/seed=0/cpu"], cpu["tiny/layer/batch_size=16/seed=0/cpu"]
    assert crashed["status"] == "failed" and "worker lost" in crashed["error"]
    assert hung["status"] == "failed" and "timed out after 15 s" in hung["error"]
    assert sum(r["status"] == "ok" for r in cpu.values()) == CPU_CASES - 2, [r.get("error") for r in cpu.values()]
    assert no_leftovers() == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_cleanly_and_resume_finishes_the_run(tmp_path, workers):
    results = tmp_path / "results"
    proc = start_normbench("run", TINY, "--results", str(results), "--no-report", "--workers", workers,
                           NORMBENCH_FAULTS="/=slow")
    wait_for_records(results, 1, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "resume with: normbench run --resume" in err and "Traceback" not in err
    assert json.loads((results / "latest" / "run.json").read_text())["state"] == "interrupted"
    assert no_leftovers() == []  # no worker, raylet or Ray worker process left running
    kept = {r["case_id"]: r["finished_at"] for r in records(results)}

    out = normbench("run", "--resume", "latest", "--results", str(results), "--no-report", "--workers", workers)
    assert out.returncode == 0, out.stderr[-3000:]
    final = records(results)
    assert len(final) == len({r["case_id"] for r in final}) == 2 * CPU_CASES
    assert all(by_case(results)[case_id]["finished_at"] == at for case_id, at in kept.items())
