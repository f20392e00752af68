"""An .xlsx package: read parts, replace or add some, write a new zip with the rest unchanged."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_CALCCHAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# No entity expansion, no network: a hostile part cannot blow up or reach out.
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False
)


def q(tag: str, ns: str = NS_MAIN) -> str:
    return f"{{{ns}}}{tag}"


class PackageError(Exception):
    """The package cannot be patched safely; the message says why (in Chinese)."""


class Package:
    """Parts of one .xlsx, some of them changed. Nothing touches the file until `write`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path)
        self._infos = {info.filename: info for info in self._zip.infolist()}
        self._order = [info.filename for info in self._zip.infolist()]
        self._changed: dict[str, bytes] = {}
        self._trees: dict[str, etree._Element] = {}
        self._removed: set[str] = set()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ parts

    def has(self, name: str) -> bool:
        return (name in self._infos or name in self._changed) and name not in self._removed

    def read(self, name: str) -> bytes:
        if name in self._changed:
            return self._changed[name]
        return self._zip.read(name)

    def xml(self, name: str) -> etree._Element:
        """The parsed part; edits to the tree are written back by `write`."""
        if name not in self._trees:
            self._trees[name] = etree.fromstring(self.read(name), PARSER)
        return self._trees[name]

    def put(self, name: str, data: bytes) -> None:
        self._trees.pop(name, None)
        self._changed[name] = data
        self._removed.discard(name)

    def remove(self, name: str) -> None:
        self._trees.pop(name, None)
        self._changed.pop(name, None)
        self._removed.add(name)

    @property
    def changed_parts(self) -> set[str]:
        return set(self._changed) | set(self._trees) | self._removed

    # ------------------------------------------------------------------ workbook structure

    def workbook_rels(self) -> etree._Element:
        return self.xml("xl/_rels/workbook.xml.rels")

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> part name (xl/worksheets/sheetN.xml), worksheets only."""
        rels = {rel.get("Id"): rel for rel in self.workbook_rels().iter(q("Relationship", NS_REL))}
        out: dict[str, str] = {}
        for sheet in self.xml("xl/workbook.xml").iter(q("sheet")):
            rel = rels.get(sheet.get(q("id", NS_R)))
            if rel is None or rel.get("Type") != REL_WORKSHEET:
                continue
            out[sheet.get("name", "")] = _resolve("xl/workbook.xml", rel.get("Target", ""))
        return out

    def add_sheet(self, name: str, data: bytes) -> str:
        """Add a worksheet part at the end of the workbook; return its part name."""
        existing = {n for n in self._order if n.startswith("xl/worksheets/")} | set(self._changed)
        number = 1
        while f"xl/worksheets/sheet{number}.xml" in existing:
            number += 1
        part = f"xl/worksheets/sheet{number}.xml"
        self.put(part, data)
        rels = self.workbook_rels()
        ids = {rel.get("Id") for rel in rels}
        rid = next(f"rId{i}" for i in range(1, len(ids) + 2) if f"rId{i}" not in ids)
        rel = etree.SubElement(rels, q("Relationship", NS_REL))
        rel.set("Id", rid)
        rel.set("Type", REL_WORKSHEET)
        rel.set("Target", f"worksheets/sheet{number}.xml")
        workbook = self.xml("xl/workbook.xml")
        sheets = workbook.find(q("sheets"))
        assert sheets is not None
        sheet_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
        element = etree.SubElement(sheets, q("sheet"))
        element.set("name", name)
        element.set("sheetId", str(sheet_id))
        element.set(q("id", NS_R), rid)
        types = self.xml("[Content_Types].xml")
        override = etree.SubElement(types, q("Override", NS_CT))
        override.set("PartName", "/" + part)
        override.set("ContentType", CT_WORKSHEET)
        return part

    def drop_calc_chain(self) -> None:
        """Remove calcChain.xml (Excel rebuilds it) after formulas were removed from cells."""
        if not self.has("xl/calcChain.xml"):
            return
        self.remove("xl/calcChain.xml")
        rels = self.workbook_rels()
        for rel in list(rels):
            if rel.get("Type") == REL_CALCCHAIN:
                rels.remove(rel)
        types = self.xml("[Content_Types].xml")
        for override in list(types):
            if override.get("PartName") == "/xl/calcChain.xml":
                types.remove(override)

    # ------------------------------------------------------------------ output

    def write(self, dest: Path) -> None:
        """Write the package to `dest`: changed parts re-serialised, the rest copied as is."""
        for name, tree in self._trees.items():
            self._changed[name] = etree.tostring(
                tree, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        self._trees.clear()
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
            for name in self._order:
                if name in self._removed:
                    continue
                info = self._infos[name]
                data = self._changed.get(name)
                if data is None:
                    data = self._zip.read(name)
                new = zipfile.ZipInfo(name, date_time=info.date_time)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                out.writestr(new, data)
            for name, data in self._changed.items():
                if name not in self._infos:
                    out.writestr(name, data)


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
