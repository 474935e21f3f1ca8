"""The report's frame: every grid axis a column, so no table pools settings that differ."""

from bench.analysis.frame import grid_axes, records_frame
from report.tables import suite_summary


def fine_tuning_record(offset, mode, seed, acc, user_axis=None):
    axes = {"shift_offset": offset, "fine_tune_bn": mode}
    if user_axis is not None:
        axes["my_option"] = user_axis
    return {"case_id": f"ft/batch/{offset}/{mode}/{user_axis}/{seed}", "suite": "ft", "normalizer": "batch",
            "device": "cpu", "status": "ok", "seed": seed, "fine_tune_bn": mode, "axes": axes,
            "test_accuracy": acc}


def test_an_axis_that_is_not_a_record_field_is_its_own_column():
    frame = records_frame([fine_tuning_record(o, "trainable", s, 0.9 if o == 0.25 else 0.1)
                           for o in (0.25, 1.0) for s in (0, 1, 2)])
    assert grid_axes(frame) == ["shift_offset", "fine_tune_bn"]
    assert sorted(frame["shift_offset"].unique()) == [0.25, 1.0]


def test_summary_keeps_one_row_per_shift_offset():
    records = [fine_tuning_record(o, "trainable", s, 0.9 if o == 0.25 else 0.1) for o in (0.25, 1.0) for s in (0, 1, 2)]
    header, rows = suite_summary(records_frame(records))
    assert header[:4] == ["device", "normalizer", "shift_offset", "fine_tune_bn"]
    assert [(r[2], r[4], r[5]) for r in rows] == [("0.25", "3", "0.900 ± 0.000"), ("1", "3", "0.100 ± 0.000")]


def test_an_axis_on_a_user_option_is_not_pooled_either():
    records = [fine_tuning_record(1.0, "frozen", s, 0.5 + u, user_axis=u) for u in (0.0, 0.25) for s in (0, 1)]
    header, rows = suite_summary(records_frame(records))
    assert "my_option" in header
    assert [r[header.index("my_option")] for r in rows] == ["0", "0.25"]
    assert [r[header.index("seeds")] for r in rows] == ["2", "2"]


def test_list_valued_axes_become_text_keys():
    record = fine_tuning_record(1.0, "frozen", 0, 0.5)
    record["axes"]["widths"] = [16, 32]
    frame = records_frame([record])
    assert frame.loc[0, "widths"] == "[16, 32]"


def test_backends_set_per_run_are_a_setting_of_their_own():
    """Two runs of one suite, each with ``backend`` in ``training`` (no axis): never pooled."""
    from bench.analysis.frame import grid_axes, records_frame

    base = {"suite": "s", "status": "ok", "device": "cpu", "normalizer": "batch", "axes": {"batch_size": 8}}
    frame = records_frame([{**base, "backend": "jax"}, {**base, "backend": "torch"}])
    assert grid_axes(frame) == ["batch_size", "backend"]
    assert grid_axes(records_frame([base, {**base, "backend": "tensorflow"}])) == ["batch_size"]
