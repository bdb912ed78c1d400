"""PDF reading: a government-style letter with a right-hand letterhead column, generated here with
reportlab, must come back without letterhead text inside its sentences; broken PDFs give ReadError."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from classify.errors import ReadError
from classify.readers import read

pytest.importorskip("reportlab")

from reportlab.lib import pdfencrypt  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

# A fictitious letter, written for this test.
PARAGRAPHS = [
    ["Hierbij informeer ik uw Kamer over de voortgang van de maatregelen om de asielketen "
     "beter voorbereid te laten zijn op schommelingen in de instroom.",
     "In deze brief ga ik achtereenvolgens in op de opvangcapaciteit, de duur van de procedures "
     "en de terugkeer van vreemdelingen zonder verblijfsrecht.",
     "Ook beantwoord ik hiermee de toezegging die tijdens het commissiedebat van vorig najaar "
     "aan het lid Jansen is gedaan."],
    ["De bezetting van de opvanglocaties is in het afgelopen kwartaal licht gedaald.",
     "Gemeenten en provincies hebben samen ruim tweeduizend extra plaatsen gerealiseerd, "
     "vooral in kleinere locaties die beter aansluiten bij de behoefte in de regio.",
     "Het kabinet blijft met de medeoverheden in gesprek over een evenwichtige spreiding "
     "van deze plaatsen over het land."],
    ["De gemiddelde doorlooptijd van een eerste asielaanvraag bedraagt op dit moment ongeveer "
     "veertien maanden.",
     "Dat is te lang, zowel voor de aanvrager als voor de samenleving.",
     "Daarom worden extra beslismedewerkers opgeleid en wordt de voorbereiding van het gehoor "
     "eenvoudiger ingericht, zonder dat dit ten koste gaat van de zorgvuldigheid."],
    ["Vreemdelingen die geen recht hebben op verblijf moeten Nederland verlaten.",
     "Het aantal zelfstandige vertrekken is het afgelopen jaar toegenomen, mede dankzij "
     "de ondersteuning door maatschappelijke organisaties bij de voorbereiding van de terugreis.",
     "Met enkele landen van herkomst zijn nieuwe werkafspraken gemaakt over de afgifte "
     "van reisdocumenten.",
     "Waar vertrek niet lukt, onderzoeken wij per geval welke stappen nog mogelijk zijn."],
    ["Tot slot wil ik de inzet benadrukken van alle medewerkers in de keten, die onder "
     "moeilijke omstandigheden hun werk blijven doen.",
     "Ik zal uw Kamer voor het zomerreces opnieuw informeren over de stand van zaken.",
     "Daarbij zal ik ook de resultaten van de lopende evaluatie van de nieuwe werkwijze betrekken."],
    ["De staatssecretaris van Asiel en Migratie,"],
    ["mr. A.B. de Vries"],
]
SENTENCES = [s for para in PARAGRAPHS for s in para]

REFERENCE = "8123456"
COLUMN_FIRST = ["Directoraat-Generaal Migratie", "Directie Migratiebeleid", "",
                "Turfmarkt 123", "2511 AB Den Haag", "Postbus 20301", "2500 EH Den Haag",
                "www.rijksoverheid.nl/jenv", "", "Datum", "3 maart 2026", "",
                "Onze referentie", REFERENCE]
COLUMN_NEXT = ["Directoraat-Generaal Migratie", "Directie Migratiebeleid", "", "Datum",
               "3 maart 2026", "", "Onze referentie", REFERENCE]
# Words that occur only in the letterhead column and the footer, never in the body.
LETTERHEAD_WORDS = ["Directoraat", "Generaal", "Migratiebeleid", "Directie", "Turfmarkt", "Postbus",
                    "Haag", "rijksoverheid", "Datum", "maart", "referentie", REFERENCE, "Pagina"]

PAGE_W, PAGE_H = A4
BODY_X, BODY_W, BODY_TOP, BODY_BOTTOM, LEADING = 75, 330, 770, 500, 15
COLUMN_X = 467


def _wrap(sentence_text: str, font: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for word in sentence_text.split():
        trial = f"{line} {word}".strip()
        if line and stringWidth(trial, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line]


def make_letter(path: Path, footer: str = "column") -> int:
    """Write the letter; returns the number of pages. ``footer`` places "Pagina N van M"
    at the bottom of the letterhead column ("column") or under the body text ("body")."""
    body: list[str | None] = []  # None = paragraph break
    for para in PARAGRAPHS:
        body.extend(_wrap(" ".join(para), "Helvetica", 10, BODY_W))
        body.append(None)
    per_page = int((BODY_TOP - BODY_BOTTOM) / LEADING)
    pages = [body[i:i + per_page] for i in range(0, len(body), per_page)]
    c = canvas.Canvas(str(path), pagesize=A4)
    for number, lines in enumerate(pages, start=1):
        column = COLUMN_FIRST if number == 1 else COLUMN_NEXT
        c.setFont("Helvetica", 7.5)
        for i, text in enumerate(column):
            # the column's lines share baselines with body lines: naive extraction glues them
            c.drawString(COLUMN_X, BODY_TOP - i * LEADING, text)
        footer_x = COLUMN_X if footer == "column" else BODY_X
        c.drawString(footer_x, 40, f"Pagina {number} van {len(pages)}")
        c.setFont("Helvetica", 10)
        for i, text in enumerate(lines):
            if text:
                c.drawString(BODY_X, BODY_TOP - i * LEADING, text)
        c.showPage()
    c.save()
    return len(pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(params=["column", "body"])
def letter(request, tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "brief.pdf"
    return path, make_letter(path, footer=request.param)


def test_fixture_really_mixes_letterhead_into_naive_extraction(letter):
    """Guard: without layout handling, the letterhead lands inside body lines of this fixture."""
    import pdfplumber

    path, n_pages = letter
    assert 2 <= n_pages <= 3
    with pdfplumber.open(path) as pdf:
        naive = pdf.pages[0].extract_text()
    glued = [ln for ln in naive.splitlines()
             if "Directoraat-Generaal" in ln and "Kamer" in ln]
    assert glued, naive


def test_body_sentences_intact_and_letterhead_removed(letter):
    path, n_pages = letter
    doc = read(path)
    assert doc.format == "pdf" and doc.doc_id == "brief.pdf" and doc.path == str(path)
    assert doc.text == doc.raw_text
    flat = _flat(doc.text)
    for sentence in SENTENCES:
        assert sentence in flat, sentence
    for word in LETTERHEAD_WORDS:
        assert word not in doc.text, word
    assert not re.search(r"(?m)^\s*\d+\s*$", doc.text)
    # paragraphs are separated by a blank line
    for para in PARAGRAPHS[1:]:
        first_words = " ".join(para[0].split()[:3])
        assert re.search(r"(^|\n\n)" + re.escape(first_words), doc.text), first_words

    furniture = "\n".join(text for reason, text in doc.removed if reason == "furniture")
    assert {reason for reason, _ in doc.removed} == {"furniture"}
    for line in COLUMN_FIRST:
        assert line in furniture, line
    for number in range(1, n_pages + 1):
        assert f"Pagina {number} van {n_pages}" in furniture


def test_page_with_only_the_letterhead_uses_the_documents_gutter(tmp_path: Path):
    """A last page holding just the letterhead column (no body text to find a gutter against)
    is cut at the gutter found on the other pages, so the column does not become body text."""
    path = tmp_path / "kort.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    body = _wrap(" ".join(PARAGRAPHS[0]), "Helvetica", 10, BODY_W)
    for page in (1, 2):
        c.setFont("Helvetica", 7.5)
        for i, text in enumerate(COLUMN_NEXT):
            c.drawString(COLUMN_X, BODY_TOP - i * LEADING, text)
        if page == 1:
            c.setFont("Helvetica", 10)
            for i, text in enumerate(body):
                c.drawString(BODY_X, BODY_TOP - i * LEADING, text)
        c.showPage()
    c.save()
    doc = read(path)
    assert _flat(doc.text) == " ".join(PARAGRAPHS[0])
    assert sum("Onze referentie" in text for _, text in doc.removed) == 2


def test_plain_pdf_without_column_keeps_everything(tmp_path: Path):
    path = tmp_path / "plain.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    text = c.beginText(72, 760)
    text.setFont("Helvetica", 11)
    lines = [f"Regel {i}: de tekst loopt hier over de volle breedte van de pagina door tot aan de "
             "rechtermarge." for i in range(1, 30)]
    for line in lines:
        text.textLine(line)
    c.drawText(text)
    c.save()
    doc = read(path)
    assert doc.text.splitlines() == lines
    assert doc.removed == ()


def test_truncated_pdf(tmp_path: Path, letter):
    path, _ = letter
    data = path.read_bytes()
    broken = tmp_path / "kapot.pdf"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match=r"kapot\.pdf.*(truncated|corrupt)"):
        read(broken)


def test_truncated_pdf_with_end_marker(tmp_path: Path, letter):
    path, _ = letter
    data = path.read_bytes()
    broken = tmp_path / "kapot.pdf"
    broken.write_bytes(data[: len(data) // 2] + b"\n%%EOF\n")
    with pytest.raises(ReadError, match=r"kapot\.pdf.*(truncated|corrupt)"):
        read(broken)


def test_not_a_pdf(tmp_path: Path):
    path = tmp_path / "fout.pdf"
    path.write_text("<html><body>Niet gevonden</body></html>")
    with pytest.raises(ReadError, match=r"fout\.pdf: not a PDF"):
        read(path)


def test_pdf_without_text_layer(tmp_path: Path):
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.rect(72, 300, 400, 400, fill=1)
    c.showPage()
    c.rect(72, 300, 400, 400, fill=0)
    c.save()
    with pytest.raises(ReadError, match=r"scan\.pdf: no text layer \(scanned PDF\?\)"):
        read(path)


def test_password_protected_pdf(tmp_path: Path):
    path = tmp_path / "geheim.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, encrypt="secret")
    c.drawString(72, 700, "Vertrouwelijke tekst")
    c.save()
    with pytest.raises(ReadError, match=r"geheim\.pdf: .*password"):
        read(path)


def test_owner_password_only_pdf_is_readable(tmp_path: Path):
    """Encrypted with an empty user password (copy/print restrictions only): the text is readable."""
    path = tmp_path / "beperkt.pdf"
    encrypt = pdfencrypt.StandardEncryption("", ownerPassword="beheer")
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    c.drawString(72, 700, "Openbare tekst met beperkingen")
    c.save()
    assert read(path).text == "Openbare tekst met beperkingen"


def test_superscript_footnote_marker_stays_on_its_line(tmp_path: Path):
    path = tmp_path / "voetnoot.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "Zie het rapport van de inspectie")
    c.setFont("Helvetica", 6)
    c.drawString(72 + stringWidth("Zie het rapport van de inspectie", "Helvetica", 10), 704, "1")
    c.setFont("Helvetica", 10)
    c.drawString(72, 686, "over de opvang van alleenstaande minderjarigen.")
    c.save()
    assert read(path).text.splitlines() == [
        "Zie het rapport van de inspectie1", "over de opvang van alleenstaande minderjarigen."]


def test_ligature_glyphs_become_letters(tmp_path: Path):
    matplotlib = pytest.importorskip("matplotlib")  # only for its bundled DejaVu Sans font
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(font)))
    path = tmp_path / "ligatuur.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("DejaVuSans", 10)
    c.drawString(72, 700, "De e\ufb03ci\u00ebntie van het o\ufb03ci\u00eble \ufb01nanci\u00eble overzicht.")
    c.save()
    assert read(path).text == "De efficiëntie van het officiële financiële overzicht."
