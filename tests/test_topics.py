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
