#!/usr/bin/env python3
"""Prints the cells of an .xlsx file's first sheet as JSON, read from its XML
with the standard library only: a list of rows, each a list of cells
{"ref", "type", "value", "formula"}, where type is "text", "number", "date"
(a number whose format shows a date; value then is "YYYY-MM-DD HH:MM:SS.mmm"),
"bool" or "error". Used by tests/spreadsheet.rs."""

import datetime
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
# Built-in number formats that show a date or a time (ECMA-376, 18.8.30).
BUILTIN_DATES = set(range(14, 23)) | set(range(45, 48))


def text_of(node):
    return "".join(part.text or "" for part in node.iter("{%s}t" % NS["m"]))


def main(path):
    book = zipfile.ZipFile(path)
    names = book.namelist()
    shared = []
    if "xl/sharedStrings.xml" in names:
        root = ET.fromstring(book.read("xl/sharedStrings.xml"))
        shared = [text_of(item) for item in root.findall("m:si", NS)]
    styles = ET.fromstring(book.read("xl/styles.xml"))
    codes = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.findall("m:numFmts/m:numFmt", NS)}
    formats = [int(xf.get("numFmtId", "0")) for xf in styles.findall("m:cellXfs/m:xf", NS)]

    def is_date(style):
        fmt = formats[style] if style < len(formats) else 0
        if fmt in BUILTIN_DATES:
            return True
        # A custom format shows a date when it has y, d or h outside quotes
        # and escapes ("General", "0.00E+00" have none).
        code = re.sub(r'"[^"]*"|\\.|\[[^]]*\]', "", codes.get(fmt, ""))
        return any(letter in code.lower() for letter in "ydh")

    sheet = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.findall("m:sheetData/m:row", NS):
        cells = []
        for cell in row.findall("m:c", NS):
            kind = cell.get("t", "n")
            value = cell.find("m:v", NS)
            value = value.text if value is not None else None
            formula = cell.find("m:f", NS) is not None
            if kind == "s":
                kind, value = "text", shared[int(value)]
            elif kind == "inlineStr":
                kind, value = "text", text_of(cell)
            elif kind == "str":
                kind = "text"
            elif kind == "n":
                if value is None:
                    continue
                if is_date(int(cell.get("s", "0"))):
                    moment = datetime.datetime(1899, 12, 30) + datetime.timedelta(milliseconds=round(float(value) * 86_400_000))
                    kind, value = "date", moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
                else:
                    kind = "number"
            elif kind == "b":
                kind = "bool"
            elif kind == "e":
                kind = "error"
            cells.append({"ref": cell.get("r"), "type": kind, "value": value, "formula": formula})
        rows.append(cells)
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
