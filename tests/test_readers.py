"""Readers: .txt encodings, HTML navigation stripping, DOCX body order, and the ReadError cases.
All fixtures are tiny documents written here (no corpus text)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from classify.errors import ClassifyError, ReadError
from classify.readers import SUPPORTED_SUFFIXES, read

LETTER = ("Vraag 1\n"
          "Bent u bekend met het bericht over de opvang in Ter Apel?\n"
          "\n"
          "Antwoord op vraag 1\n"
          "Ja. De Minister heeft daarover op 3 maart overleg gevoerd met het COA.\n")


def test_supported_suffixes():
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".html", ".htm", ".pdf", ".docx"}


# ------------------------------------------------------------------------------------ txt

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_txt_unicode_encodings(tmp_path: Path, encoding: str):
    text = "Hoe beoordeelt de regering de situatie van asielzoekers? Één vraag, geïnterpreteerd.\n"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # explicit BOM for the byte orders
        data = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "brief.txt"
    path.write_bytes(data)
    doc = read(path)
    assert doc.text == text
    assert doc.raw_text == doc.text
    assert doc.format == "txt" and doc.doc_id == "brief.txt" and doc.path == str(path)
    assert not doc.text.startswith("\ufeff")


def test_txt_cp1252_fallback(tmp_path: Path):
    text = "De cliënt verklaarde: ‘Ik ben één jaar in Nederland’ – café, reünie, €10.\r\n"
    path = tmp_path / "oud.txt"
    path.write_bytes(text.encode("cp1252"))
    doc = read(path)
    assert doc.text == text.replace("\r\n", "\n")
    assert "’" in doc.text and "ë" in doc.text and "é" in doc.text and "€" in doc.text


def test_txt_newlines_and_nfc(tmp_path: Path):
    decomposed = "Cliënt".replace("ë", "e\u0308")
    path = tmp_path / "mac.txt"
    path.write_bytes(f"regel een\r\nregel twee\rregel drie\n{decomposed}\n".encode())
    doc = read(path)
    assert doc.text == "regel een\nregel twee\nregel drie\nCliënt\n"
    assert "\r" not in doc.text


def test_txt_keeps_text_as_is(tmp_path: Path):
    """The reader extracts, it does not clean: blank lines and spacing survive."""
    path = tmp_path / "vragen.txt"
    path.write_text(LETTER, encoding="utf-8")
    assert read(path).text == LETTER


def test_binary_garbage(tmp_path: Path):
    path = tmp_path / "rommel.txt"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ReadError, match=r"rommel\.txt: binary data"):
        read(path)


def test_binary_without_nul_bytes(tmp_path: Path):
    path = tmp_path / "stuur.txt"
    path.write_bytes(b"\x01\x02\x03\x04\x05\x06\x07\x08abc\x0e\x0f\x10\x11" * 50)
    with pytest.raises(ReadError, match=r"stuur\.txt: binary data"):
        read(path)


def test_undecodable_bytes(tmp_path: Path):
    path = tmp_path / "vreemd.txt"
    path.write_bytes(b"tekst \x81\x8d\x8f\x90\x9d en meer")  # invalid UTF-8 and undefined in cp1252
    with pytest.raises(ReadError, match=r"vreemd\.txt: not text"):
        read(path)


def test_empty_file(tmp_path: Path):
    path = tmp_path / "leeg.txt"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match=r"leeg\.txt: empty file"):
        read(path)


def test_whitespace_only_file(tmp_path: Path):
    path = tmp_path / "wit.txt"
    path.write_text(" \n\n\t\n")
    with pytest.raises(ReadError, match=r"wit\.txt: no text"):
        read(path)


def test_missing_file(tmp_path: Path):
    path = tmp_path / "bestaat-niet.txt"
    with pytest.raises(ReadError, match=r"bestaat-niet\.txt: no such file"):
        read(path)


@pytest.mark.parametrize("name", ["map.txt", "map"])
def test_directory(tmp_path: Path, name: str):
    path = tmp_path / name
    path.mkdir()
    with pytest.raises(ReadError, match=rf"{name}: is a directory"):
        read(path)


def test_missing_file_with_unsupported_suffix(tmp_path: Path):
    with pytest.raises(ReadError, match=r"weg\.rtf: no such file"):
        read(tmp_path / "weg.rtf")


@pytest.mark.parametrize("name", ["brief.rtf", "brief.doc", "brief"])
def test_unsupported_suffix(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text("tekst")
    with pytest.raises(ReadError, match=rf"{name}: unsupported file type.*\.docx"):
        read(path)


def test_suffix_is_case_insensitive(tmp_path: Path):
    path = tmp_path / "BRIEF.TXT"
    path.write_text("Antwoord op vraag 2\nNee.\n", encoding="utf-8")
    assert read(path).format == "txt"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path: Path):
    path = tmp_path / "dicht.txt"
    path.write_text("tekst")
    path.chmod(0)
    with pytest.raises(ReadError, match=r"dicht\.txt: permission denied"):
        read(path)


def test_read_error_is_a_classify_error_with_one_line(tmp_path: Path):
    with pytest.raises(ClassifyError) as info:
        read(tmp_path / "weg.pdf")
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------------- html

PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Kamerbrief over terugkeer</title>
<style>body { font-family: sans-serif; }</style>
<script>var tracker = "menu openen";</script></head>
<body>
<a class="skiplink" href="#inhoud">Direct naar inhoud</a>
<header><div class="logo">Rijksportaal</div><p>Zoeken in documenten</p></header>
<div id="cookiebanner" class="cookie-melding"><p>Wij gebruiken cookies. Akkoord?</p></div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/dossiers">Dossiers</a></li></ul></nav>
<div class="broodkruimel"><a href="/">Home</a> &gt; <a href="/brieven">Brieven</a></div>
<ul role="navigation"><li>Vorige pagina</li><li>Volgende pagina</li></ul>
<main id="inhoud">
  <h1>Voortgang terugkeerbeleid</h1>
  <p>Geachte Voorzitter,</p>
  <p>Met deze brief informeer ik uw Kamer over de <em>voortgang</em> van het
     terugkeerbeleid.<sup>1</sup> De afspraken met de landen van herkomst
     worden uitgebreid.</p>
  <h2>1. Zelfstandig vertrek</h2>
  <p>Het aantal zelfstandige vertrekken is gestegen.</p>
  <ul><li>Eerste maatregel: betere voorlichting.</li><li>Tweede maatregel: snellere procedures.</li></ul>
  <table><tr><th>Jaar</th><th>Vertrek</th></tr><tr><td>2025</td><td>1200</td></tr></table>
  <p>Postbus 20011<br>2500 EH Den Haag</p>
  <aside>Lees ook: eerdere brieven</aside>
  <form><label>Nieuwsbrief</label><input type="text"></form>
  <div hidden>Verborgen tekst</div>
</main>
<footer><p>Over deze site | Contact | Privacy</p></footer>
<script>console.log("klaar")</script>
</body></html>
"""


