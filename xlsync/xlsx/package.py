"""An .xlsx package: read parts, replace or add some, write a new zip with the rest unchanged.

Every part is found through the relationships (`_rels/.rels` -> the workbook part -> its
sheets, styles, calcChain), never by an assumed path, and part names are compared the way
the packaging standard says: case-insensitively and percent-decoded. New parts get names
that collide with no existing part in any case.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import IO
from urllib.parse import unquote

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_OFFICE_DOCUMENT = REL_BASE + "officeDocument"
REL_WORKSHEET = REL_BASE + "worksheet"
REL_CALCCHAIN = REL_BASE + "calcChain"
REL_STYLES = REL_BASE + "styles"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

# ISO/IEC 29500 Strict: the same parts under other namespaces and relationship types.
NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_BASE_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships/"
# Excel 2007 beta files: a draft namespace no released reader accepts.
NS_MAIN_BETA = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/5/main",
    "http://schemas.microsoft.com/office/excel/2006/2",
)

# The sheet-scoped defined name that marks a sheet xlsync created (its value: the kind).
OWNER_NAME = "_xlsync_tool"

# No entity expansion, no network: a hostile part cannot blow up or reach out.
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False
)


def q(tag: str, ns: str = NS_MAIN) -> str:
    return f"{{{ns}}}{tag}"


def part_key(name: str) -> str:
    """How the package compares part names: percent-decoded, case-insensitive, no leading /."""
    return unquote(name).lstrip("/").casefold()


def rels_of(part: str) -> str:
    """The relationships part of `part` (`_rels/.rels` for the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source: str, target: str) -> str:
    """The part a relationship of `source` points at (absolute or relative target)."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


class PackageError(Exception):
    """The package cannot be patched safely; the message says why (in Chinese)."""


class Package:
    """Parts of one .xlsx, some of them changed. Nothing touches the file until `write`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path)
        self._infos = {info.filename: info for info in self._zip.infolist()}
        self._order = [info.filename for info in self._zip.infolist()]
        self._keys = {part_key(n): n for n in reversed(self._order)}
        self._changed: dict[str, bytes] = {}
        self._streams: dict[str, Callable[[], Iterable[bytes | memoryview]]] = {}
        self._trees: dict[str, etree._Element] = {}
        self._pristine: dict[str, bytes] = {}  # small parts as serialised right after parsing
        self._removed: set[str] = set()
        self._workbook: str | None = None

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ parts

    def find(self, name: str) -> str | None:
        """The stored name of part `name` (compared case-insensitively), or None."""
        stored = self._keys.get(part_key(name))
        if stored is None or stored in self._removed:
            return None
        return stored

    def has(self, name: str) -> bool:
        return self.find(name) is not None

    def _name(self, name: str) -> str:
        stored = self.find(name)
        if stored is None:
            raise KeyError(name)
        return stored

    def read(self, name: str) -> bytes:
        name = self._name(name)
        if name in self._streams:
            return b"".join(self._streams[name]())
        if name in self._changed:
            return self._changed[name]
        return inflate(self._zip, self._zip.getinfo(name))

    def pieces(self, name: str, size: int) -> Iterator[bytes]:
        """The part's bytes, `size` at a time (a stored part inflated as it is read)."""
        name = self._name(name)
        if name in self._streams or name in self._changed:
            yield self.read(name)
            return
        with self._zip.open(name) as fh:
            while piece := fh.read(size):
                yield piece

    def xml(self, name: str) -> etree._Element:
        """The parsed part; edits to the tree are written back by `write`."""
        name = self._name(name)
        if name not in self._trees:
            data = self.read(name)
            tree = etree.fromstring(data, PARSER)
            if len(data) < PRISTINE_LIMIT:
                self._pristine[name] = _serialise(tree)
            self._trees[name] = tree
        return self._trees[name]

    def put(self, name: str, data: bytes) -> None:
        name = self.find(name) or name
        self._trees.pop(name, None)
        self._streams.pop(name, None)
        self._changed[name] = data
        self._removed.discard(name)
        self._keys[part_key(name)] = name

    def put_stream(self, name: str, chunks: Callable[[], Iterable[bytes | memoryview]]) -> None:
        """Replace part `name` by what `chunks()` yields, produced only while the package
        is written (a large worksheet is never held whole)."""
        name = self.find(name) or name
        self._trees.pop(name, None)
        self._changed.pop(name, None)
        self._streams[name] = chunks
        self._removed.discard(name)
        self._keys[part_key(name)] = name

    def remove(self, name: str) -> None:
        name = self.find(name) or name
        self._trees.pop(name, None)
        self._changed.pop(name, None)
        self._streams.pop(name, None)
        self._removed.add(name)

    def free_name(self, folder: str, stem: str, ext: str) -> str:
        """`folder/stemN.ext` for the first N no part (existing or removed) uses in any case."""
        taken = set(self._keys)
        number = 1
        while part_key(f"{folder}/{stem}{number}{ext}") in taken:
            number += 1
        return f"{folder}/{stem}{number}{ext}"

    # ------------------------------------------------------------------ relationships

    def rels(self, part: str) -> etree._Element:
        """The relationships of `part` (an empty set is created when it has none)."""
        name = rels_of(part)
        if not self.has(name):
            self.put(name, f'<Relationships xmlns="{NS_REL}"/>'.encode())
            self.content_type_default(
                "rels", "application/vnd.openxmlformats-package.relationships+xml"
            )
        return self.xml(name)

    def related(self, part: str, kind: str) -> list[tuple[etree._Element, str]]:
        """(relationship, target part) of `part` whose type ends in `/kind` (any variant)."""
        if not self.has(rels_of(part)):
            return []
        out = []
        for rel in self.xml(rels_of(part)).iter(q("Relationship", NS_REL)):
            if rel.get("TargetMode") == "External":
                continue
            if rel.get("Type", "").rsplit("/", 1)[-1] == kind:
                out.append((rel, resolve(part, rel.get("Target", ""))))
        return out

    def add_relationship(self, part: str, kind: str, target: str) -> str:
        """Relate `part` to the part `target`; return the new relationship id."""
        rels = self.rels(part)
        ids = {rel.get("Id") for rel in rels}
        rid = next(f"rId{i}" for i in range(1, len(ids) + 2) if f"rId{i}" not in ids)
        rel = etree.SubElement(rels, q("Relationship", NS_REL))
        rel.set("Id", rid)
        rel.set("Type", (REL_BASE_STRICT if self.strict else REL_BASE) + kind)
        rel.set("Target", posixpath.relpath(target, posixpath.dirname(part) or "."))
        return rid

    def content_type_default(self, ext: str, content_type: str) -> None:
        types = self.xml("[Content_Types].xml")
        for default in types.iter(q("Default", NS_CT)):
            if default.get("Extension", "").casefold() == ext:
                return
        element = etree.Element(q("Default", NS_CT))
        element.set("Extension", ext)
        element.set("ContentType", content_type)
        types.insert(0, element)

    def add_override(self, part: str, content_type: str) -> None:
        types = self.xml("[Content_Types].xml")
        for override in list(types.iter(q("Override", NS_CT))):
            if part_key(override.get("PartName", "")) == part_key(part):
                types.remove(override)  # a stale override for a part that is gone
        override = etree.SubElement(types, q("Override", NS_CT))
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)

    # ------------------------------------------------------------------ workbook structure

    @property
    def workbook_part(self) -> str:
        """The workbook part, found through the package relationships."""
        if self._workbook is None:
            found = self.related("", "officeDocument")
            if found and self.has(found[0][1]):
                self._workbook = self._name(found[0][1])
            elif self.has("xl/workbook.xml"):
                self._workbook = self._name("xl/workbook.xml")
            else:
                raise PackageError("找不到工作簿部件（_rels/.rels 没有指向它）")
        return self._workbook

    @property
    def strict(self) -> bool:
        return etree.QName(self.xml(self.workbook_part)).namespace == NS_MAIN_STRICT

    def workbook_rels(self) -> etree._Element:
        return self.rels(self.workbook_part)

    def sheet_elements(self) -> list[etree._Element]:
        sheets = self.xml(self.workbook_part).find(q("sheets"))
        return [] if sheets is None else list(sheets.iter(q("sheet")))

    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> stored part name, worksheets only."""
        workbook = self.workbook_part
        rels = {rel.get("Id"): target for rel, target in self.related(workbook, "worksheet")}
        out: dict[str, str] = {}
        for sheet in self.sheet_elements():
            target = rels.get(sheet.get(q("id", NS_R)))
            if target is not None and self.has(target):
                out[sheet.get("name", "")] = self._name(target)
        return out

    def add_sheet(self, name: str, data: bytes) -> str:
        """Add a worksheet part at the end of the workbook; return its part name."""
        workbook = self.workbook_part
        folder = posixpath.join(posixpath.dirname(workbook), "worksheets")
        part = self.free_name(folder, "sheet", ".xml")
        self.put(part, data)
        rid = self.add_relationship(workbook, "worksheet", part)
        sheets = self.xml(workbook).find(q("sheets"))
        assert sheets is not None
        sheet_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
        element = etree.SubElement(sheets, q("sheet"))
        element.set("name", name)
        element.set("sheetId", str(sheet_id))
        element.set(q("id", NS_R), rid)
        self.add_override(part, CT_WORKSHEET)
        return part

    def styles_part(self) -> str | None:
        for _rel, target in self.related(self.workbook_part, "styles"):
            if self.has(target):
                return self._name(target)
        return None

    def add_styles(self, data: bytes) -> str:
        workbook = self.workbook_part
        part = posixpath.join(posixpath.dirname(workbook), "styles.xml")
        if self.has(part):
            part = self.free_name(posixpath.dirname(workbook), "styles", ".xml")
        self.put(part, data)
        self.add_relationship(workbook, "styles", part)
        self.add_override(part, CT_STYLES)
        return part

    def drop_calc_chain(self) -> None:
        """Remove calcChain.xml (Excel rebuilds it) after formulas were removed from cells."""
        workbook = self.workbook_part
        for rel, target in self.related(workbook, "calcChain"):
            if self.has(target):
                self.remove(target)
            parent = rel.getparent()
            if parent is not None:
                parent.remove(rel)
            types = self.xml("[Content_Types].xml")
            for override in list(types.iter(q("Override", NS_CT))):
                if part_key(override.get("PartName", "")) == part_key(target):
                    types.remove(override)

    # ------------------------------------------------------------------ ownership

    def owned_sheets(self) -> dict[str, str]:
        """Sheet name -> kind for the sheets xlsync created (sheet-scoped OWNER_NAME)."""
        names = [s.get("name", "") for s in self.sheet_elements()]
        defined = self.xml(self.workbook_part).find(q("definedNames"))
        out: dict[str, str] = {}
        if defined is None:
            return out
        for element in defined.iter(q("definedName")):
            if element.get("name") != OWNER_NAME:
                continue
            try:
                index = int(element.get("localSheetId", ""))
            except ValueError:
                continue
            if 0 <= index < len(names):
                out[names[index]] = (element.text or "").strip('"')
        return out

    def mark_owned(self, sheet_name: str, kind: str) -> None:
        """Record in the workbook that xlsync created (and may rewrite) `sheet_name`."""
        names = [s.get("name", "") for s in self.sheet_elements()]
        index = str(names.index(sheet_name))
        workbook = self.xml(self.workbook_part)
        defined = workbook.find(q("definedNames"))
        if defined is None:
            defined = etree.Element(q("definedNames"))
            _insert_in_order(workbook, defined, _WORKBOOK_ORDER)
        for element in defined.iter(q("definedName")):
            if element.get("name") == OWNER_NAME and element.get("localSheetId") == index:
                if element.text == f'"{kind}"':
                    return
                defined.remove(element)
        element = etree.SubElement(defined, q("definedName"))
        element.set("name", OWNER_NAME)
        element.set("localSheetId", index)
        element.set("hidden", "1")
        element.text = f'"{kind}"'

    # ------------------------------------------------------------------ output

    def write(self, dest: Path | IO[bytes]) -> set[str]:
        """Write the package to `dest`: changed parts re-serialised, the rest copied as is.
        Returns the names of the parts that were changed, added or removed."""
        for name, tree in self._trees.items():
            data = _serialise(tree)
            untouched = name in self._infos and name not in self._changed
            if untouched and self._pristine.get(name) == data:
                continue  # parsed to be read, never edited: the original bytes stay
            self._changed[name] = data
        self._trees.clear()
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as out:
            for name in self._order:
                if name in self._removed:
                    continue
                info = self._infos[name]
                new = zipfile.ZipInfo(name, date_time=info.date_time)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                self._write_part(out, new, name)
            for name in [*self._changed, *self._streams]:
                if name not in self._infos:
                    new = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                    new.compress_type = zipfile.ZIP_DEFLATED
                    new.external_attr = 0o600 << 16
                    self._write_part(out, new, name)
        return set(self._changed) | set(self._streams) | self._removed

    def _write_part(self, out: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
        stream = self._streams.get(name)
        if stream is None:
            changed = self._changed.get(name)
            if changed is None and _copy_entry(self._zip, self._infos[name], out, info):
                return
            out.writestr(info, changed if changed is not None else self._zip.read(name))
            return
        with out.open(info, "w") as fh:
            pending: list[bytes | memoryview] = []
            size = 0
            for chunk in stream():  # joined into pieces of a good size for zlib
                pending.append(chunk)
                size += len(chunk)
                if size >= _PIECE:
                    fh.write(b"".join(pending))
                    pending.clear()
                    size = 0
            fh.write(b"".join(pending))


_PIECE = 1 << 18
# zlib's level for the parts xlsync writes (the others are copied as stored). A sheet of
# 20,000 rows as LibreOffice saved it: level 6 (zlib's default) 0.19 s, 1,114 KB; level 4
# 0.09 s, 1,272 KB. A sync writes the whole sheet; half the time for 14% more bytes.
_LEVEL = 4
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zipfile.structFileHeader


def raw_entry(source: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The stored (compressed) bytes of one entry as they lie in the file, or None when it
    is encrypted, compressed some unusual way or its local header does not fit."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                           zipfile.ZIP_DEFLATED):  # fmt: skip
        return None
    fp = source.fp
    if fp is None:
        return None
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        return None
    fp.seek(info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10])
    data = fp.read(info.compress_size)
    return data if len(data) == info.compress_size else None


def inflate(source: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """`source.read(info)` in one allocation: ZipFile.read holds the part twice while it
    joins what it inflated (a 100,000-row sheet is 89 MB: 214 MB at the peak, against
    99 MB here). The stored bytes are inflated into a buffer of the part's stated size
    (not more than a plausible ratio of the stored size: a stated size is not trusted for
    an allocation), then checked against its size and CRC as ZipFile.read checks them."""
    raw = raw_entry(source, info)
    if raw is None:
        return source.read(info.filename)
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        size = min(info.file_size, _MOST_INFLATED * len(raw) + (1 << 16))
        data = zlib.decompress(raw, -zlib.MAX_WBITS, max(size, 1))
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return data


_MOST_INFLATED = 256  # a sheet's XML inflates some 5-20 times


def _copy_entry(
    source: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, new: zipfile.ZipInfo
) -> bool:
    """Copy an entry into `out` as it is stored, without inflating and deflating it again
    (False, and nothing written, where that is not possible: then it is recompressed).
    zipfile has no public call for this: the entry is written the way ZipFile.open("w")
    writes one, header, data, and its place in the central directory."""
    data = raw_entry(source, info)
    if data is None or out.fp is None or not hasattr(out, "start_dir"):
        return False
    new.compress_type = info.compress_type
    new.CRC = info.CRC
    new.compress_size = info.compress_size
    new.file_size = info.file_size
    new.flag_bits = info.flag_bits & ~0x08  # sizes in the header, no data descriptor
    zip64 = max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT
    out.fp.seek(out.start_dir)
    new.header_offset = out.fp.tell()
    out.fp.write(new.FileHeader(zip64))
    out.fp.write(data)
    out.start_dir = out.fp.tell()
    out.filelist.append(new)
    out.NameToInfo[new.filename] = new
    # zipfile's types stubs do not declare _didModify (what ZipFile.write sets so that
    # close() writes the central directory)
    out._didModify = True  # type: ignore[attr-defined]
    return True


PRISTINE_LIMIT = 1 << 20


def _serialise(tree: etree._Element) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)


_WORKBOOK_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
    "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
    "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
    "fileRecoveryPr", "webPublishObjects", "extLst",
]  # fmt: skip


def _insert_in_order(parent: etree._Element, element: etree._Element, order: list[str]) -> None:
    """Insert `element` among `parent`'s children at its schema position."""
    rank = {name: i for i, name in enumerate(order)}
    mine = rank[etree.QName(element).localname]
    for i, child in enumerate(parent):
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if rank.get(name, -1) > mine:
            parent.insert(i, element)
            return
    parent.append(element)


