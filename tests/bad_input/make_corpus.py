"""Makes the binary files of the bad-input corpus (spreadsheets/, data/*.sav|.zsav|.ods|.xls).

The text files of the corpus are written by hand; this script documents how the binary ones
were made, each from a good file with one thing broken. Run it from the repository root:

    pip install msoffcrypto-tool   # only for encrypted.xlsx
    python3 tests/bad_input/make_corpus.py

The tests do not need Python. encrypted.xlsx differs on every run (its salt is random).
"""

import io
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
SHEETS = HERE / "spreadsheets"
DATA = HERE / "data"
FUZZED = HERE.parent / "fuzz_regressions"

GOOD = [["y", "w", "g"], [1, 2, "a"], [2, 2, "b"], [3, 2, "a"], [4, 2, "b"]]


def cell(ref, v):
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    if isinstance(v, tuple):  # ("e", "#DIV/0!"): a formula error value
        return f'<c r="{ref}" t="e"><v>{v[1]}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'


def xlsx(rows, extra_rows=""):
    """A minimal one-sheet workbook (sheet `Data`) with inline strings and numbers."""
    body = "".join(
        f'<row r="{i}">' + "".join(cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row)) + "</row>"
        for i, row in enumerate(rows, 1)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}{extra_rows}</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return buf.getvalue()


def claim_size(data, entry, size):
    """Rewrites the uncompressed size of `entry` in its local and central headers."""
    b = bytearray(data)
    for sig, name_len_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        i = b.find(sig)
        while i >= 0:
            n = struct.unpack_from("<H", b, i + name_len_at)[0]
            if bytes(b[i + name_at : i + name_at + n]) == entry:
                struct.pack_into("<I", b, i + size_at, size)
            i = b.find(sig, i + 4)
    return bytes(b)


def far_value_ods(fixture):
    """The fixture with one value a million rows below its data, in 60th column (BH): two
    repeated rows make it a 2 KB file that calamine would expand to 60 million cells."""
    src = zipfile.ZipFile(fixture)
    content = src.read("content.xml").decode()
    far = (
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="59"/>'
        '<table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p>'
        "</table:table-cell></table:table-row>"
    )
    at = content.index("</table:table>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "content.xml":
                data = (content[:at] + far + content[at:]).encode()
            z.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()


def cut_inside_sheet_ods(fixture):
    """The fixture with `content.xml` cut just before its first sheet ends (calamine waited
    for the end of the sheet for ever)."""
    src = zipfile.ZipFile(fixture)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "content.xml":
                data = data[: data.index(b"</table:table>")]
            z.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()


def main():
    SHEETS.mkdir(exist_ok=True)
    good = xlsx(GOOD)
    (SHEETS / "good.xlsx").write_bytes(good)
    (SHEETS / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    # Bytes 00..FF four times: what a broken download or a renamed binary file looks like.
    (SHEETS / "random-bytes.xlsx").write_bytes(bytes(range(256)) * 4)
    # The sheet's entry claims 4 GB uncompressed; the data are the good file's.
    (SHEETS / "huge-entry.xlsx").write_bytes(claim_size(good, b"xl/worksheets/sheet1.xml", 0xFFFFFFF0))
    # One cell at the last column and row: a used range of 16384 x 1048576 cells.
    (SHEETS / "far-cell.xlsx").write_bytes(
        xlsx(GOOD, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    )
    (SHEETS / "error-cell.xlsx").write_bytes(xlsx([["y", "w"], [1, 2], [("e", "#DIV/0!"), 2], [3, 2]]))
    (SHEETS / "duplicate-header.xlsx").write_bytes(xlsx([["y", "w", "y"], [1, 2, 3], [2, 2, 3]]))
    try:
        from msoffcrypto.format.ooxml import OOXMLFile

        out = io.BytesIO()
        OOXMLFile(io.BytesIO(good)).encrypt("tasa", out)  # password: tasa
        (SHEETS / "encrypted.xlsx").write_bytes(out.getvalue())
    except ImportError:
        print("msoffcrypto-tool is not installed; encrypted.xlsx left as it is")

    sav = (FIXTURES / "responses.sav").read_bytes()
    (DATA / "truncated.sav").write_bytes(sav[:3000])
    lie = bytearray(sav)
    struct.pack_into("<i", lie, 80, 0x7FFFFFFF)  # the header's case count
    (DATA / "cases-lie.sav").write_bytes(bytes(lie))
    lie = bytearray(sav)
    # The first value-label record (type 3) of the fixture: its label count.
    at = next(
        off
        for off in range(176, len(sav) - 8, 4)
        if struct.unpack_from("<ii", sav, off) == (3, 6)
    )
    struct.pack_into("<i", lie, at + 4, 0x7FFFFFFF)
    (DATA / "labels-lie.sav").write_bytes(bytes(lie))
    (DATA / "truncated.zsav").write_bytes((FIXTURES / "responses.zsav").read_bytes()[:2600])
    (DATA / "truncated.ods").write_bytes((FIXTURES / "responses.ods").read_bytes()[:1000])
    (DATA / "far-value.ods").write_bytes(far_value_ods(FIXTURES / "responses.ods"))
    (DATA / "cut-inside-sheet.ods").write_bytes(cut_inside_sheet_ods(FIXTURES / "responses.ods"))
    (DATA / "truncated.xls").write_bytes((FIXTURES / "responses.xls").read_bytes()[:2000])
    # An empty EXTERNSHEET record, whose count calamine reads without checking the length: the
    # fuzzed file's empty FILEPASS record (at byte 544, stored whole in the file) retyped.
    xls = bytearray((FUZZED / "read_workbook" / "xls-empty-filepass.xls").read_bytes())
    assert xls[544:548] == b"\x2f\x00\x00\x00"
    xls[544] = 0x17
    (DATA / "empty-externsheet.xls").write_bytes(bytes(xls))


if __name__ == "__main__":
    main()
