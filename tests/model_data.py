"""Synthetic Dutch training data for the model tests: short segments built from templates.

Written for these tests (no text from the shared corpus). Four "documents" with segments on each
topic, some on two topics and some on none, so leave-one-document-out has positives everywhere.
"""

from __future__ import annotations

import random

import pandas as pd

from classify.topics import TOPIC_KEYS

SENTENCES = {
    "return_policy": [
        "Het kabinet wil dat vreemdelingen zonder verblijfsrecht sneller terugkeren naar hun herkomstland.",
        "De Dienst Terugkeer en Vertrek begeleidt het vertrek van uitgeprocedeerde asielzoekers.",
        "Gedwongen vertrek blijft nodig wanneer zelfstandig vertrek niet lukt.",
        "De terugkeerverordening maakt een terugkeerbesluit in de hele Unie geldig.",
        "Vreemdelingenbewaring wordt alleen toegepast als uitzetting binnen afzienbare tijd mogelijk is.",
    ],
    "solidarity_pool": [
        "Lidstaten dragen bij aan de solidariteitspool met herplaatsing of een financiële bijdrage.",
        "Het solidariteitsmechanisme van het pact verdeelt de verantwoordelijkheid tussen lidstaten.",
        "Nederland kiest voor verrekening in plaats van herplaatsing van asielzoekers.",
        "De Commissie stelt jaarlijks vast welke lidstaten onder migratiedruk staan.",
    ],
    "terrorism": [
        "De NCTV schat de terroristische dreiging in Nederland als substantieel in.",
        "De AIVD onderzoekt signalen van jihadisme en gewelddadig extremisme.",
        "Uitreizigers die terugkeren uit Syrië worden op radicalisering gescreend.",
        "Een aanslag door een terrorist blijft een reëel risico volgens de inlichtingendiensten.",
    ],
    "labour_migration": [
        "Werkgevers vragen een tewerkstellingsvergunning aan voor arbeidsmigranten van buiten de Unie.",
        "Kennismigranten krijgen sneller toegang tot de Nederlandse arbeidsmarkt.",
        "De Arbeidsinspectie treedt op tegen uitbuiting van arbeidsmigranten.",
        "Asielzoekers mogen onder voorwaarden werken tijdens hun procedure.",
    ],
    "border_control": [
        "Frontex ondersteunt de lidstaten bij de bewaking van de buitengrenzen.",
        "De grensprocedure geldt voor asielzoekers uit landen met een laag inwilligingspercentage.",
        "Er zijn meldingen van pushbacks aan de buitengrens van de Unie.",
        "Binnengrenscontroles zijn tijdelijk ingevoerd om irreguliere migratie tegen te gaan.",
    ],
    None: [
        "De minister dankt de leden voor hun vragen over het jaarverslag.",
        "Het aantal aanvragen voor gezinshereniging is vorig jaar licht gestegen.",
        "De IND publiceert maandelijks cijfers over de doorlooptijden van procedures.",
        "Gemeenten ontvangen een vergoeding voor de opvang van statushouders.",
    ],
}

QUESTIONS = ["Kent u het bericht over dit onderwerp?", "Kunt u aangeven wat de stand van zaken is?",
             "Hoe beoordeelt u deze ontwikkeling?", "Welke stappen zet het kabinet?"]
TITLES = ["Antwoorden Kamervragen over migratie ({n})", "Verslag schriftelijk overleg asielbeleid ({n})",
          "Brief over de uitvoering van het migratiebeleid ({n})", "Beantwoording vragen Eerste Kamer ({n})"]


def synthetic_rows(n_docs: int = 4, per_doc: int = 12, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    topics = list(TOPIC_KEYS)
    rows = []
    for d in range(n_docs):
        title = TITLES[d % len(TITLES)].format(n=2020 + d)
        for s in range(per_doc):
            slot = s % (len(topics) + 2)
            if slot < len(topics):
                labels = [topics[slot]]
            elif slot == len(topics):
                labels = rng.sample(topics, 2)
            else:
                labels = []
            parts = [rng.choice(SENTENCES[k]) for k in labels] or [rng.choice(SENTENCES[None])]
            parts.append(rng.choice(SENTENCES[None]))
            rng.shuffle(parts)
            text = f"{rng.choice(QUESTIONS)}\n\n{' '.join(parts)}"
            rows.append({"id": f"doc{d}#{s}", "doc": f"doc{d}.txt", "seg": s, "doc_title": title,
                         "heading": "", "text": text, "labels": [k for k in topics if k in labels]})
    return rows


def synthetic_df(**kw) -> pd.DataFrame:
    df = pd.DataFrame(synthetic_rows(**kw))
    for k in TOPIC_KEYS:
        df[k] = [int(k in labels) for labels in df["labels"]]
    return df