_DXF_ID = re.compile(rb'\bdxfId="(\d+)"')


def package_faults(path: Path) -> set[str]:
    """What is structurally wrong with the package at `path` (empty when it is sound)."""
    faults: set[str] = set()
    with Package(path) as pkg:
        keys: dict[str, str] = {}
        for name in pkg._order:
            if part_key(name) in keys:
                faults.add(f"部件名只差大小写：{keys[part_key(name)]} / {name}")
            keys[part_key(name)] = name
        try:
            types = pkg.xml("[Content_Types].xml")
        except (KeyError, etree.XMLSyntaxError):
            return faults | {"缺少或无法解析 [Content_Types].xml"}
        seen: dict[str, str] = {}
        for override in types.iter(q("Override", NS_CT)):
            name = override.get("PartName", "")
            if not pkg.has(name):
                faults.add(f"内容类型指向不存在的部件：{name}")
            if part_key(name) in seen:
                faults.add(f"内容类型重复：{seen[part_key(name)]} / {name}")
            seen[part_key(name)] = name
        for name in pkg._order:
            if not name.endswith(".rels"):
                continue
            folder = posixpath.dirname(posixpath.dirname(name))
            source = posixpath.join(folder, posixpath.basename(name)[: -len(".rels")])
            try:
                rels = pkg.xml(name)
            except etree.XMLSyntaxError:
                faults.add(f"关系部件无法解析：{name}")
                continue
            for rel in rels.iter(q("Relationship", NS_REL)):
                if rel.get("TargetMode") == "External":
                    continue
                target = resolve(source, rel.get("Target", ""))
                if not pkg.has(target):
                    faults.add(f"{name} 的关系 {rel.get('Id')} 指向不存在的部件：{target}")
        try:
            workbook = pkg.workbook_part
            styles = pkg.styles_part()
        except (PackageError, KeyError, etree.XMLSyntaxError):
            return faults | {"找不到工作簿部件"}
        n_xf = n_dxf = None
        if styles is not None:
            root = pkg.xml(styles)
            ns = etree.QName(root).namespace or NS_MAIN
            counts = {}
            for tag, child in (("fonts", "font"), ("fills", "fill"), ("borders", "border"),
                               ("cellXfs", "xf")):  # fmt: skip
                element = root.find(q(tag, ns))
                counts[tag] = 0 if element is None else len(element.findall(q(child, ns)))
                if counts[tag] == 0:
                    faults.add(f"styles.xml 缺少必需的 {tag}")
            n_xf = counts["cellXfs"]
            dxfs = root.find(q("dxfs", ns))
            n_dxf = 0 if dxfs is None else len(dxfs.findall(q("dxf", ns)))
        for _rel, target in pkg.related(workbook, "worksheet"):
            if not pkg.has(target):
                continue
            xf, dxf = _styles_out_of_range(
                pkg.pieces(target, _WINDOW), None if n_xf is None else max(n_xf, 1), n_dxf
            )
            if xf is not None:
                faults.add(f"{target} 的单元格样式 s={xf.decode()} 超出范围")
            if dxf is not None:
                faults.add(f"{target} 的条件格式 dxfId={dxf.decode()} 超出范围")
    return faults