def test_html_navigation_stripped_body_kept(tmp_path: Path):
    path = tmp_path / "kamerbrief.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = read(path)
    assert doc.format == "html" and doc.doc_id == "kamerbrief.html"
    for junk in ["Direct naar inhoud", "Rijksportaal", "Zoeken", "cookies", "Dossiers", "Home",
                 "Vorige pagina", "Lees ook", "Nieuwsbrief", "Verborgen", "Privacy", "tracker",
                 "font-family", "klaar", "Kamerbrief over terugkeer"]:
        assert junk not in doc.text, junk
    assert doc.text.split("\n\n") == [
        "Voortgang terugkeerbeleid",
        "Geachte Voorzitter,",
        "Met deze brief informeer ik uw Kamer over de voortgang van het terugkeerbeleid.1 "
        "De afspraken met de landen van herkomst worden uitgebreid.",
        "1. Zelfstandig vertrek",
        "Het aantal zelfstandige vertrekken is gestegen.",
        "Eerste maatregel: betere voorlichting.",
        "Tweede maatregel: snellere procedures.",
        "Jaar Vertrek",
        "2025 1200",
        "Postbus 20011\n2500 EH Den Haag",
    ]


def test_html_without_main_uses_body_and_drops_nav_by_class(tmp_path: Path):
    page = ("<html><body><div id=\"main-nav\"><a>Onderwerpen</a></div>"
            "<div class=\"breadcrumbs\">Home / Asiel</div>"
            "<div class=\"content\"><h2>Vraag 3</h2><p>Klopt het dat de wachttijd is opgelopen?</p>"
            "<h2>Antwoord op vraag 3</h2><p>Ja.</p><pre>Tabel\n  a  b</pre></div>"
            "</body></html>")
    path = tmp_path / "vragen.htm"
    path.write_text(page, encoding="utf-8")
    doc = read(path)
    assert doc.format == "html"
    assert doc.text == ("Vraag 3\n\nKlopt het dat de wachttijd is opgelopen?\n\n"
                        "Antwoord op vraag 3\n\nJa.\n\nTabel\na b")


