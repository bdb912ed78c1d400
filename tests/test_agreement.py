"""Inter-annotator agreement: known values on a hand-made export, and the seed export."""

import json

import pytest

from classify.agreement import agreement
from classify.cli import main
from classify.topics import TOPIC_KEYS


def _task(tid, a1, a2=None, a2_cancelled=False):
    def ann(annotator, choices, cancelled=False):
        result = [] if cancelled else [{"from_name": "topics", "to_name": "answer", "type": "choices",
                                        "value": {"choices": choices}}]
        return {"id": tid * 10 + annotator, "completed_by": annotator, "result": result,
                "was_cancelled": cancelled, "created_at": f"2026-02-01T09:00:0{annotator}Z"}

    anns = [ann(1, a1)]
    if a2 is not None or a2_cancelled:
        anns.append(ann(2, a2 or [], cancelled=a2_cancelled))
    return {"id": tid, "data": {"doc": "brief.txt", "seg": tid, "text": f"segment {tid}"},
            "annotations": anns}


@pytest.fixture
def tiny_export(tmp_path):
    # Two annotators; tasks 1-6 labelled by both, 7 only by annotator 1, 8's second one cancelled.
    tasks = [
        _task(1, ["Return policy", "Solidarity pool"], ["return_policy", "solidarity_pool"]),
        _task(2, ["Return policy"], ["None of the five"]),
        _task(3, ["Border control"], []),
        _task(4, ["None of the five"], ["Border control"]),
        _task(5, ["Return policy"], ["Return policy"]),
        _task(6, [], ["Return policy"]),
        _task(7, ["Labour migration"]),
        _task(8, ["Return policy"], a2_cancelled=True),
    ]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_known_values_on_a_tiny_export(tiny_export):
    r = agreement(tiny_export)
    assert r.annotators == ["1", "2"] and r.n_tasks == 8 and r.n_coannotated == 6
    t = {x.topic: x for x in r.topics}
    assert [x.topic for x in r.topics] == list(TOPIC_KEYS)
    # return_policy: (1,1) (1,0) (0,0) (0,0) (1,1) (0,1). Observed 4/6; both say yes half the time,
    # so chance agreement 0.5 and kappa (2/3 - 1/2) / (1/2) = 1/3. Alpha: coincidences
    # o(0,1) = o(1,0) = 2, n0 = n1 = 6, n = 12: 1 - 11 * 4 / (2 * 6 * 6) = 7/18.
    assert t["return_policy"].n == 6
    assert t["return_policy"].observed == pytest.approx(4 / 6)
    assert t["return_policy"].kappa == pytest.approx(1 / 3)
    assert t["return_policy"].alpha == pytest.approx(7 / 18)
    # solidarity_pool: one shared yes, the rest shared no: perfect.
    assert t["solidarity_pool"].kappa == pytest.approx(1.0)
    assert t["solidarity_pool"].alpha == pytest.approx(1.0)
    # border_control: (1,0) and (0,1), four shared no. Observed 4/6; chance (1/6)^2 + (5/6)^2 = 26/36;
    # kappa (24/36 - 26/36) / (10/36) = -0.2. Alpha: n1 = 2, n0 = 10: 1 - 11 * 4 / (2 * 2 * 10) = -0.1.
    assert t["border_control"].kappa == pytest.approx(-0.2)
    assert t["border_control"].alpha == pytest.approx(-0.1)
    # terrorism / labour_migration: nobody chose them on a co-annotated task: undefined, not 0 or 1.
    for key in ("terrorism", "labour_migration"):
        assert t[key].observed == pytest.approx(1.0)
        assert t[key].kappa is None and t[key].alpha is None


def test_disagreeing_tasks_are_listed_with_the_topics_in_dispute(tiny_export):
    r = agreement(tiny_export)
    assert [(d.task_id, d.topics) for d in r.disagreements] == [
        (2, ["return_policy"]), (3, ["border_control"]), (4, ["border_control"]), (6, ["return_policy"])]
    assert r.disagreements[0].labels == {"1": ["return_policy"], "2": []}


def test_three_annotators_give_alpha_but_no_cohen_kappa(tmp_path):
    def ann(a, choices):
        return {"id": a, "completed_by": a, "result": [{"from_name": "topics", "to_name": "answer",
                "type": "choices", "value": {"choices": choices}}], "created_at": f"2026-01-01T00:00:0{a}Z"}
    tasks = [{"id": i, "data": {"text": "x", "doc": "d", "seg": i},
              "annotations": [ann(1, c1), ann(2, c2), ann(3, c3)]}
             for i, (c1, c2, c3) in enumerate([(["Terrorism"], ["Terrorism"], []), ([], [], []),
                                               (["Terrorism"], ["Terrorism"], ["Terrorism"])], 1)]
    path = tmp_path / "three.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    t = {x.topic: x for x in agreement(path).topics}["terrorism"]
    assert t.kappa is None
    assert t.alpha is not None and 0 < t.alpha < 1
    assert t.observed == pytest.approx((1 / 3 + 1 + 1) / 3)


def test_seed_export_reports_every_topic_and_its_disagreements(seed_export):
    r = agreement(seed_export)
    assert r.annotators == ["1", "2"] and r.n_coannotated == 46
    assert [t.topic for t in r.topics] == list(TOPIC_KEYS)
    for t in r.topics:
        assert t.n == 46 and 0.5 < t.observed <= 1
        assert t.kappa is not None and -1 <= t.kappa <= 1
        assert t.alpha is not None and -1 <= t.alpha <= 1
    assert 0 < len(r.disagreements) < 46
    for d in r.disagreements:
        assert d.topics and set(d.labels) == {"1", "2"}
        for k in d.topics:  # a disputed topic: exactly one of the two chose it
            assert (k in d.labels["1"]) != (k in d.labels["2"])


def test_cli_agreement_prints_table_and_disagreements(tiny_export, capsys):
    assert main(["agreement", str(tiny_export)]) == 0
    out = capsys.readouterr().out
    assert "return_policy" in out and "0.333" in out and "n/a" in out
    assert "4 tasks with disagreement" in out
    assert main(["agreement", str(tiny_export), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["disagreements"]) == 4
