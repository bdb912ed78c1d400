"""The Label Studio labelling config, generated from the topic registry.

``annotations/label_config.xml`` is the output of :func:`label_config` (regenerate it with
``classify ls config --write`` after editing ``classify/topics.py``; a test fails when they drift).

The config shows the document title, the heading (for letter sections), the question and the
answer, and one multi-label ``Choices`` over the five topics plus an explicit
``None of the five`` choice. The choices are required, so a submitted annotation always records a
decision; "not yet labelled" is a task without annotation. ``None of the five`` together with a
topic is contradictory and is rejected when the export is read (:mod:`classify.dataset`).

Choice values are the registry's display names (as in the seed export); exports are mapped back
to keys with :func:`classify.topics.choice_to_key`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from classify.topics import NONE_CHOICE, TOPICS, Topic, get

FROM_NAME = "topics"  # the Choices tag: `from_name` of every result
TO_NAME = "answer"  # the Text tag the choices refer to: `to_name`
DATA_FIELDS = ("doc_title", "heading", "question", "answer")  # task data the config shows
NONE_HINT = ("Geen van de vijf onderwerpen is onderwerp van de vraag of het antwoord "
             "(niet te combineren met een onderwerp).")

# (an XML comment may not contain "--", hence the short option)
GENERATED_NOTE = ("<!-- Generated from classify/topics.py by `classify ls config -w`; "
                  "do not edit by hand. -->\n")


def config_path() -> Path:
    from classify.paths import annotations_dir

    return annotations_dir() / "label_config.xml"


def label_config(topics: Iterable[Topic] = TOPICS) -> str:
    """The labelling config (XML text) for ``topics``."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="$doc_title", size="4")
    ET.SubElement(view, "Header", value="$heading", size="5")
    ET.SubElement(view, "Header", value="Vraag", size="6")
    ET.SubElement(view, "Text", name="question", value="$question")
    ET.SubElement(view, "Header", value="Antwoord", size="6")
    ET.SubElement(view, "Text", name=TO_NAME, value="$answer")
    ET.SubElement(view, "Header", value="Onderwerpen: kies er een of meer, of 'None of the five'",
                  size="6")
    choices = ET.SubElement(view, "Choices", name=FROM_NAME, toName=TO_NAME, choice="multiple",
                            showInline="false", required="true",
                            requiredMessage=f"Kies minstens een onderwerp of '{NONE_CHOICE}'.")
    for t in topics:
        ET.SubElement(choices, "Choice", value=t.name, hint=t.description)
    ET.SubElement(choices, "Choice", value=NONE_CHOICE, hint=NONE_HINT)
    ET.indent(view, space="  ")
    return GENERATED_NOTE + ET.tostring(view, encoding="unicode") + "\n"


def check_config(path: str | Path | None = None) -> bool:
    """True when the file at ``path`` (default: the bundled config) equals the generated config."""
    path = Path(path) if path else config_path()
    return path.is_file() and path.read_text(encoding="utf-8") == label_config()


def write_config(path: str | Path | None = None) -> Path:
    """Regenerate the config file (atomically) and return its path."""
    from classify.writers import atomic_write_text

    path = Path(path) if path else config_path()
    atomic_write_text(path, label_config())
    return path


def choice_values(keys: Iterable[str]) -> list[str]:
    """Choice values for topic keys (display names); no keys → the explicit none choice."""
    names = [get(k).name for k in keys]
    return names or [NONE_CHOICE]


def choices_result(keys: Iterable[str]) -> list[dict]:
    """A Label Studio ``result`` (annotation or prediction) choosing ``keys``."""
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
             "value": {"choices": choice_values(keys)}}]
