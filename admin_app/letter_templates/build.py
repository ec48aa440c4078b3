"""Builds the three letter templates of this folder from code, so their layout can be reviewed as code.

    .venv/bin/python admin_app/letter_templates/build.py            # rewrites the .docx files here
    .venv/bin/python admin_app/letter_templates/build.py --out DIR  # writes them elsewhere

The .docx files are ordinary Word documents with Jinja tags (docxtpl): `{{ nama }}` prints a
value, `{%p for ... %}` / `{%p endfor %}` on a paragraph of their own repeat the paragraphs
between them. admin_app/letters.py fills them. Staff may open and adjust the files in Word or
LibreOffice (wording, spacing, a logo); keep every tag whole and carry the change over to this
script, or the next run of it undoes the change (tests/test_letters.py compares the two).

Tags of every template:
  nomor, tanggal_surat, nomor_registrasi, jenis (KSB|PKS), jenis_panjang (Kesepakatan Bersama),
  judul (the case title), topik (the title without a leading KSB/PKS), objek, mitra (counterparty),
  opd, nomor_usulan, tanggal_usulan, tanggal_terima
undangan.docx and nota_dinas.docx add:
  hari, tanggal_rapat, pukul (HH.MM, WIB), tempat, acara, nama_penanda_tangan, jabatan_penanda_tangan;
  nota_dinas.docx: hadir (list of nama, jabatan, instansi), hasil_rapat (list of lines)
lembar_disposisi.docx adds:
  sifat, tahap, kepada, batas_waktu, instruksi (list of kotak, label), catatan, tanggal_disposisi,
  pengirim, jabatan_pengirim
"""
import argparse
import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"
SYMBOL_FONT = "Segoe UI Symbol"  # ☐ ☑ (Times New Roman has no ballot boxes); LibreOffice falls back to DejaVu
TEXT_WIDTH = 16.0  # cm: A4 (21 cm) less two 2.5 cm margins
FIXED_TIME = datetime(2026, 1, 1)  # core properties and zip entries: the same bytes on every run
INDENT = 1.25  # cm, first line of body paragraphs

# Paragraph property children that come after <w:pBdr> in the schema (Word rejects a wrong order).
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
               "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
               "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
               "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# ---------------------------------------------------------------- building blocks

def new_document(title: str):
    """An empty A4 portrait document, 2.5 cm margins, Times New Roman 12 pt, single spacing, Indonesian."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    section.header_distance = section.footer_distance = Cm(1.25)

    # Document defaults, so table text, new styles and pasted text start from the same font.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    fonts = OxmlElement("w:rFonts")
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    size, size_cs, lang = OxmlElement("w:sz"), OxmlElement("w:szCs"), OxmlElement("w:lang")
    size.set(qn("w:val"), "24")
    size_cs.set(qn("w:val"), "24")
    lang.set(qn("w:val"), "id-ID")
    lang.set(qn("w:eastAsia"), "id-ID")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.extend([fonts, size, size_cs, lang])
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0

    # python-docx's sample thumbnail would show in file browsers; a template has none.
    package = doc.part.package
    for r_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(r_id)

    props = doc.core_properties
    props.title = title
    props.subject = "Kerja sama daerah"
    props.author = "Bagian Pemerintahan Setda Kota Probolinggo"
    props.last_modified_by = "admin_app/letter_templates/build.py"
    props.comments = "Templat surat; dibuat oleh admin_app/letter_templates/build.py"
    props.keywords = "templat"
    props.language = "id-ID"
    props.revision = 1
    props.created = props.modified = FIXED_TIME
    return doc


def paragraph(container, text: str = "", *, bold=False, underline=False, size=None, align=None,
              before=0, after=0, first_line=None, left=None, keep_next=False, font=None):
    """A paragraph of one run at the end of a document or a table cell; `\\t` becomes a tab."""
    p = container.add_paragraph()
    if text:
        styled_run(p, text, bold=bold, underline=underline, size=size, font=font)
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if align is not None:
        fmt.alignment = align
    if first_line is not None:
        fmt.first_line_indent = Cm(first_line)
    if left is not None:
        fmt.left_indent = Cm(left)
    if keep_next:
        fmt.keep_with_next = True
    return p


def styled_run(p, text: str, *, bold=False, underline=False, size=None, font=None):
    run = p.add_run(text)
    run.bold = bold or None
    run.underline = underline or None
    if size:
        run.font.size = Pt(size)
    if font:
        run.font.name = font
        run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def cell_text(cell, text: str = "", **options):
    """Writes into the cell's first (empty) paragraph instead of adding a second one."""
    first = cell.paragraphs[0]
    if first.text or len(cell.paragraphs) > 1:
        return paragraph(cell, text, **options)
    p = paragraph(cell, text, **options)
    first._p.getparent().remove(first._p)
    return p