_WINDOW = 1 << 20  # how much of a sheet is searched at a time


def _styles_out_of_range(
    pieces: Iterable[bytes], n_xf: int | None, n_dxf: int | None
) -> tuple[bytes | None, bytes | None]:
    """The first style index (`s`, of a cell or a row) at least `n_xf` and the first
    conditional format's `dxfId` at least `n_dxf` in a sheet given as pieces of its bytes,
    or None. The sheet is searched a window at a time, each cut before a tag: a large sheet
    is never held whole, nor its cells listed all at once. Conditional formats follow the
    rows: `dxfId` is looked for only after `</sheetData>` (or an empty `<sheetData/>`)."""
    xf = dxf = None
    after_rows = False
    carry = b""
    for piece in itertools.chain(pieces, [b""]):  # b"": the end, search what is left
        data = carry + piece
        cut = data.rfind(b"<") if piece else len(data)
        if cut <= 0:
            carry = data
            continue
        window, carry = data[:cut], data[cut:]
        if xf is None:
            xf = _first_style_at_least(window, n_xf)
        rest = _rows_end(window)
        if rest >= 0:  # the rows end here
            after_rows = True
            dxf = _first_at_least(_DXF_ID.findall(window, rest), n_dxf)
        elif after_rows and dxf is None:
            dxf = _first_at_least(_DXF_ID.findall(window), n_dxf)
    return xf, dxf


