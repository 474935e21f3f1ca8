"""Which cases a worker takes next: a setting's candidates as one timing group, and a configuration
it has just traced before the rest of the queue (its steps are kept: bench.measure.warm_models)."""

import random
from collections import deque

from bench.execute.timing_groups import Affinity, group_id, take_group
from bench.measure.warm_models import KEPT
from bench.suite import expand
from bench.suite.loader import suite_from_document

SUITE = {"name": "s", "normalizers": {"batch": {}, "layer": {}}, "grid": {"batch_size": [8, 32]},
         "seeds": [0, 1, 2], "devices": ["cpu"]}


def shuffled(document=SUITE, seed=3):
    cases = list(expand(suite_from_document(document, "s.yaml")))
    random.Random(seed).shuffle(cases)
    return cases


def test_a_group_is_a_settings_candidates_at_one_seed():
    queue = deque(shuffled())
    group = take_group(queue.popleft(), queue)
    assert sorted(case.normalizer for case in group) == ["batch", "layer"]
    assert len({(case.seed, case.axes["batch_size"]) for case in group}) == 1
    assert group_id(group).startswith("s/batch_size=") and len(queue) == 10


def test_a_worker_takes_the_seeds_of_what_it_just_trained_first():
    cases = shuffled()
    queue, affinity, order = deque(cases), Affinity(), []
    while queue:
        order.append(affinity.take(queue))
    assert sorted(case.case_id for group in order for case in group) == sorted(case.case_id for case in cases)
    settings = [group[0].axes["batch_size"] for group in order]
    assert settings[:3] == [settings[0]] * 3 and settings[3:] == [settings[3]] * 3  # each setting's seeds in a row
    assert [group[0].case_id for group in order][0] == cases[0].case_id  # nothing traced yet: the queue's first


def test_with_nothing_traced_queued_the_queue_order_holds():
    cases = shuffled({**SUITE, "seeds": [0]})
    queue, affinity = deque(cases), Affinity()
    firsts = [affinity.take(queue)[0].case_id for _ in range(2)]
    expected = deque(cases)
    assert firsts == [take_group(expected.popleft(), expected)[0].case_id for _ in range(2)]


def test_a_worker_remembers_as_many_configurations_as_it_keeps():
    document = {**SUITE, "grid": {"batch_size": list(range(2, 2 + 2 * KEPT))}, "seeds": [0]}
    queue, affinity = deque(shuffled(document)), Affinity()
    while queue:
        affinity.take(queue)
    assert len(affinity.recent) == KEPT
