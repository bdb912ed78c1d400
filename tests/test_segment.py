"""Segmentation on small documents written for these tests, one per layout, with the tricky cases."""

from __future__ import annotations

from classify.pipeline import process_text
from classify.segment import account, detect_layout, segment
from classify.types import Document

FURNITURE = """\
Directoraat-Generaal Migratie
Directie Migratiebeleid

Datum
3 maart 2026

Onze referentie
1234567
"""

KAMERVRAGEN = f"""\
Datum 3 maart 2026
Betreft Antwoorden Kamervragen over terugkeer en de solidariteitspool

Hierbij bied ik u de antwoorden aan op de vragen van het lid Voorbeeld.

De Minister van Asiel en Migratie,

A. Voorbeeld

Vragen van het lid Voorbeeld over terugkeer en de solidariteitspool.

Terugkeer

Vraag 1

Hoeveel vreemdelingen zijn in 2025 gedwongen teruggekeerd?

Antwoord op vraag 1

Ongeveer drieduizend vreemdelingen keerden gedwongen terug naar hun land van

{FURNITURE}
herkomst. Het kabinet wil dat aantal verhogen.

Vraag 2

¹ Kamerstukken II 2025-2026, 12345, nr. 6.

Graag ontvangen de leden een overzicht van de afspraken met landen van herkomst

Antwoord vraag 2

Het overzicht staat in de bijlage bij deze brief.

Solidariteitspool

Vraag 3

Hoeveel betaalt Nederland aan de solidariteitspool?

Vraag 4

Neemt Nederland ook asielzoekers over?

Antwoorden vragen op 3 en 4

Nederland levert een financiële bijdrage en neemt geen asielzoekers over.

Vraag 5

Welke landen doen mee?

Vraag 6

Wanneer valt het besluit?

Antwoord op vragen 5 en 6

Alle lidstaten doen mee; de Raad besluit in december.
"""


def _segs(text: str, doc_id: str = "brief.txt"):
    doc, segs = process_text(text, doc_id)
    return doc, segs


def _check_accounting(doc, segs):
    pieces = sorted([(s.start, s.end) for s in segs] + [(d.start, d.end) for d in doc.dropped])
    pos = 0
    for a, b in pieces:
        assert a == pos, (a, pos)
        pos = b
    assert pos == len(doc.text)


def test_kamervragen_layout_with_grouped_answers_and_furniture():
    doc, segs = _segs(KAMERVRAGEN)
    assert detect_layout(doc.text) == "vraag"
    assert [s.question_numbers for s in segs] == [(1,), (2,), (3, 4), (5, 6)]
    assert [s.index for s in segs] == [1, 2, 3, 4]
    assert all(s.kind == "qa" and s.doc_id == "brief.txt" and s.party is None for s in segs)
    s1, s2, s3, s4 = segs
    assert s1.question == "Hoeveel vreemdelingen zijn in 2025 gedwongen teruggekeerd?"
    # Page furniture in the middle of the sentence is gone and the sentence is whole again.
    assert s1.answer == ("Ongeveer drieduizend vreemdelingen keerden gedwongen terug naar hun land van\n"
                         "herkomst. Het kabinet wil dat aantal verhogen.")
    # A footnote between the question label and its text; a question without "?".
    assert s2.question == ("Graag ontvangen de leden een overzicht van de afspraken met landen van "
                           "herkomst")
    # Grouped answers: one segment, the second question (with its label) inside the question.
    assert s3.question.startswith("Hoeveel betaalt") and "Vraag 4" in s3.question
    assert s3.question.endswith("Neemt Nederland ook asielzoekers over?")
    assert s3.answer.startswith("Nederland levert")
    assert s4.answer == "Alle lidstaten doen mee; de Raad besluit in december."
    # Topic headings before a question label, not inside the previous answer.
    assert [s.heading for s in segs] == ["Terugkeer", "Terugkeer", "Solidariteitspool",
                                         "Solidariteitspool"]
    assert "Solidariteitspool" not in s2.answer
    for s in segs:
        assert doc.text[s.start:s.end].find(s.question[:20]) >= 0
        assert s.answer in doc.text[s.start:s.end]
    _check_accounting(doc, segs)
    reasons = {d.reason for d in doc.dropped}
    assert {"preamble", "signature", "heading"} <= reasons


