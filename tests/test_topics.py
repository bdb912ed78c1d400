"""The topic registry: keys, names and the mapping of Label Studio choice values."""

import pytest

from classify import topics
from classify.errors import ClassifyError
from classify.topics import NONE_CHOICE, TOPIC_KEYS, TOPICS, choice_to_key


def test_the_five_topics_in_registry_order():
    assert TOPIC_KEYS == ("return_policy", "solidarity_pool", "terrorism", "labour_migration",
                          "border_control")
    assert [t.name for t in TOPICS] == ["Return policy", "Solidarity pool", "Terrorism",
                                        "Labour migration", "Border control"]


def test_every_topic_has_a_description_and_terms():
    for t in TOPICS:
        assert len(t.description) > 30, t.key
        assert t.terms and all(term == term.lower() for term in t.terms), t.key


def test_topic_examples_are_distinct_and_not_in_the_challenge_set():
    from pathlib import Path
    import json

    texts, ys = topics.example_rows()
    assert len(texts) == sum(len(t.examples) for t in TOPICS)
    for t in TOPICS:
        assert len(t.examples) >= 5, t.key  # enough to give a topic without annotations positives
    assert all(len(y) == 1 and y[0] in TOPIC_KEYS for y in ys)
    assert len(set(texts)) == len(texts)
    assert topics.example_rows(["terrorism"])[1] == [["terrorism"]] * len(topics.get("terrorism").examples)
    # The challenge set measures generalisation: the training examples must not be part of it.
    challenge = Path(__file__).resolve().parents[1] / "annotations" / "challenge" / "challenge.jsonl"
    held = {" ".join(json.loads(line)["text"].lower().split())
            for line in challenge.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not held & {" ".join(t.lower().split()) for t in texts}


def test_examples_sha256_follows_the_examples(monkeypatch):
    before = topics.examples_sha256()
    assert before == topics.examples_sha256(TOPIC_KEYS)
    assert before != topics.examples_sha256(TOPIC_KEYS[:2])
    changed = tuple(t if t.key != "terrorism" else topics.Topic(t.key, t.name, t.description, t.terms,
                                                                t.examples[:-1]) for t in TOPICS)
    monkeypatch.setattr(topics, "_BY_KEY", {t.key: t for t in changed})
    assert topics.examples_sha256() != before


@pytest.mark.parametrize("value, key", [
    ("Return policy", "return_policy"), ("return_policy", "return_policy"),
    ("  BORDER CONTROL ", "border_control"), ("Labour migration", "labour_migration"),
    ("solidarity_pool", "solidarity_pool"), ("terrorism", "terrorism"),
])
def test_choice_values_map_to_keys(value, key):
    assert choice_to_key(value) == key


def test_none_choice_maps_to_no_topic():
    assert choice_to_key(NONE_CHOICE) is None
    assert choice_to_key(NONE_CHOICE.upper()) is None


def test_unknown_choice_is_a_key_error():
    with pytest.raises(KeyError):
        choice_to_key("Asylum reception")


def test_get_names_the_known_topics():
    assert topics.get("terrorism").name == "Terrorism"
    with pytest.raises(ClassifyError, match="return_policy"):
        topics.get("asylum")
