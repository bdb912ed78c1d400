"""Cleaning on small letters written for these tests (in the style of real ones)."""

from __future__ import annotations

from classify.clean import clean, clean_text, parse_dutch_date
from classify.types import Document

LETTERHEAD = """\
> Retouradres Postbus 20011 2500 EH Den Haag

Aan de Voorzitter van de Tweede Kamer
der Staten-Generaal
Postbus 20018
2500 EA DEN HAAG

Directoraat-Generaal Migratie

Directie Migratiebeleid
Terugkeer en Grenzen

Turfmarkt 147
2511 DP Den Haag
www.rijksoverheid.nl/jenv

Datum 3 maart 2026
Betreft Antwoorden Kamervragen over terugkeer en
grenstoezicht aan de binnengrenzen

Onze referentie

1234567

Hierbij bied ik u de antwoorden aan op de vragen van het lid Voorbeeld.
"""

PAGE_BREAK = """\
Het kabinet zet in op meer gedwongen terugkeer van vreemdelingen zonder
verblijfsrecht en maakt daarover afspraken met de landen van

Directoraat-Generaal Migratie
Directie Migratiebeleid
Terugkeer en Grenzen

Datum
3 maart 2026

Onze referentie
1234567

herkomst. Die afspraken gaan over reisdocumenten.
"""


def test_letterhead_is_removed_and_metadata_extracted():
    r = clean_text(LETTERHEAD)
    assert r.text == "Hierbij bied ik u de antwoorden aan op de vragen van het lid Voorbeeld."
    assert r.title == "Antwoorden Kamervragen over terugkeer en grenstoezicht aan de binnengrenzen"
    assert r.date == "2026-03-03"
    assert r.reference == "1234567"
    reasons = {reason for reason, _ in r.removed}
    assert {"furniture", "metadata"} <= reasons
    removed_text = "\n".join(t for _, t in r.removed)
    for piece in ("Retouradres", "Directoraat-Generaal Migratie", "Terugkeer en Grenzen",
                  "2511 DP Den Haag", "Datum 3 maart 2026", "1234567"):
        assert piece in removed_text


def test_page_furniture_inside_a_sentence_is_removed_and_the_sentence_rejoined():
    r = clean_text(PAGE_BREAK)
    assert "Directoraat" not in r.text and "Datum" not in r.text and "1234567" not in r.text
    # One paragraph again: the furniture had split "landen van | herkomst".
    assert "\n\n" not in r.text
    assert "landen van\nherkomst. Die afspraken" in r.text


def test_plain_numbered_footnotes_across_a_page_break_are_removed():
    text = (
        "De Commissie heeft een voorstel gedaan voor een Terugkeerverordening,1 die de huidige\n"
        "richtlijn vervangt. Het kabinet steunt de inzet op snellere procedures en een kortere terugkeer-\n"
        "1 Richtlijn 2008/115/EG van het Europees Parlement en de Raad van 16 december 2008 over\n"
        "gemeenschappelijke normen en procedures voor de terugkeer.\n"
        "2 Kamerstukken II 2025-2026, 32 317, nr. 973.\n"
        " procedure voor afgewezen asielzoekers.\n")
    r = clean_text(text)
    assert "Richtlijn 2008/115/EG" not in r.text and "Kamerstukken" not in r.text
    assert "een kortere terugkeerprocedure voor afgewezen asielzoekers." in r.text
    footnotes = [t for reason, t in r.removed if reason == "footnote"]
    assert len(footnotes) == 1 and footnotes[0].count("\n") == 2  # both footnotes, one continuation


def test_a_number_at_line_start_that_is_not_the_next_footnote_stays():
    text = ("Het kabinet heeft de opvang uitgebreid tussen\n"
            "2022 en 2024 in verband met de hoge instroom.\n")
    r = clean_text(text)
    assert r.text == text.strip()
    assert not r.removed


def test_superscript_and_parenthesised_footnotes_are_removed():
    text = ("Vraag 1\n\nKent u het bericht over de terugkeerhub? 1)\n\n"
            "Antwoord op vraag 1\n\nJa.¹\n\n"
            "¹ Kamerstukken II 2024-2025, 29754, nr. 716.\n\n"
            "1) NOS, 3 februari 2026, (<https://nos.nl/artikel/123>)\n")
    r = clean_text(text)
    assert r.text.endswith("Ja.¹")
    assert "Kamerstukken" not in r.text and "nos.nl" not in r.text
    assert [reason for reason, _ in r.removed] == ["footnote"]


def test_line_end_hyphens():
    text = ("De grens tussen Wit-\nRusland en Polen, het asiel-\nen migratiebeleid, de EU-\n"
            "lidstaten, de terugkeer-\nprocedure en het beginsel van non-\nrefoulement; elders\n"
            "staat non-refoulement op één regel.\n")
    r = clean_text(text)
    assert "Wit-Rusland" in r.text
    assert "asiel- en migratiebeleid" in r.text
    assert "EU-lidstaten" in r.text
    assert "terugkeerprocedure" in r.text  # a word split by hyphenation is joined
    assert "non-refoulement;" in r.text  # the document writes it hyphenated elsewhere
    assert ("hyphenation", "terugkeer-\nprocedure") in r.removed


def test_web_navigation_and_metadata_lines():
    text = ("[overzicht] [activiteiten] [besluiten] [kamerleden]\n\n"
            "Voortgang aanpak arbeidsmigratie\n\n"
            "Nummer: 2025D12345, datum: 2025-05-06, bijgewerkt: 2025-05-07 10:00, versie: 2\n\n"
            "Directe link naar document (.pdf), officiële HTML versie (kst-29861-123).\n\n"
            "Onderdeel van kamerstukdossier 29861 -123 Arbeidsmigratie.\n\n"
            "Hierbij informeer ik uw Kamer over de aanpak van misstanden bij arbeidsmigratie.\n")
    r = clean_text(text)
    assert r.text == ("Voortgang aanpak arbeidsmigratie\n\n"
                      "Hierbij informeer ik uw Kamer over de aanpak van misstanden bij arbeidsmigratie.")
    assert r.title == "Voortgang aanpak arbeidsmigratie"
    assert r.date == "2025-05-06"
    assert r.reference == "29861-123"
    assert {"navigation", "metadata"} == {reason for reason, _ in r.removed}


def test_page_numbers_and_repeated_running_headers():
    header = "Tweede Kamer, vergaderjaar 2025-2026, 32 317, nr. 990"
    body = ["Eerste alinea over de solidariteitspool.", "Tweede alinea over de grens.",
            "Derde alinea over terugkeer.", "Vierde alinea over terrorisme."]
    text = "\n\n".join(f"{header}\n\n{para}\n\n{i + 1}" for i, para in enumerate(body))
    r = clean_text(text)
    assert r.text == "\n\n".join(body)


def test_clean_keeps_reader_metadata_and_extends_removed():
    doc = Document(doc_id="x.pdf", path="x.pdf", text=LETTERHEAD, raw_text=LETTERHEAD,
                   format="pdf", title="Titel van de lezer", removed=(("furniture", "Pagina 1"),))
    out = clean(doc)
    assert out.title == "Titel van de lezer"
    assert out.removed[0] == ("furniture", "Pagina 1") and len(out.removed) > 1
    assert out.raw_text == LETTERHEAD and out.text.startswith("Hierbij")


def test_parse_dutch_date():
    assert parse_dutch_date("Den Haag, 18 juni 2024") == "2024-06-18"
    assert parse_dutch_date("geen datum") is None


def test_empty_and_whitespace_text():
    assert clean_text("").text == ""
    assert clean_text(" \n\n \t\n").text == ""