def test_html_navigation_words_on_wrappers_do_not_drop_the_content(tmp_path: Path):
    """Class names such as ``menu-open`` on a page wrapper, and an article's own <header>,
    must not take the letter with them."""
    body = "".join(f"<p>Alinea {i} van de brief over de uitvoering van de motie.</p>" for i in range(40))
    page = (f'<html><body class="menu-open"><div class="page has-nav"><nav>Home</nav>'
            f'<article><header><h1>Brief van de staatssecretaris</h1></header>{body}</article>'
            f'</div><div class="page-nav">Vorige | Volgende</div></body></html>')
    path = tmp_path / "wrapper.html"
    path.write_text(page, encoding="utf-8")
    blocks = read(path).text.split("\n\n")
    assert blocks[0] == "Brief van de staatssecretaris"
    assert blocks[1:] == [f"Alinea {i} van de brief over de uitvoering van de motie." for i in range(40)]


def test_html_legacy_encoding_declared_in_meta(tmp_path: Path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
            '</head><body><p>De cliënt en zijn café – ‘privé’.</p></body></html>')
    path = tmp_path / "oud.html"
    path.write_bytes(page.encode("cp1252"))
    assert read(path).text == "De cliënt en zijn café – ‘privé’."


def test_html_without_text(tmp_path: Path):
    path = tmp_path / "leeg.html"
    path.write_text("<html><body><nav>Home</nav><script>x()</script></body></html>")
    with pytest.raises(ReadError, match=r"leeg\.html: no text"):
        read(path)


def test_html_binary(tmp_path: Path):
    path = tmp_path / "plaatje.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    with pytest.raises(ReadError, match=r"plaatje\.html: binary data"):
        read(path)


# ----------------------------------------------------------------------------------- docx

def _docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Directoraat-Generaal Migratie (koptekst)"
    document.sections[0].footer.paragraphs[0].text = "Pagina 1 van 1 (voettekst)"
    document.add_heading("Antwoorden op schriftelijke vragen", level=1)
    document.add_paragraph("Vraag 1")
    document.add_paragraph("Hoeveel mensen wachten op een beslissing?")
    document.add_paragraph("")  # empty paragraphs do not become blank blocks
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Antwoord op vraag 1"
    table.cell(0, 1).text = "Ongeveer twintigduizend."
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "Bron: eigen registratie"
    document.add_paragraph("Vraag 2")
    document.add_paragraph("Wanneer ontvangt de Kamer de evaluatie?")
    document.save(str(path))


def test_docx_body_order_without_header_footer(tmp_path: Path):
    path = tmp_path / "antwoorden.docx"
    _docx(path)
    doc = read(path)
    assert doc.format == "docx" and doc.doc_id == "antwoorden.docx"
    assert doc.text.split("\n\n") == [
        "Antwoorden op schriftelijke vragen",
        "Vraag 1",
        "Hoeveel mensen wachten op een beslissing?",
        "Antwoord op vraag 1",
        "Ongeveer twintigduizend.",
        "Bron: eigen registratie",
        "Vraag 2",
        "Wanneer ontvangt de Kamer de evaluatie?",
    ]
    assert "koptekst" not in doc.text and "voettekst" not in doc.text


def test_docx_truncated(tmp_path: Path):
    path = tmp_path / "antwoorden.docx"
    _docx(path)
    data = path.read_bytes()
    broken = tmp_path / "half.docx"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match=r"half\.docx: truncated or corrupt DOCX"):
        read(broken)


def test_docx_that_is_another_zip(tmp_path: Path):
    import zipfile

    path = tmp_path / "archief.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notities.txt", "geen Word-document")
    with pytest.raises(ReadError, match=r"archief\.docx: truncated or corrupt DOCX"):
        read(path)


def test_docx_tracked_insertions_and_content_controls(tmp_path: Path):
    """Text inside a tracked insertion or a content control is body text; deleted text is not."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    document.add_paragraph("Eerste alinea.")
    inserted = document.add_paragraph("Dit is ")
    inserted._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="1" w:author="A" w:date="2026-03-03T00:00:00Z">'
        '<w:r><w:t xml:space="preserve">nieuw toegevoegde </w:t></w:r></w:ins>'))
    inserted._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="2" w:author="A" w:date="2026-03-03T00:00:00Z">'
        '<w:r><w:delText>geschrapte </w:delText></w:r></w:del>'))
    inserted.add_run("tekst.")
    document.element.body.insert(len(document.element.body) - 1, parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>Tekst in een invulveld.</w:t>'
        '</w:r></w:p></w:sdtContent></w:sdt>'))
    path = tmp_path / "wijzigingen.docx"
    document.save(str(path))
    assert read(path).text.split("\n\n") == [
        "Eerste alinea.", "Dit is nieuw toegevoegde tekst.", "Tekst in een invulveld."]