CONSULTATION = """\
Verslag van een schriftelijk overleg

Vragen en opmerkingen van de leden van de VVD-fractie
Vragen en opmerkingen van de leden van de CDA-fractie

Vragen en opmerkingen van de leden van de VVD-fractie

De leden van de VVD-fractie hebben kennisgenomen van de agenda. Zij vragen de minister wanneer
het wetsvoorstel over terugkeer naar de Kamer komt.

Antwoord
Het wetsvoorstel wordt voor de zomer bij uw Kamer ingediend.

Deze leden lezen dat de solidariteitspool jaarlijks wordt vastgesteld. Hoeveel betaalt
Nederland in 2026?

Antwoord     
De bijdrage wordt in december vastgesteld. Het kabinet verwacht een bedrag van enkele
tientallen miljoenen euro.
Daarbij telt ook de inzet van personeel mee.
Grenstoezicht
De leden van de VVD-fractie vragen hoe lang de controles aan de binnengrenzen nog duren.

Antwoord 
Het kabinet heeft de controles verlengd tot juni 2026.

Vragen en opmerkingen van de leden van de CDA-fractie

Arbeidsmigratie

De leden van de CDA-fractie vragen welke maatregelen het kabinet neemt tegen de uitbuiting van
arbeidsmigranten.

Antwoord
De Arbeidsinspectie controleert vaker en de certificering van uitzendbureaus wordt verplicht.
"""


def test_consultation_layout_with_party_sections_and_headings():
    doc, segs = _segs(CONSULTATION)
    assert detect_layout(doc.text) == "consultation"
    assert len(segs) == 4
    assert [s.party for s in segs] == ["VVD", "VVD", "VVD", "CDA"]
    assert [s.heading for s in segs] == [None, None, "Grenstoezicht", "Arbeidsmigratie"]
    assert all(s.question_numbers == () for s in segs)
    assert segs[0].question.startswith("De leden van de VVD-fractie hebben kennisgenomen")
    assert segs[0].answer == "Het wetsvoorstel wordt voor de zomer bij uw Kamer ingediend."
    # The answer runs until the next question paragraph ...
    assert segs[1].question.startswith("Deze leden lezen")
    assert segs[1].answer.endswith("Daarbij telt ook de inzet van personeel mee.")
    # ... and a heading glued to the last answer line is not part of the answer.
    assert "Grenstoezicht" not in segs[1].answer
    # A question without "?" (a request of "de leden").
    assert segs[2].question == ("De leden van de VVD-fractie vragen hoe lang de controles aan de "
                                "binnengrenzen nog duren.")
    assert segs[2].answer == "Het kabinet heeft de controles verlengd tot juni 2026."
    assert segs[3].answer.startswith("De Arbeidsinspectie")
    _check_accounting(doc, segs)


NUMBERED = f"""\
Met deze brief beantwoord ik de vragen van de vaste commissie.

1. Vragen en opmerkingen vanuit de D66-fractie

De leden van de D66-fractie hebben kennisgenomen van het rapport.

Vraag 1:

Hoeveel vreemdelingen verblijven zonder verblijfsrecht in Nederland?

Antwoord:

Naar schatting tussen de twintig- en vijfendertigduizend.

Vraag 2:

Ook vragen deze leden of de strafbaarstelling van illegaal verblijf het aantal verlaagt?

De strafbaarstelling is niet tot stand gekomen.

2. Vragen en opmerkingen vanuit de JA21-fractie

Vraag 3:

Welke instrumenten worden overwogen om terugkeer te versnellen?

Antwoord:

Zie de beantwoording bij vraag 1.

Vraag 4:

Hoe wordt de samenwerking met landen van herkomst verbeterd?

Antwoord:

Het kabinet sluit terug- en overnameafspraken.

{FURNITURE}
Antwoord:

Daarnaast zet het kabinet visummaatregelen in.
"""


def test_numbered_consultation_answer_without_label_cross_reference_and_stray_label():
    doc, segs = _segs(NUMBERED)
    assert detect_layout(doc.text) == "vraag"
    assert [s.question_numbers for s in segs] == [(1,), (2,), (3,), (4,)]
    assert [s.party for s in segs] == ["D66", "D66", "JA21", "JA21"]
    # No "Antwoord:" label: the question paragraph first, the answer after it.
    assert segs[1].question.startswith("Ook vragen deze leden")
    assert segs[1].answer == "De strafbaarstelling is niet tot stand gekomen."
    assert "JA21" not in segs[1].answer  # the party header belongs to no answer
    assert segs[2].answer == "Zie de beantwoording bij vraag 1."
    # A second "Antwoord:" inside one answer (left by a page break) stays in that answer.
    assert segs[3].answer == ("Het kabinet sluit terug- en overnameafspraken.\n\n"
                              "Daarnaast zet het kabinet visummaatregelen in.")
    assert "Datum" not in segs[3].answer
    _check_accounting(doc, segs)
    intro = [d for d in doc.dropped if doc.text[d.start:d.end].startswith("De leden van de D66")]
    assert intro and intro[0].reason == "preamble"


