"""Budgeted runs plan seeds only where a headline comparison is unsettled, up to its next look, the
most informative per CPU-second first, never for a setting whose seeds are still in flight."""

import dataclasses
import json

import pytest

from bench.analysis.frame import records_frame
from bench.analysis.sequential import looks
from bench.analysis.settle import seed_requests
from bench.execute.settle import Budget, SeedPlanner, in_setting
from bench.results.store import RunStore
from bench.suite.loader import suite_from_document

SUITE = {"name": "s", "normalizers": {"batch": {}, "layer": {}}, "grid": {"batch_size": [8, 32]},
         "seeds": [0, 1, 2], "devices": ["cpu"]}


def records(accuracies: dict, seconds: float = 2.0) -> list[dict]:
    """accuracies[(normalizer, batch)] = per-seed values."""
    out = []
    for (normalizer, batch), values in accuracies.items():
        for seed, acc in enumerate(values):
            out.append({"case_id": f"s/{normalizer}/batch_size={batch}/seed={seed}/cpu", "suite": "s",
                        "normalizer": normalizer, "device": "cpu", "status": "ok", "seed": seed,
                        "batch_size": batch, "axes": {"batch_size": batch}, "not_applicable": [],
                        "config_hash": f"{normalizer}{batch}", "case_seconds": seconds, "test_accuracy": acc})
    return out


