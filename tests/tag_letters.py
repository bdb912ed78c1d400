"""Letters for the tagging tests, written for these tests in the style of a government letter
answering written questions (``Vraag N`` / ``Antwoord op vraag N``). Not taken from any corpus.

Used by test_tagging.py, test_tag_resume.py and integration/test_tag_dask.py (pytest puts this
directory on ``sys.path`` because ``conftest.py`` lives here).
"""

from __future__ import annotations

import random
from pathlib import Path

QA_BANK = [
    ("Hoeveel vreemdelingen zonder verblijfsrecht zijn in 2025 daadwerkelijk uit Nederland vertrokken, "
     "en welk deel daarvan vertrok zelfstandig?",
     "In 2025 zijn ongeveer 12.000 vreemdelingen zonder verblijfsrecht aantoonbaar vertrokken. Iets meer "
     "dan de helft vertrok zelfstandig, met ondersteuning van de Dienst Terugkeer en Vertrek. De overige "
     "gevallen betroffen gedwongen vertrek, veelal na een periode van vreemdelingenbewaring."),
    ("Welke afspraken maakt u met landen van herkomst over de terugname van eigen onderdanen?",
     "Het kabinet zet in op terugkeersamenwerking met herkomstlanden, onder meer via de visumhefboom "
     "van de Europese Unie. Met enkele landen zijn werkafspraken gemaakt over laissez-passers en "
     "identificatiemissies, zodat uitgeprocedeerde vreemdelingen sneller kunnen terugkeren."),
    ("Hoe beoordeelt u het voorstel voor een nieuwe Europese terugkeerverordening?",
     "Het kabinet verwelkomt het voorstel. Een terugkeerbesluit dat in de hele Unie wordt erkend en een "
     "inreisverbod bij onvoldoende medewerking maken het terugkeerproces effectiever."),
    ("Welke bijdrage levert Nederland aan de solidariteitspool van het Migratiepact?",
     "Nederland kiest in de eerste cyclus voor een financiële bijdrage aan de solidariteitspool in "
     "plaats van herplaatsing van asielzoekers. De verrekening met Dublinoverdrachten wordt benut "
     "om de bijdrage te verlagen, omdat Nederland onder migratiedruk staat."),
    ("Deelt u de mening dat een eerlijke verdeelsleutel tussen lidstaten nodig is?",
     "Verantwoordelijkheidsdeling is een kernelement van het Pact. De verdeelsleutel op basis van "
     "bevolkingsomvang en economie zorgt ervoor dat elke lidstaat een fair share bijdraagt aan de "
     "jaarlijkse solidariteit."),
    ("Wat doet de regering om de buitengrenzen van de Unie beter te bewaken?",
     "Nederland draagt bij aan Frontex met personeel en materieel. Daarnaast wordt de grensprocedure "
     "ingevoerd, zodat aanvragen van personen met een lage inwilligingskans aan de buitengrens "
     "worden behandeld. Pushbacks zijn in strijd met het recht en worden niet aanvaard."),
    ("Hoe gaat u om met de instrumentalisering van migranten aan de grens met Belarus?",
     "Het kabinet veroordeelt de instrumentalisering van migranten. Nederland steunt de lidstaten aan "
     "de oostgrens bij grensbewaking en bij het tegengaan van smokkel van personen over de grens."),
    ("Worden de binnengrenscontroles na zes maanden verlengd?",
     "De binnengrenscontroles worden voorlopig voortgezet. Het kabinet evalueert de controles "
     "periodiek en meldt de verlenging tijdig aan de Europese Commissie, zoals de Schengengrenscode "
     "voorschrijft."),
    ("Hoeveel arbeidsmigranten werken in de land- en tuinbouw, en hoe is hun huisvesting geregeld?",
     "Naar schatting werken enkele tienduizenden arbeidsmigranten in de sector. Werkgevers en "
     "uitzendbureaus zijn verantwoordelijk voor fatsoenlijke huisvesting; de Arbeidsinspectie "
     "controleert op uitbuiting en op illegale tewerkstelling."),
    ("Wordt de regeling voor kennismigranten aangepast aan de nieuwe Europese blauwe kaart?",
     "Ja. De regeling voor kennismigranten wordt in lijn gebracht met de herziene richtlijn voor de "
     "blauwe kaart, zodat hooggekwalificeerde werknemers eenvoudiger een werkvergunning krijgen."),
    ("Welke signalen heeft de NCTV over misbruik van asielstromen door terroristen?",
     "Het Dreigingsbeeld Terrorisme Nederland noemt het risico dat jihadisten via asielstromen "
     "reizen. De IND screent asielzoekers op signalen van nationale veiligheid en deelt die met de "
     "AIVD; bij aanwijzingen volgt nader onderzoek."),
    ("Hoe worden teruggekeerde uitreizigers gevolgd?",
     "Teruggekeerde uitreizigers worden strafrechtelijk vervolgd en na hun detentie gevolgd in een "
     "persoonsgerichte aanpak van gemeente, politie en reclassering, gericht op het verminderen van "
     "de dreiging van gewelddadig extremisme."),
    ("Kunt u deze vragen afzonderlijk beantwoorden?",
     "Ja."),
]