LETTER = """\
Tweede Kamer der Staten-Generaal
Vergaderjaar 2025-2026

Aan de Voorzitter van de Tweede Kamer der Staten-Generaal

Den Haag, 10 februari 2026

Met deze brief informeer ik uw Kamer over de aanpak van terrorisme binnen de migratieketen en
over de maatregelen die sinds de vorige brief zijn genomen.

Maatregelen

Hieronder worden de maatregelen een voor een besproken.

1. Het versterken van de screening in de asielprocedure.

De IND screent asielzoekers uitgebreider op signalen van terrorisme.

2. Het verbeteren van de informatie-uitwisseling met andere lidstaten.

Nederland deelt meer gegevens via Europese systemen. Dat gebeurt binnen de wettelijke kaders.

Tot slot

Het kabinet blijft de procedures kritisch volgen.

De Minister van Justitie en Veiligheid,
B. Voorbeeld
"""


def test_letter_layout_one_segment_per_measure_and_section():
    doc, segs = _segs(LETTER)
    assert detect_layout(doc.text) == "letter"
    assert all(s.kind == "letter" for s in segs)
    assert [s.question_numbers for s in segs] == [(), (), (1,), (2,), ()]
    assert [s.heading for s in segs] == [None, "Maatregelen", "Maatregelen", "Maatregelen",
                                         "Tot slot"]
    assert segs[0].question == "" and segs[0].answer.startswith("Met deze brief")
    assert segs[2].question == "1. Het versterken van de screening in de asielprocedure."
    assert segs[2].answer.startswith("De IND screent")
    assert segs[4].answer == "Het kabinet blijft de procedures kritisch volgen."
    _check_accounting(doc, segs)
    sig = [d for d in doc.dropped if d.reason == "signature"]
    assert sig and "B. Voorbeeld" in doc.text[sig[0].start:sig[-1].end]


def test_segment_is_pure_and_account_adds_up_for_given_segments():
    doc, segs = _segs(KAMERVRAGEN)
    again = segment(doc)
    assert again == segs
    spans = account(doc, segs)
    assert tuple(spans) == doc.dropped
    assert all(sp.reason in {"furniture", "footnote", "preamble", "signature", "heading",
                             "navigation", "metadata", "whitespace", "other"} for sp in spans)


def test_account_without_segments_covers_everything():
    doc = Document(doc_id="x.txt", path="", text="Alleen een korte tekst.\n\nZonder vragen.")
    spans = account(doc, [])
    assert spans[0].start == 0 and spans[-1].end == len(doc.text)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))


def test_text_without_structure_gives_no_segments_or_one_letter_segment():
    doc, segs = _segs("kort")
    assert segs == [] and doc.dropped and doc.dropped[0].reason == "preamble"
    doc, segs = _segs("Dit is een brief zonder vragen, met alleen een lange alinea tekst over het "
                      "terugkeerbeleid van het kabinet.")
    assert len(segs) == 1 and segs[0].kind == "letter"


def test_label_variants_inline_and_short_answer_labels():
    text = ("Vraag 1: Kent u het bericht over de solidariteitspool?\n"
            "Antwoord: Ja, dat bericht ken ik.\n\n"
            "Vraag 2\n\nHoeveel arbeidsmigranten werken in de tuinbouw?\n\n"
            "Vraag 3\n\nEn in de vleesverwerking?\n\n"
            "Antwoord 2 en 3\n\nDaarover zijn geen recente cijfers.\n")
    doc, segs = _segs(text)
    assert [(s.question_numbers, s.question, s.answer) for s in segs] == [
        ((1,), "Kent u het bericht over de solidariteitspool?", "Ja, dat bericht ken ik."),
        ((2, 3), "Hoeveel arbeidsmigranten werken in de tuinbouw?\n\nVraag 3\n\n"
                 "En in de vleesverwerking?", "Daarover zijn geen recente cijfers."),
    ]
    _check_accounting(doc, segs)


def test_label_split_over_a_line_break_and_quoted_labels():
    text = ("Vraag 1:\n\nWat is de stand van zaken?\n\nAntwoord:\n\nZie de beantwoording bij "
            "vraag 2. Vraag\n\n2:\n\nEn de terugkeerhub?\n\nAntwoord:\n\nDie is in voorbereiding.\n")
    doc, segs = _segs(text)
    assert [s.question_numbers for s in segs] == [(1,), (2,)]
    assert segs[0].answer == "Zie de beantwoording bij vraag 2."
    assert segs[1].question == "En de terugkeerhub?"


def test_numbering_that_restarts_in_a_new_party_section():
    text = ("1. Vragen en opmerkingen vanuit de VVD-fractie\n\nVraag 1:\n\nHoeveel kost de pool?\n\n"
            "Antwoord:\n\nDat volgt in december.\n\nVraag 2:\n\nEn de grens?\n\nAntwoord:\n\n"
            "De controles gaan door.\n\n2. Vragen en opmerkingen vanuit de CDA-fractie\n\n"
            "Vraag 1:\n\nWat doet het kabinet tegen uitbuiting?\n\nAntwoord:\n\nMeer inspecties.\n")
    doc, segs = _segs(text)
    assert [(s.party, s.question_numbers) for s in segs] == [
        ("VVD", (1,)), ("VVD", (2,)), ("CDA", (1,))]
    assert segs[1].answer == "De controles gaan door."