def _rows_end(window: bytes) -> int:
    """Where the rows end in `window` (after `</sheetData>` or an empty `<sheetData/>`,
    with any prefix), or -1. The opening `<sheetData>` is not their end, nor the word in a
    cell's text."""
    at = window.rfind(b"sheetData")
    if at < 0:
        return -1
    lt = window.rfind(b"<", 0, at)
    if lt < 0 or window.rfind(b">", 0, at) > lt:
        return -1  # not in a tag: a text
    gt = window.find(b">", at)
    if gt < 0:
        return -1
    if window[lt + 1 : lt + 2] == b"/" or window[gt - 1 : gt] == b"/":
        return gt + 1
    return -1


def _first_style_at_least(window: bytes, limit: int | None) -> bytes | None:
    """The first `s="…"` attribute (a cell's or a row's style) in `window` that is `limit`
    or more (with no limit, the first). The values are searched for, not listed (a sheet of
    20,000 rows has some 300,000 of them); one that counts is confirmed to be an attribute
    inside a tag, not a cell's text (`<t>… s="9"</t>`: text need not escape its quotes)."""
    for found in _style_at_least(limit).finditer(window):
        at = found.start()
        if window[at - 1 : at] not in (b" ", b"\t", b"\n", b"\r"):
            continue  # the end of another attribute's name
        if window.rfind(b"<", 0, at) > window.rfind(b">", 0, at):
            return found.group(1)
    return None


