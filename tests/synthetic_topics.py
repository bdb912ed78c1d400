"""Small synthetic Label Studio exports for the retrain / serve-ml / audit tests.

Template sentences written for these tests in the style of written parliamentary questions and
answers (no text from the shared corpus). Each segment gets 0–2 topics; a topic's sentences use
its own vocabulary, so a model can learn them and a model trained on shuffled labels cannot.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from classify.topics import NONE_CHOICE, TOPIC_KEYS
from classify.topics import get as get_topic

PHRASES = {
    "return_policy": [
        "Hoeveel vreemdelingen met een vertrekplicht zijn vorig jaar daadwerkelijk teruggekeerd naar het land van herkomst?",
        "De Dienst Terugkeer en Vertrek zet in op zelfstandig vertrek en waar nodig op gedwongen vertrek.",
        "Is de minister bereid de vreemdelingenbewaring vaker toe te passen bij uitgeprocedeerde asielzoekers?",
        "Het kabinet onderzoekt terugkeerhubs buiten de Unie en afspraken over terugname met herkomstlanden.",
        "De nieuwe terugkeerverordening moet het uitzetten van afgewezen asielzoekers versnellen.",
    ],
    "solidarity_pool": [
        "Welke financiële bijdrage levert Nederland aan de solidariteitspool van het migratiepact?",
        "Lidstaten onder migratiedruk kunnen vragen om herplaatsing van asielzoekers naar andere lidstaten.",
        "Het solidariteitsmechanisme verdeelt de verantwoordelijkheid eerlijk over de lidstaten.",
        "Kiest Nederland voor herplaatsing of voor een bijdrage aan de pool in plaats van opvang?",
        "De jaarlijkse solidariteitsregeling legt een eerlijk aandeel vast voor iedere lidstaat.",
    ],
    "terrorism": [
        "Hoe beoordeelt de NCTV het dreigingsniveau na de recente aanslag in het buitenland?",
        "De AIVD volgt uitreizigers en teruggekeerde strijders van Islamitische Staat nauwlettend.",
        "Wat doet het kabinet tegen online radicalisering en gewelddadig extremisme onder jongeren?",
        "Jihadistische netwerken proberen nieuwe aanhangers te werven voor terroristische doelen.",
        "De inlichtingendiensten wisselen informatie uit over terrorismeverdachten.",
    ],
    "labour_migration": [
        "Hoeveel kennismigranten kwamen vorig jaar naar Nederland via de regeling voor hoogopgeleiden?",
        "Werkgevers vragen om een snellere tewerkstellingsvergunning voor arbeidsmigranten uit derde landen.",
        "De huisvesting van arbeidsmigranten bij uitzendbureaus schiet vaak ernstig tekort.",
        "Uitbuiting van arbeidsmigranten in de vleessector moet harder worden aangepakt.",
        "Mogen asielzoekers tijdens de procedure al werken en hoeveel uren per week?",
    ],
    "border_control": [
        "Frontex ondersteunt de bewaking van de buitengrens in de Middellandse Zee.",
        "Is er sprake van pushbacks aan de grens tussen Polen en Belarus?",
        "De grensprocedure geldt voor asielzoekers die bij de buitengrens worden aangehouden.",
        "De Koninklijke Marechaussee voert extra binnengrenscontroles uit aan de grens met Duitsland.",
        "Mensensmokkelaars brengen migranten irregulier over de grens met kleine boten.",
    ],
}
FILLER = [
    "De minister zal de Kamer voor de zomer nader informeren.",
    "Het kabinet hecht veel waarde aan een zorgvuldige afweging van alle belangen.",
    "Over de precieze aantallen zijn op dit moment geen cijfers beschikbaar.",
    "Ik verwijs u naar de beantwoording van eerdere vragen over dit onderwerp.",
    "De gemeente en het COA overleggen over de opvanglocatie in de regio.",
    "Het wetsvoorstel wordt binnenkort voor advies naar de Raad van State gestuurd.",
]
PARTIES = ["VVD", "GL-PvdA", "PVV", "NSC", "D66", "CDA", "SP"]


def segments(n_docs: int = 6, per_doc: int = 12, seed: int = 0, prefix: str = "synthetisch") -> list[dict]:
    """Labelled segments: dicts with doc, seg, doc_title, question, answer, labels (topic keys)."""
    rng = random.Random(seed)
    out = []
    for d in range(n_docs):
        doc = f"{prefix}-{d:02d}.txt"
        for s in range(per_doc):
            r = rng.random()
            n_topics = 0 if r < 0.15 else 1 if r < 0.8 else 2
            labels = sorted(rng.sample(TOPIC_KEYS, n_topics), key=TOPIC_KEYS.index)
            q_parts = [rng.choice(PHRASES[k]) for k in labels] or [rng.choice(FILLER)]
            a_parts = [rng.choice(PHRASES[k]) for k in labels] + [rng.choice(FILLER)]
            out.append({
                "doc": doc, "seg": s + 1, "kind": "qa", "party": rng.choice(PARTIES),
                "doc_title": f"Vragen van het lid over migratie ({d + 1})", "heading": "",
                "question": f"Vraag {s + 1} ({doc}). " + " ".join(q_parts),
                "answer": f"Antwoord {s + 1}. " + " ".join(a_parts),
                "labels": labels,
            })
    return out


def shuffled(segs: list[dict], seed: int = 1) -> list[dict]:
    """The same segments with the label lists permuted across segments (wrong labels)."""
    rng = random.Random(seed)
    labels = [s["labels"] for s in segs]
    rng.shuffle(labels)
    return [{**s, "labels": lab} for s, lab in zip(segs, labels)]


def task_data(seg: dict) -> dict:
    return {k: seg[k] for k in ("doc", "seg", "kind", "party", "doc_title", "heading", "question", "answer")}


def choices_of(labels: list[str]) -> list[str]:
    return [get_topic(k).name for k in labels] or [NONE_CHOICE]


def export(segs: list[dict], start_id: int = 1) -> list[dict]:
    """A Label Studio full JSON export: one task per segment with one annotation."""
    tasks = []
    for i, seg in enumerate(segs, start_id):
        tasks.append({
            "id": i, "data": task_data(seg), "predictions": [],
            "annotations": [{"id": i, "completed_by": 1, "was_cancelled": False, "ground_truth": False,
                             "created_at": "2025-03-01T10:00:00Z",
                             "result": [{"from_name": "topics", "to_name": "answer", "type": "choices",
                                         "value": {"choices": choices_of(seg["labels"])}}]}],
        })
    return tasks


def write_export(path: Path, segs: list[dict]) -> Path:
    path.write_text(json.dumps(export(segs), ensure_ascii=False), encoding="utf-8")
    return path