def bottom_border(p, kind: str = "single", size: int = 8) -> None:
    """A rule under the paragraph; `thickThinSmallGap` 24 is the double line under a letterhead."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", kind), ("w:sz", str(size)), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    p._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


def table(doc, widths: list[float], rows: int, grid: bool = False):
    """A fixed-width table (cm per column), borderless unless `grid`."""
    t = doc.add_table(rows=rows, cols=len(widths), style="Table Grid" if grid else None)
    t.autofit = False
    for index, width in enumerate(widths):
        t.columns[index].width = Cm(width)
        for cell in t.columns[index].cells:
            cell.width = Cm(width)
    return t


def labelled_rows(t, rows: list[tuple[str, str]], first_col: int = 0, bold_values: tuple[str, ...] = ()):
    """`label : value` lines in three columns of a borderless table."""
    for index, (label, value) in enumerate(rows):
        cells = t.rows[index].cells
        cell_text(cells[first_col], label)
        cell_text(cells[first_col + 1], ":")
        cell_text(cells[first_col + 2], value, bold=label in bold_values)


def letterhead(doc, with_section: bool) -> None:
    """Kop surat: the city, the secretariat (and the section), the address, a double rule."""
    paragraph(doc, "PEMERINTAH KOTA PROBOLINGGO", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(doc, "SEKRETARIAT DAERAH", bold=True, size=14 if with_section else 16,
              align=WD_ALIGN_PARAGRAPH.CENTER)
    if with_section:
        paragraph(doc, "BAGIAN PEMERINTAHAN", bold=True, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(doc, "Jl. Panglima Sudirman No. 19 Probolinggo 67211", align=WD_ALIGN_PARAGRAPH.CENTER)
    last = paragraph(doc, "Telp./Fax (0335) 421921", align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    bottom_border(last, "thickThinSmallGap", 24)


def signature(doc, title: str, name: str, dated: str | None = None, before: int = 18) -> None:
    """Centred in the right half of the page: place and date, title, room to sign, name."""
    options = {"align": WD_ALIGN_PARAGRAPH.CENTER, "left": TEXT_WIDTH / 2, "keep_next": True}
    if dated:
        paragraph(doc, dated, before=before, **options)
        before = 0
    paragraph(doc, title, before=before, **options)
    for _ in range(4):
        paragraph(doc, "", **options)
    paragraph(doc, name, bold=True, underline=True, align=WD_ALIGN_PARAGRAPH.CENTER, left=TEXT_WIDTH / 2)


def numbered(doc, number: str, text: str, level: int = 0, after: int = 0):
    """`1.<tab>text` with a hanging indent, justified; `level` 1 sits under a level-0 item."""
    hang = 0.75
    left = hang * (level + 1)
    p = paragraph(doc, f"{number}\t{text}" if number else text, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                  left=left, after=after)
    if number:
        p.paragraph_format.first_line_indent = Cm(-hang)
    p.paragraph_format.tab_stops.add_tab_stop(Cm(left), WD_TAB_ALIGNMENT.LEFT)
    return p


def control(doc, tag: str, left: float | None = None):
    """A paragraph holding only a `{%p ... %}` tag; docxtpl removes it when filling the template."""
    return paragraph(doc, "{%p " + tag + " %}", left=left)


# ---------------------------------------------------------------- the three templates

def invitation():
    doc = new_document("Surat Undangan Rapat Pembahasan")
    letterhead(doc, with_section=False)

    head = table(doc, [2.4, 0.4, 6.2, 7.0], rows=5)
    cell_text(head.cell(0, 3), "Probolinggo, {{ tanggal_surat }}")
    labelled_rows_at(head, 1, [("Nomor", "{{ nomor }}"), ("Sifat", "Penting"), ("Lampiran", "-"),
                               ("Perihal", "Undangan Rapat Pembahasan {{ jenis }} {{ topik }}")])
    to = head.cell(1, 3).merge(head.cell(4, 3))
    cell_text(to, "Kepada", before=12)
    cell_text(to, "Yth.\t1.\t{{ opd }}")
    cell_text(to, "\t2.\t{{ mitra }}")
    cell_text(to, "\t3.\tTim Koordinasi Kerja Sama Daerah (TKKSD) Kota Probolinggo")
    for p in to.paragraphs[1:]:
        p.paragraph_format.left_indent = Cm(1.6)
        p.paragraph_format.first_line_indent = Cm(-1.6)
        p.paragraph_format.tab_stops.add_tab_stop(Cm(1.0))
        p.paragraph_format.tab_stops.add_tab_stop(Cm(1.6))
    cell_text(to, "di –", before=6)
    cell_text(to, "TEMPAT", bold=True, underline=True, left=1.0)
    head.cell(4, 2).paragraphs[0].runs[0].bold = True

    body = {"align": WD_ALIGN_PARAGRAPH.JUSTIFY, "first_line": INDENT}
    paragraph(doc, "Dalam rangka pembahasan rancangan {{ jenis_panjang }} ({{ jenis }}) antara Pemerintah "
                   "Kota Probolinggo dengan {{ mitra }} tentang {{ topik }} (nomor registrasi "
                   "{{ nomor_registrasi }}), sebagaimana usulan {{ opd }} melalui surat Nomor "
                   "{{ nomor_usulan }} tanggal {{ tanggal_usulan }}, bersama ini kami mengundang "
                   "Saudara untuk hadir pada:", before=18, after=6, **body)
    when = table(doc, [INDENT + 0.2, 3.0, 0.4, TEXT_WIDTH - INDENT - 3.6], rows=4)
    labelled_rows(when, [("hari/tanggal", "{{ hari }}, {{ tanggal_rapat }}"),
                         ("pukul", "{{ pukul }} WIB s.d. selesai"), ("tempat", "{{ tempat }}"),
                         ("acara", "{{ acara }}")], first_col=1)
    paragraph(doc, "Mengingat pentingnya acara tersebut, dimohon kehadiran Saudara tepat pada waktunya.",
              before=6, **body)
    paragraph(doc, "Demikian atas perhatian dan kehadiran Saudara disampaikan terima kasih.", **body)
    signature(doc, "{{ jabatan_penanda_tangan }}", "{{ nama_penanda_tangan }}")
    return doc


def labelled_rows_at(t, start_row: int, rows: list[tuple[str, str]]) -> None:
    for offset, (label, value) in enumerate(rows):
        cells = t.rows[start_row + offset].cells
        cell_text(cells[0], label)
        cell_text(cells[1], ":")
        cell_text(cells[2], value)


def memo():
    doc = new_document("Nota Dinas Laporan Hasil Rapat")
    letterhead(doc, with_section=True)
    paragraph(doc, "NOTA DINAS", bold=True, underline=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)

    head = table(doc, [2.6, 0.4, TEXT_WIDTH - 3.0], rows=7)
    labelled_rows(head, [("Kepada", "Kepala Bagian Pemerintahan"), ("Dari", "Kepala Subbagian Kerja Sama"),
                         ("Tanggal", "{{ tanggal_surat }}"), ("Nomor", "{{ nomor }}"), ("Sifat", "Biasa"),
                         ("Lampiran", "-"),
                         ("Hal", "Laporan Hasil Rapat Pembahasan {{ jenis }} {{ topik }}")],
                  bold_values=("Hal",))
    bottom_border(paragraph(doc, "", after=12), "single", 12)

    paragraph(doc, "Dengan hormat, bersama ini kami laporkan hasil rapat pembahasan rancangan "
                   "{{ jenis_panjang }} ({{ jenis }}) antara Pemerintah Kota Probolinggo dengan {{ mitra }} "
                   "tentang {{ topik }} (nomor registrasi {{ nomor_registrasi }}) yang diusulkan oleh "
                   "{{ opd }} melalui surat Nomor {{ nomor_usulan }} tanggal {{ tanggal_usulan }}, "
                   "sebagai berikut:", align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=INDENT, after=6)
    numbered(doc, "1.", "Rapat dilaksanakan pada hari {{ hari }}, tanggal {{ tanggal_rapat }}, pukul "
                        "{{ pukul }} WIB, bertempat di {{ tempat }}, dengan acara {{ acara }}.", after=6)
    numbered(doc, "2.", "Rapat dihadiri oleh:")
    control(doc, "for orang in hadir", left=1.5)
    numbered(doc, "{{ loop.index }}.", "{{ orang.nama }}{% if orang.jabatan %}, {{ orang.jabatan }}{% endif %}"
                                       "{% if orang.instansi %}, {{ orang.instansi }}{% endif %}", level=1)
    control(doc, "endfor", left=1.5)
    control(doc, "if not hadir", left=1.5)
    numbered(doc, "", "(tidak ada peserta yang tercatat hadir)", level=1)
    control(doc, "endif", left=1.5)
    numbered(doc, "3.", "Hasil rapat:", after=0).paragraph_format.space_before = Pt(6)
    control(doc, "for baris in hasil_rapat", left=0.75)
    numbered(doc, "", "{{ baris }}")
    control(doc, "endfor", left=0.75)
    paragraph(doc, "Demikian laporan ini kami sampaikan untuk menjadi periksa dan mohon petunjuk lebih lanjut.",
              align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=INDENT, before=12)
    signature(doc, "{{ jabatan_penanda_tangan }}", "{{ nama_penanda_tangan }}")
    return doc


def disposition_sheet():
    """The layout of admin_app/templates/admin/disposition_sheet.html."""
    doc = new_document("Lembar Disposisi")
    letterhead(doc, with_section=True)
    paragraph(doc, "LEMBAR DISPOSISI", bold=True, underline=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER,
              after=12)

    grid = table(doc, [2.8, 5.2, 2.8, 5.2], rows=5, grid=True)
    rows = [("Surat dari", "{{ opd }}", "Diterima tgl.", "{{ tanggal_terima }}"),
            ("No. surat", "{{ nomor_usulan }}", "No. agenda", "{{ nomor_registrasi }}"),
            ("Tgl. surat", "{{ tanggal_usulan }}", "Sifat", "{{ sifat }}")]
    for index, values in enumerate(rows):
        for column, value in enumerate(values):
            cell_text(grid.cell(index, column), value, before=2, after=2)
    for index, (label, value) in enumerate([("Perihal", "{{ judul }} ({{ jenis }}) — {{ mitra }}"),
                                            ("Tahap", "{{ tahap }}")], start=3):
        cell_text(grid.cell(index, 0), label, before=2, after=2)
        cell_text(grid.cell(index, 1).merge(grid.cell(index, 3)), value, before=2, after=2)
    paragraph(doc, "")

    two = table(doc, [8.0, 8.0], rows=1, grid=True)
    two.rows[0].height, two.rows[0].height_rule = Cm(6.0), WD_ROW_HEIGHT_RULE.AT_LEAST
    left, right = two.cell(0, 0), two.cell(0, 1)
    cell_text(left, "Diteruskan kepada:", bold=True, before=2, after=4)
    cell_text(left, "{{ kepada }}", size=13, after=12)
    cell_text(left, "Batas waktu:", bold=True, after=4)
    cell_text(left, "{{ batas_waktu }}")
    cell_text(right, "Dengan hormat harap:", bold=True, before=2, after=4)
    control(right, "for i in instruksi")
    check = paragraph(right, "", after=3)
    styled_run(check, "{{ i.kotak }}", font=SYMBOL_FONT)
    styled_run(check, " {{ i.label }}")
    control(right, "endfor")
    for cell in (left, right):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    paragraph(doc, "")

    notes = table(doc, [TEXT_WIDTH], rows=1, grid=True)
    notes.rows[0].height, notes.rows[0].height_rule = Cm(3.5), WD_ROW_HEIGHT_RULE.AT_LEAST
    cell_text(notes.cell(0, 0), "Catatan:", bold=True, before=2, after=4)
    cell_text(notes.cell(0, 0), "{{ catatan }}")

    signature(doc, "{{ jabatan_pengirim }}", "{{ pengirim }}", dated="Probolinggo, {{ tanggal_disposisi }}")
    return doc


TEMPLATES = {"undangan.docx": invitation, "nota_dinas.docx": memo, "lembar_disposisi.docx": disposition_sheet}


# ---------------------------------------------------------------- output

def reproducible(data: bytes) -> bytes:
    """The same .docx with fixed zip timestamps, so an unchanged template gives unchanged bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def render(name: str) -> bytes:
    buffer = io.BytesIO()
    TEMPLATES[name]().save(buffer)
    return reproducible(buffer.getvalue())


def build(out_dir: Path = HERE) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TEMPLATES:
        path = out_dir / name
        path.write_bytes(render(name))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: this folder)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