@cache
def _style_at_least(limit: int | None) -> re.Pattern[bytes]:
    """A style attribute's name and value when the value is `limit` or more (any value
    with no limit), leading zeros and all."""
    return re.compile(rb's="(0*' + numbers_at_least(limit or 0) + b')"')


def numbers_at_least(n: int) -> bytes:
    """A regular expression of the decimal numbers without leading zeros that are `n` or
    more (`n` >= 0): more digits than `n`, or as many and larger at the first digit that
    differs, or `n` itself."""
    digits = str(n).encode()
    size = len(digits)
    choices = [rb"[1-9]\d{%d,}" % size]
    for i, digit in enumerate(digits):
        if digit < ord("9"):
            choices.append(digits[:i] + b"[%c-9]" % (digit + 1) + rb"\d{%d}" % (size - i - 1))
    choices.append(digits)
    return b"(?:" + b"|".join(choices) + b")"


def _first_at_least(values: list[bytes], limit: int | None) -> bytes | None:
    """The first of `values` (decimal numbers) that is `limit` or more; with no limit, the
    first value."""
    if not values:
        return None
    if limit is None:
        return values[0]
    if max(int(v) for v in set(values)) < limit:
        return None
    return next(v for v in values if int(v) >= limit)


def _same_entry(before: zipfile.ZipFile, name: str, after: zipfile.ZipFile, new: str) -> bool:
    """Whether the two entries hold the same bytes: their stored bytes compared when both
    are stored alike (a part copied as it was), else their contents."""
    old_info, new_info = before.getinfo(name), after.getinfo(new)
    if (old_info.compress_type, old_info.CRC, old_info.file_size) == (
        new_info.compress_type,
        new_info.CRC,
        new_info.file_size,
    ):
        raw = raw_entry(before, old_info)
        if raw is not None and raw == raw_entry(after, new_info):
            return True
    return before.read(name) == after.read(new)


def verify_written(original: Path, written: Path, changed: set[str]) -> list[str]:
    """Why the package `written` (made from `original` by changing the parts `changed`)
    must not replace it: faults it has that the original did not have, and parts that
    differ although nothing was meant to change them. Empty when it is safe."""
    faults = package_faults(written)
    problems = sorted(faults - package_faults(original)) if faults else []
    changed_keys = {part_key(n) for n in changed}
    with zipfile.ZipFile(original) as before, zipfile.ZipFile(written) as after:
        old = {part_key(i.filename): i.filename for i in before.infolist()}
        new = {part_key(i.filename): i.filename for i in after.infolist()}
        for key, name in old.items():
            if key in changed_keys:
                continue
            if key not in new:
                problems.append(f"部件 {name} 丢失")
            elif not _same_entry(before, name, after, new[key]):
                problems.append(f"部件 {name} 被意外改动")
        for key, name in new.items():
            if key not in old and key not in changed_keys:
                problems.append(f"多出部件 {name}")
    return problems