SUBJECTS = [
    "Antwoorden Kamervragen over terugkeer en grensbewaking",
    "Antwoorden Kamervragen over het Migratiepact",
    "Antwoorden Kamervragen over arbeidsmigratie en veiligheid",
]


def letter_text(seed: int, n_questions: int | None = None) -> str:
    """A letter with 2–6 questions and answers drawn from the bank (deterministic per seed)."""
    rng = random.Random(seed)
    n = n_questions or rng.randint(2, 6)
    pairs = rng.sample(QA_BANK, n)
    day = 1 + seed % 28
    lines = [
        "Directoraat-Generaal Migratie",
        "Directie Migratiebeleid",
        "",
        f"Datum {day} maart 2026",
        f"Onze referentie {7_000_000 + seed}",
        "",
        f"Betreft {SUBJECTS[seed % len(SUBJECTS)]}",
        "",
        "Hierbij zend ik u de antwoorden op de schriftelijke vragen van het lid De Vries over "
        "het migratiebeleid.",
        "",
    ]
    for i, (q, a) in enumerate(pairs, 1):
        lines += [f"Vraag {i}", q, "", f"Antwoord op vraag {i}", a, ""]
    lines += ["De Minister van Asiel en Migratie,", "", "J. Jansen"]
    return "\n".join(lines) + "\n"


def write_txt(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_html(path: Path, text: str) -> Path:
    from html import escape

    paras = "".join(f"<p>{escape(p)}</p>\n" for p in text.split("\n") if p.strip())
    path.write_text(
        "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Brief</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/zoeken'>Zoeken</a></nav>"
        f"<main><article>{paras}</article></main><footer>Rijksoverheid</footer></body></html>",
        encoding="utf-8")
    return path


def write_docx(path: Path, text: str) -> Path:
    import docx

    d = docx.Document()
    for p in text.split("\n"):
        if p.strip():
            d.add_paragraph(p)
    d.save(str(path))
    return path


def write_pdf(path: Path, text: str, password: str | None = None) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    kw = {}
    if password:
        from reportlab.lib.pdfencrypt import StandardEncryption

        kw["encrypt"] = StandardEncryption(password, ownerPassword=password + "-owner", canPrint=0)
    style = getSampleStyleSheet()["BodyText"]
    flow = []
    for p in text.split("\n"):
        flow.append(Paragraph(p.replace("&", "&amp;").replace("<", "&lt;"), style) if p.strip() else Spacer(1, 6))
    SimpleDocTemplate(str(path), pagesize=A4, **kw).build(flow)
    return path


def write_scan_pdf(path: Path) -> Path:
    """A PDF page with only drawn shapes (as a scanned page has only an image): no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for i in range(40):
        c.rect(50, 60 + i * 18, 300 + (i * 37) % 200, 8, fill=1, stroke=0)
    c.showPage()
    c.save()
    return path


def make_corpus(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` good .txt letters named so that sorted order is creation order."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_txt(folder / f"brief-{i:05d}.txt", letter_text(seed * 100_000 + i)) for i in range(n)]
