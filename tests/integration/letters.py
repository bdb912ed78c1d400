"""Small answer letters written for the tests, in the layout of the Ministry's answers to
parliamentary questions (letterhead, subject, then "Vraag N" / "Antwoord op vraag N")."""

from pathlib import Path

LETTERHEAD = """> Retouradres Postbus 20011 2500 EH Den Haag

Aan de Voorzitter van de Tweede Kamer
der Staten-Generaal
Postbus 20018
2500 EA DEN HAAG

Datum {date}
Betreft {subject}

Hierbij bied ik u de antwoorden aan op de schriftelijke vragen van het lid {member} over {subject_lower}.

De Minister van Asiel en Migratie,

J. de Vries

"""

LETTERS = {
    "antwoorden-terugkeer.txt": dict(
        date="3 februari 2026", subject="Antwoorden Kamervragen over terugkeer naar Marokko",
        member="Jansen", subject_lower="terugkeer naar Marokko",
        qa=[
            ("Hoeveel vreemdelingen met een vertrekplicht zijn in 2025 daadwerkelijk naar Marokko vertrokken?",
             "In 2025 zijn 410 vreemdelingen aantoonbaar naar Marokko vertrokken, van wie 150 zelfstandig."),
            ("Welke afspraken maakt u met Marokko over het afgeven van laissez-passers?",
             "Het kabinet spreekt met de Marokkaanse autoriteiten over snellere afgifte van reisdocumenten."),
            ("Klopt het dat er ook gesproken wordt over de nieuwe sporthal in Rabat?",
             "Nee, daarover wordt niet gesproken."),
        ]),
    "antwoorden-grens.txt": dict(
        date="10 maart 2026", subject="Antwoorden Kamervragen over Frontex aan de buitengrens",
        member="Bakker", subject_lower="Frontex aan de buitengrens",
        qa=[
            ("Neemt Frontex deel aan pushbacks aan de Grieks-Turkse landgrens?",
             "Frontex ondersteunt de grensbewaking; de Commissie onderzoekt de meldingen over pushbacks."),
            ("Hoeveel mensen zijn in 2025 via herplaatsing vanuit Cyprus naar Nederland gekomen?",
             "In het kader van het solidariteitsmechanisme zijn 30 mensen herplaatst."),
        ]),
}


def letter_text(spec: dict) -> str:
    parts = [LETTERHEAD.format(**spec)]
    for n, (q, a) in enumerate(spec["qa"], 1):
        parts.append(f"Vraag {n}\n\n{q}\n\nAntwoord op vraag {n}\n\n{a}\n")
    return "\n".join(parts)


def write_letters(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, spec in LETTERS.items():
        p = directory / name
        p.write_text(letter_text(spec), encoding="utf-8")
        paths.append(p)
    return paths