OPEN_AT_8 = {("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88],  # open
             ("batch", 32): [0.95, 0.96, 0.97], ("layer", 32): [0.85, 0.86, 0.87]}  # batch by 0.10: settled


def test_only_unsettled_settings_get_seeds_up_to_their_next_look():
    requests = seed_requests(records_frame(records(OPEN_AT_8)), {}, [0, 1, 2], looks(3))
    assert [r.setting["batch_size"] for r in requests] == [8]
    assert requests[0].seeds == (3, 4, 5)  # 3 seeds -> the look at 6
    assert requests[0].seconds == 3 * 2 * 2.0  # 3 seeds x 2 candidates x 2 s


def test_the_most_decidable_per_second_comes_first():
    close = {("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88],  # barely separated
             ("batch", 32): [0.93, 0.95, 0.97], ("layer", 32): [0.90, 0.90, 0.90]}  # almost decided
    requests = seed_requests(records_frame(records(close)), {}, [0, 1, 2], looks(3))
    assert [r.setting["batch_size"] for r in requests] == [32, 8]
    assert requests[0].value > requests[1].value


def test_only_the_candidates_an_open_comparison_compares_get_seeds(tmp_path):
    """Best (batch) against runner-up (layer) is open at batch 8; group, far behind, is not part of
    it, so its seeds would buy nothing."""
    data = records({**OPEN_AT_8, ("group", 8): [0.50, 0.52, 0.51], ("group", 32): [0.50, 0.52, 0.51]})
    (request,) = seed_requests(records_frame(data), {}, [0, 1, 2], looks(3))
    assert request.configs == {"batch|batch_size=8", "layer|batch_size=8"}
    assert request.seconds == 3 * 2 * 2.0  # 3 seeds x the 2 compared candidates x 2 s
    document = {**SUITE, "normalizers": {"batch": {}, "layer": {}, "group": {}}}
    store = RunStore.create(tmp_path, {"state": "running", "suites": [], "extra_cases": []})
    for record in data:
        store.save_case(record, [])
    cases = SeedPlanner(store, [suite_from_document(document, "s.yaml")], quick=False, budget=Budget(None)).more()
    assert sorted({c.normalizer for c in cases}) == ["batch", "layer"] and len(cases) == 6


def test_two_fields_of_one_candidate_ask_seeds_for_that_candidate_only():
    """A versus_field comparison (inference against training-mode accuracy of the same models)
    names one candidate; the other candidates of its setting need none of its seeds."""
    data = records({("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88]})
    for record, gap in zip(data, [0.05, -0.04, 0.06, 0.0, 0.0, 0.0]):
        record["test_accuracy_training_mode"] = record["test_accuracy"] + gap
    options = {"versus_field": "test_accuracy_training_mode", "headline": "versus_field"}
    (request,) = seed_requests(records_frame(data), options, [0, 1, 2], looks(3))
    assert request.configs == {"batch|batch_size=8"}
    assert request.seconds == 3 * 1 * 2.0  # 3 seeds x the one candidate x 2 s


def test_under_ray_seeds_timed_across_backends_cost_every_slots_time(tmp_path):
    """Cases whose timing group spans Keras backends run apart, after Ray's slots, with the machine
    to themselves: the planner charges their seconds to every slot, so a budget that holds them
    once over two slots does not hold them."""
    document = {"name": "b", "normalizers": {"batch": {}}, "grid": {"backend": ["tensorflow", "jax"]},
                "seeds": [0, 1, 2], "devices": ["cpu"], "verdicts": {"candidates": "backend"}}
    data = [{"case_id": f"b/batch/backend={backend}/seed={seed}/cpu", "suite": "b", "normalizer": "batch",
             "device": "cpu", "status": "ok", "seed": seed, "backend": backend, "axes": {"backend": backend},
             "not_applicable": [], "config_hash": f"{backend}{seed}", "case_seconds": 2.0, "test_accuracy": acc}
            for backend, accs in {"tensorflow": [0.90, 0.80, 0.95], "jax": [0.85, 0.82, 0.88]}.items()
            for seed, acc in enumerate(accs)]
    planned = {}
    for apart in (False, True):
        store = RunStore.create(tmp_path / str(apart), {"state": "running", "suites": [], "extra_cases": []})
        for record in data:
            store.save_case(record, [])
        planner = SeedPlanner(store, [suite_from_document(document, "b.yaml")], quick=False, budget=Budget(10.0),
                              slots=2, across_apart=apart)
        planned[apart] = (len(planner.more()), planner.budget_spent)
    assert planned == {False: (6, False), True: (0, True)}  # 3 seeds x 2 backends x 2 s = 12 s of 20 slot-s, 24 apart


def test_no_look_left_no_seeds():
    data = records({("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88]})
    assert seed_requests(records_frame(data), {}, [0, 1, 2], (3,)) == []
    decided = records({("batch", 8): [0.95, 0.96, 0.97], ("layer", 8): [0.85, 0.86, 0.87]})
    assert seed_requests(records_frame(decided), {}, [0, 1, 2], looks(3)) == []


def _store(tmp_path, data: list[dict], extra=()) -> RunStore:
    suite = suite_from_document(SUITE, "s.yaml")
    store = RunStore.create(tmp_path, {"state": "running", "suites": [], "extra_cases": list(extra)})
    for record in data:
        store.save_case(record, [])
    return store, suite


def test_the_planner_writes_its_cases_to_run_json_and_leaves_settings_in_flight_alone(tmp_path):
    store, suite = _store(tmp_path, records(OPEN_AT_8))
    planner = SeedPlanner(store, [suite], quick=False, budget=Budget(None))
    cases = planner.more()
    assert {(c.normalizer, c.axes["batch_size"], c.seed) for c in cases} == {
        (n, 8, s) for n in ("batch", "layer") for s in (3, 4, 5)}
    assert [c["case_id"] for c in json.loads((store.path / "run.json").read_text())["extra_cases"]] == \
        [c.case_id for c in cases]
    assert all(in_setting(c, {"device": "cpu", "batch_size": 8}) for c in cases)
    # nothing finished since: the same cases come back as pending, none new
    again = planner.more()
    assert {c.case_id for c in again} == {c.case_id for c in cases} and planner.rounds == 1


def test_a_spent_budget_plans_nothing_and_says_so(tmp_path):
    store, suite = _store(tmp_path, records(OPEN_AT_8))
    planner = SeedPlanner(store, [suite], quick=False, budget=Budget(0.0))
    assert planner.more() == [] and planner.budget_spent
    # what a larger budget would buy: batch 8's request, 3 seeds x 2 candidates x 2 s, on one slot
    count, seconds = planner.wanted()
    assert count == 1 and 12.0 <= seconds < 12.5


def test_the_budget_takes_what_fits(tmp_path):
    """A 3-second budget on one slot holds no 12-second request."""
    store, suite = _store(tmp_path, records(OPEN_AT_8))
    planner = SeedPlanner(store, [suite], quick=False, budget=Budget(3.0))
    assert planner.more() == [] and planner.budget_spent


def test_an_open_claim_gets_seeds_where_the_headline_is_settled():
    """At batch 32 the headline is clear, but the claim "batch beats layer by at least 9 points"
    is still open: its setting gets seeds up to the next look too."""
    document = {**SUITE, "claims": [{"source": "ours", "text": "batch leads by 9 points at batch 32",
                                     "candidate": "batch", "reference": "layer", "better_by_at_least": 0.09,
                                     "where": {"batch_size": 32}}]}
    suite = suite_from_document(document, "s.yaml")
    data = records({("batch", 32): [0.95, 0.97, 0.96], ("layer", 32): [0.85, 0.86, 0.88]})
    frame = records_frame(data)
    assert seed_requests(frame, {}, [0, 1, 2], looks(3)) == []  # the headline alone asks for nothing
    (request,) = seed_requests(frame, {}, [0, 1, 2], looks(3), claims=suite.claims)
    assert request.setting == {"device": "cpu", "batch_size": 32} and request.seeds == (3, 4, 5)
    assert request.configs == {"batch|batch_size=32", "layer|batch_size=32"}  # the claim's two candidates


def test_the_budget_is_held_against_the_runs_own_pace(tmp_path):
    """Records report 24 s of cases (12 x 2 s) in a run 100 s old: each reported second costs about
    4 of wall clock, so a request of 12 reported seconds needs about 50 s of budget left."""
    import time

    store, suite = _store(tmp_path, records(OPEN_AT_8))
    plenty = SeedPlanner(store, [suite], quick=False, budget=Budget(160.0, started=time.monotonic() - 100))
    assert len(plenty.more()) == 6
    store, suite = _store(tmp_path / "again", records(OPEN_AT_8))
    tight = SeedPlanner(store, [suite], quick=False, budget=Budget(140.0, started=time.monotonic() - 100))
    assert tight.more() == [] and tight.budget_spent  # 40 s left buys 40 / 4.2 = 9.5 reported s < 12



def test_cases_still_pending_spend_the_budget_first(tmp_path):
    """60 s on one slot buys the 12 s request at batch 8, unless 50 s of cases planned earlier (25
    at batch 32, the suite's mean 2 s each) are still to run."""
    import dataclasses

    from bench.suite import expand

    store, suite = _store(tmp_path, records(OPEN_AT_8))
    assert len(SeedPlanner(store, [suite], quick=False, budget=Budget(60.0)).more()) == 6
    later = [c for c in expand(dataclasses.replace(suite, seeds=list(range(50, 63))))
             if c.axes["batch_size"] == 32][:25]
    store, suite = _store(tmp_path / "again", records(OPEN_AT_8), extra=[c.to_dict() for c in later])
    planner = SeedPlanner(store, [suite], quick=False, budget=Budget(60.0))
    assert [c.case_id for c in planner.more()] == [c.case_id for c in later] and planner.budget_spent


class _StubPlanner:
    """Plans the same case every time, as a planner does while that case is still in flight."""

    def __init__(self, case):
        self.case, self.rounds, self.budget_spent = case, 1, False

    def more(self, keras_backends=None):
        return [self.case]


class _FakeExecutor:
    frameworks = {"tensorflow": {"name": "tensorflow", "version": "0"}}
    unavailable: dict = {}
    gpu_reasons = {"tensorflow": "no GPU here"}

    def __init__(self):
        self.fed = []

    def describe(self):
        return {"executor": "fake"}

    def execute(self, cases, finished, more=None):
        from bench.results.records import new_record

        self.fed += [more(), more()]  # asked twice while the first fed case is still running
        for case in [*cases, *self.fed[0]]:
            finished({**new_record(case, "r"), "status": "ok"}, [], "node")

    def running_by_node(self):
        return {}

    def stop(self):
        pass


def test_a_case_in_flight_is_never_handed_out_twice(tmp_path, monkeypatch):
    """On Ray a fed case is still running when the queue runs dry again; the planner then lists it
    as pending, and the driver must not queue it a second time."""
    import io

    from bench.execute import runner
    from bench.execute.contract import Execution
    from bench.suite import expand

    suite = suite_from_document(SUITE, "s.yaml")
    first, extra = [c for c in expand(suite) if c.device == "cpu"][:2]
    fake = _FakeExecutor()
    monkeypatch.setattr(runner, "_executor", lambda *args: fake)
    store = RunStore.create(tmp_path, {"state": "running", "suites": [], "commit": {}})
    runner._Driver(store, io.StringIO(), _StubPlanner(extra)).run([first], 1, Execution(workers=2))
    assert [[c.case_id for c in batch] for batch in fake.fed] == [[extra.case_id], []]


def test_on_ray_the_backend_with_the_most_cases_runs_last_and_takes_the_added_seeds(tmp_path, monkeypatch):
    """Ray starts one backend's slots after another's; the big backend goes last so that its slots
    take the added seeds as they free up, with no second start for them."""
    import dataclasses
    import io

    from bench.execute import runner
    from bench.execute.contract import Execution
    from bench.suite import expand

    suite = suite_from_document(SUITE, "s.yaml")
    tensorflow = [c for c in expand(suite) if c.device == "cpu"][:3]
    jax = [dataclasses.replace(tensorflow[0], settings={**tensorflow[0].settings, "backend": "jax"})]
    started = []

    class Recording(_FakeExecutor):
        def execute(self, cases, finished, more=None):
            started.append((self.names, len(cases), more is not None))

    def executor(execution, run_id, stream, names, log_path):
        fake = Recording()
        fake.names, fake.frameworks = list(names), {name: {"name": name} for name in names}
        fake.gpu_reasons = {name: "no GPU here" for name in names}
        return fake

    monkeypatch.setattr(runner, "_executor", executor)
    monkeypatch.setattr(runner.backends, "missing_reason", lambda name: None)
    store = RunStore.create(tmp_path, {"state": "running", "suites": [], "commit": {}})
    runner._Driver(store, io.StringIO(), _StubPlanner(tensorflow[0])).run([*tensorflow, *jax], 1, Execution(workers=2))
    assert started == [(["jax"], 1, False), (["tensorflow"], 3, True)]


def test_a_run_whose_budget_ran_out_says_what_more_would_buy(tmp_path, capsys):
    from bench.cli import _say_budget

    class Spent:
        rounds, budget_spent = 2, True

        def wanted(self):
            return 3, 130.0

    store = RunStore.create(tmp_path, {"state": "complete", "suites": []})
    _say_budget(store, Spent())
    err = capsys.readouterr().err
    assert "2 round(s) of added seeds; stopped because the budget ran out" in err
    assert f"about 3 min more at this run's pace would take the 3 open comparison(s) to their next look: " \
           f"normbench run --resume {store.path} --budget 3m" in err
    assert json.loads((store.path / "run.json").read_text())["budget"] == {"spent": True, "rounds": 2}


def test_seeds_that_some_candidates_already_ran_are_filled_first():
    """A trend claim reads batch 8 (3 seeds) and batch 32 (6): batch 8 gets seeds 3-5, which batch 32
    already has, and batch 32 gets nothing; a verdict whose runner-up lags the best gets the best's
    seeds, for the runner-up only."""
    document = {**SUITE, "claims": [{"source": "ours", "text": "trend", "candidate": "batch", "reference": "layer",
                                     "trend": {"at": {"batch_size": 8}, "versus": {"batch_size": 32}},
                                     "better_by_at_least": 0.05}]}
    suite = suite_from_document(document, "s.yaml")
    data = records({("batch", 8): [0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88],
                    ("batch", 32): [0.95, 0.96, 0.97, 0.95, 0.96, 0.97],
                    ("layer", 32): [0.85, 0.86, 0.87, 0.85, 0.86, 0.87]})
    requests = seed_requests(records_frame(data), {}, [0, 1, 2], looks(3), claims=suite.claims)
    assert [(r.setting["batch_size"], r.seeds) for r in requests] == [(8, (3, 4, 5))]
    lagging = records({("batch", 8): [0.90, 0.80, 0.95, 0.90, 0.80, 0.95], ("layer", 8): [0.85, 0.82, 0.88]})
    (request,) = seed_requests(records_frame(lagging), {}, [0, 1, 2], looks(3))
    assert request.seeds == (3, 4, 5) and request.configs == {"batch|batch_size=8", "layer|batch_size=8"}


def test_seeds_for_accuracy_comparisons_are_not_timed_and_keep_their_config_hash(tmp_path):
    """An accuracy verdict needs no timing rounds: its added seeds skip the timing phase, which a
    node that times each case alone pays on every slot. What the case is stays the same."""
    (request,) = seed_requests(records_frame(records(OPEN_AT_8)), {}, [0, 1, 2], looks(3))
    assert request.timed is False
    store, suite = _store(tmp_path, records(OPEN_AT_8))
    cases = SeedPlanner(store, [suite], quick=False, budget=Budget(None)).more()
    assert cases and not any(case.timed for case in cases)
    from bench.execute.timing_groups import group_key
    from bench.suite import expand

    plain = {case.case_id: case for case in expand(dataclasses.replace(suite, seeds=(3, 4, 5)))}
    assert all(case.config_hash == plain[case.case_id].config_hash for case in cases)
    assert all(plain[case.case_id].timed and group_key(case) is None for case in cases)


def test_seeds_for_a_speed_comparison_are_timed():
    speeds = []
    for (normalizer, batch), values in OPEN_AT_8.items():
        for record, value in zip(records({(normalizer, batch): values}), values):
            speeds.append({**record, "train_samples_per_sec": 1000 * value})
    (request, *_) = seed_requests(records_frame(speeds), {"headline": "throughput"}, [0, 1, 2], looks(3))
    assert request.timed is True


@pytest.mark.tensorflow
def test_an_untimed_case_trains_evaluates_and_says_why_it_has_no_speed():
    from bench.execute.in_worker import run_case
    from bench.execute.settle import untimed
    from bench.suite import expand

    tiny = {"name": "tiny", "dataset": {"name": "synthetic", "samples": 64, "classes": 2, "image_size": 4},
            "model": {"name": "mlp", "widths": [4]}, "training": {"epochs": 1, "batch_size": 16},
            "normalizers": {"batch": {}}, "seeds": [0], "devices": ["cpu"],
            "timing": {"min_rounds": 1, "max_time": 0.001, "warmup_rounds": 0}}
    (case,) = expand(suite_from_document(tiny, "tiny.yaml"))
    benchmarks = []
    record = run_case(untimed(case), "r", {}, benchmarks)
    assert record["status"] == "ok" and 0.0 <= record["test_accuracy"] <= 1.0
    assert record["train_samples_per_sec"] is None and benchmarks == []
    assert "accuracy comparisons only" in record["untimed"]
    timed = run_case(case, "r", {}, [])
    assert timed["train_samples_per_sec"] > 0 and timed["untimed"] is None
