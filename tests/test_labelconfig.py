"""The labelling config is generated from the registry and matches the bundled file."""

import re
import xml.etree.ElementTree as ET

from classify import labelconfig
from classify.cli import main
from classify.dataset import _choices_of_result
from classify.labelstudio import task_data
from classify.topics import NONE_CHOICE, TOPICS
from classify.types import Document, Segment


def test_bundled_config_is_the_generated_one():
    # Fails when classify/topics.py changed without `classify ls config -w`.
    assert labelconfig.config_path().read_text(encoding="utf-8") == labelconfig.label_config()
    assert labelconfig.check_config()


def test_config_has_multilabel_topics_and_an_explicit_none():
    root = ET.fromstring(labelconfig.label_config())
    choices = root.find("Choices")
    assert choices.get("name") == labelconfig.FROM_NAME
    assert choices.get("choice") == "multiple"
    assert choices.get("required") == "true"  # an empty submission is impossible
    values = [c.get("value") for c in choices.findall("Choice")]
    assert values == [t.name for t in TOPICS] + [NONE_CHOICE]
    hints = {c.get("value"): c.get("hint") for c in choices.findall("Choice")}
    assert all(hints[t.name] == t.description for t in TOPICS)
    texts = {t.get("name") for t in root.iter("Text")}
    assert texts == {"question", "answer"}
    assert choices.get("toName") == labelconfig.TO_NAME == "answer"


def test_config_shows_title_question_and_answer_from_task_data():
    xml = labelconfig.label_config()
    variables = set(re.findall(r'value="\$(\w+)"', xml))
    assert variables == set(labelconfig.DATA_FIELDS) == {"doc_title", "heading", "question", "answer"}
    doc = Document(doc_id="brief.txt", path="brief.txt", text="", title="Brief over terugkeer")
    seg = Segment("brief.txt", 2, "qa", "Vraag?", "Antwoord.", heading=None)
    data = task_data(doc, seg)
    assert variables <= set(data)  # Label Studio refuses tasks missing a variable
    assert data["heading"] == ""  # never null


def test_check_detects_drift(tmp_path):
    path = tmp_path / "label_config.xml"
    labelconfig.write_config(path)
    assert labelconfig.check_config(path)
    path.write_text(path.read_text().replace("Terrorism", "Terror"), encoding="utf-8")
    assert not labelconfig.check_config(path)


def test_choices_result_round_trips_through_the_export_reader(tmp_path):
    assert _choices_of_result(labelconfig.choices_result(["border_control", "return_policy"]),
                              tmp_path, 1) == ["border_control", "return_policy"]
    none = labelconfig.choices_result([])
    assert none[0]["value"]["choices"] == [NONE_CHOICE]
    assert _choices_of_result(none, tmp_path, 1) == []


def test_cli_config_check_and_print(capsys):
    assert main(["ls", "config", "--check"]) == 0
    assert main(["ls", "config"]) == 0
    assert capsys.readouterr().out.count("<Choice ") == len(TOPICS) + 1
