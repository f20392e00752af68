"""Apply a plan to a register's package: ids, moves, hints, the 冲突 and 问题 sheets.

Only the data sheets, the tool-owned sheets, styles.xml (for the few styles we add) and the
workbook's sheet list are re-serialised; every other part of the package is copied as it is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from xlsync.plan import Plan
from xlsync.records import SheetData
from xlsync.register.cells import CellError, cell_text, parse_date
from xlsync.register.schema import (
    FIELD_BY_KEY,
    HINT_HEADER,
    SHEET_NAMES,
    SheetKind,
    match_header,
    norm_label,
)
from xlsync.rules import VERDICT_LABELS, Verdict
from xlsync.xlsx.package import NS_MAIN, NS_MAIN_STRICT, Package, PackageError, q
from xlsync.xlsx.sheet import SheetXml, get_column_letter, ref
from xlsync.xlsx.styles import ensure_bold_xf, ensure_fill_dxf, ensure_xf, is_date_style

# Conditional formatting of the hint column: the marker finds our own rules again.
HINT_MARKER = '"【'
HINT_COLOURS = (("【冲突", "FFFFC7CE"), ("【问题", "FFFFEB9C"), ("【", "FFDDEBF7"))
HINT_WIDTH = 48
CF_ROWS = 5000  # rows below the last data row the hint colouring already covers


def format_refusal(package: Package) -> str | None:
    """Why a package of this format cannot be written back at all, or None."""
    workbook = package.xml(package.workbook_part)
    namespace = etree.QName(workbook).namespace
    if namespace == NS_MAIN_STRICT:
        return (
            "工作簿是 Strict Open XML 格式（“严格”），xlsync 暂不支持写回；"
            "请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”"
        )
    if workbook.tag != q("workbook"):
        return (
            f"工作簿使用了非标准的命名空间（{namespace}，可能是 Excel 2007 测试版），"
            "xlsync 无法写回；请在 Excel 中另存为 .xlsx"
        )
    return None


def sheet_refusal(sheet: SheetXml) -> str | None:
    """Why this data sheet cannot be written back safely, or None."""
    if sheet.root.find(q("tableParts")) is not None:
        return (
            "数据表使用了 Excel 表格（套用表格格式），写回时无法同步扩展表格范围；请先“转换为区域”"
        )
    protection = sheet.root.find(q("sheetProtection"))
    if protection is not None and protection.get("sheet") in ("1", "true"):
        return "工作表设置了保护，xlsync 不会改动受保护的表；请取消保护"
    return None


@dataclass(slots=True)
class Written:
    """What `apply_plan` did: the parts it changed, and what the user should be told."""

    changed: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def apply_plan(plan: Plan, source: Path, dest: Path) -> Written:
    """Write the register `source` with `plan` applied to `dest`. Raises PackageError."""
    reg = plan.register
    following = reg.sheets[SheetKind.FOLLOWING]
    cooperating = reg.sheets.get(SheetKind.COOPERATING)
    written = Written()
    with Package(source) as package:
        reason = format_refusal(package)
        if reason:
            raise PackageError(reason)
        parts = package.sheet_parts()
        if following.name not in parts:
            raise PackageError(f"找不到工作表「{following.name}」的内容")
        fol_part = parts[following.name]
        fol = SheetXml(package.read(fol_part))
        coop: SheetXml | None = None
        if cooperating is not None and cooperating.name in parts:
            coop_part = parts[cooperating.name]
            coop = SheetXml(package.read(coop_part))
        for sheet in (fol, coop):
            reason = sheet_refusal(sheet) if sheet is not None else None
            if reason:
                raise PackageError(reason)
        if coop is None or cooperating is None:
            name = SHEET_NAMES[SheetKind.COOPERATING]
            coop_part = package.add_sheet(name, _empty_sheet())
            coop = SheetXml(package.read(coop_part))
            coop_data = SheetData(name, SheetKind.COOPERATING, 0, {}, [])
        else:
            coop_data = cooperating
        empty_coop = coop_data.header_row == 0
        if empty_coop:  # an empty 已合作: give it the headers of 跟进中
            coop_data = SheetData(coop_data.name, SheetKind.COOPERATING, 1, {}, [])
        layout_f = _Layout(following, fol)
        layout_c = _Layout(coop_data, coop)
        if empty_coop:  # all of them, so that it reads back as a register sheet
            for header in layout_f.headers_in_order():
                layout_c.ensure_column(header)
        wants_hints = (
            bool(plan.hints) or following.hint_col is not None or (coop_data.hint_col is not None)
        )
        # the 编号 column, the columns 已合作 lacks, then the hint column
        if plan.new_ids or plan.moves:
            layout_f.ensure_column(FIELD_BY_KEY["id"].header, key="id")
        if plan.moves:
            for header in layout_f.headers_in_order():
                layout_c.ensure_column(header)
        if plan.new_ids:
            layout_c.ensure_column(FIELD_BY_KEY["id"].header, key="id")
        for kind, (first, by) in plan.shifts.items():
            (fol if kind is SheetKind.FOLLOWING else coop).shift_rows(first, by)
        for restore in plan.restores:
            xml, layout = (
                (fol, layout_f) if restore.kind is SheetKind.FOLLOWING else (coop, layout_c)
            )
            for header, text in restore.values.items():
                if norm_label(header) != norm_label(HINT_HEADER):
                    col = layout.ensure_column(header)
                    _restore_cell(package, xml, restore.row, col, header, text, layout.header_row,
                                  reg.date1904)  # fmt: skip
        if wants_hints:
            layout_f.ensure_hint_column()
            layout_c.ensure_hint_column()
        sheets = {SheetKind.FOLLOWING: (fol, layout_f), SheetKind.COOPERATING: (coop, layout_c)}
        for (kind, row), value in plan.new_ids.items():
            xml, layout = sheets[kind]
            xml.set_text(row, layout.column("id"), value)
        mapping = (
            {col: layout_c.column_of_header(h) for col, h in layout_f.all_columns()}
            if plan.moves
            else {}
        )
        for move in plan.moves:
            coop.copy_row_from(fol, move.source, move.target, mapping)
            if move.status_header:  # won by its 成交日期: the row now says 已合作
                coop.set_text(move.target, layout_c.column_of_header(move.status_header), "已合作")
            fol.clear_row(move.source)
        if wants_hints:
            wrap = str(ensure_xf(package, wrap=True)) if plan.hints else None
            hints = plan.text.hints
            for kind, (xml, layout) in sheets.items():
                data = following if kind is SheetKind.FOLLOWING else coop_data
                new = {row: text for (k, row), text in hints.items() if k is kind}
                kept = _hints_kept(plan, kind, data.hints, new)
                for row in data.hints:
                    if row not in kept:
                        xml.set_text(row, layout.hint, "")
                for row, text in new.items():
                    if row not in kept:  # a long hint wraps inside its column, never across pages
                        xml.set_value(row, layout.hint, text, wrap)
                        xml.fit_height(row, _lines(text, HINT_WIDTH))
                _colour_hints(package, xml, layout)
        for xml in (fol, coop):
            xml.update_dimension()
        if fol.formulas_removed or coop.formulas_removed:
            package.drop_calc_chain()
        fol.save(package, fol_part)
        coop.save(package, coop_part)
        looks: ToolStyles | None = None
        for kind, grid, write in (
            (SheetKind.CONFLICTS, plan.text.conflicts, plan.write_conflicts),
            (SheetKind.PROBLEMS, plan.text.problems, plan.write_problems),
        ):
            if not write:
                continue
            looks = looks or ToolStyles.of(package)
            sheet_xml = tool_sheet_xml(
                grid, looks, stop=STOP_LABEL if kind is SheetKind.CONFLICTS else None
            )
            existing = reg.tool_sheets.get(kind)
            if existing is not None and existing in parts:
                name = existing
                package.put(parts[name], sheet_xml)
            else:
                name = free_sheet_name([s.get("name", "") for s in package.sheet_elements()], kind)
                if name != SHEET_NAMES[kind]:
                    written.notes.append(
                        f"工作表「{SHEET_NAMES[kind]}」不是 xlsync 创建的，没有改动它；"
                        f"{SHEET_NAMES[kind]}写在新工作表「{name}」中"
                    )
                package.add_sheet(name, sheet_xml)
            package.mark_owned(name, kind.value)
        if plan.write_review or plan.ruling_appends:
            _write_manager_sheets(package, plan, parts, written)
        written.changed = package.write(dest)
    return written


def _write_manager_sheets(
    package: Package, plan: Plan, parts: dict[str, str], written: Written
) -> None:
    """Rewrite xlsync's 待确认 (with its 裁决 dropdown) and append the manager's decisions
    to 裁决, under its last row (rows already there are never changed)."""
    from xlsync.plan_render import ruling_cells
    from xlsync.review import CHOICES, DECISION_COLUMN
    from xlsync.rulings import RULING_COLUMNS, find_ruling_header

    reg = plan.register
    if plan.write_review:
        review = plan.text.review or []
        data = tool_sheet_xml(review, ToolStyles.of(package))
        letter = get_column_letter(DECISION_COLUMN + 1)
        rows = max(len(review), 2) + 500
        choices = ",".join(CHOICES)
        validation = (
            '<dataValidations count="1"><dataValidation type="list" allowBlank="1" '
            f'showErrorMessage="1" sqref="{letter}2:{letter}{rows}">'
            f'<formula1>"{choices}"</formula1></dataValidation></dataValidations>'
        )
        data = data.replace(b"<pageMargins", validation.encode() + b"<pageMargins", 1)
        old = reg.manager_grids.get(SheetKind.REVIEW)
        if old is not None and old[0] in parts:
            name = old[0]
            package.put(parts[name], data)
        else:
            names = [s.get("name", "") for s in package.sheet_elements()]
            name = free_sheet_name(names, SheetKind.REVIEW)
            package.add_sheet(name, data)
        package.mark_owned(name, SheetKind.REVIEW.value)
    if plan.ruling_appends:
        found = reg.manager_grids.get(SheetKind.RULINGS)
        header = find_ruling_header(found[1]) if found is not None else None
        if found is None or header is None or found[0] not in parts:
            grid: list[list[object]] = [[c.header for c in RULING_COLUMNS]]
            grid.extend(map(ruling_cells, plan.ruling_appends))
            names = [s.get("name", "") for s in package.sheet_elements()]
            sheet = tool_sheet_xml(
                grid, 0, date_style=ensure_xf(package, num_fmt="14"), date1904=reg.date1904
            )
            package.add_sheet(free_sheet_name(names, SheetKind.RULINGS), sheet)
            return
        xml = SheetXml(package.read(parts[found[0]]))
        top, columns = header
        row = max(xml.last_used_row(), len(found[1])) + 1
        keys = [c.key for c in RULING_COLUMNS]
        for append in plan.ruling_appends:
            for key, value in zip(keys, ruling_cells(append), strict=True):
                if key not in columns or value in ("", None):
                    continue
                if isinstance(value, dt.date):
                    # a real date in the column's date format (or yyyy/m/d when the
                    # manager's cells above are not formatted as dates)
                    style, _numeric = xml.style_above(row, columns[key], top)
                    if not is_date_style(package, style):
                        style = str(ensure_xf(package, base=style, num_fmt="14"))
                    xml.set_value(row, columns[key], excel_serial(value, reg.date1904), style)
                else:
                    xml.set_text(row, columns[key], str(value))
            row += 1
        xml.update_dimension()
        xml.save(package, parts[found[0]])


def excel_serial(day: dt.date, date1904: bool) -> float:
    """The number Excel stores for a date."""
    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    return float((day - epoch).days)


def _restore_cell(
    package: Package,
    xml: SheetXml,
    row: int,
    col: int,
    header: str,
    text: str,
    top: int,
    date1904: bool,
) -> None:
    """Put one remembered value back the way its column is written: a date as a real date
    in the column's date format, a number as a number, text as text (the history keeps the
    text a rep saw; the cells above say how the column holds it)."""
    style, numeric = xml.style_above(row, col, top)
    key = match_header(header)
    value: str | float = text
    if key is not None and FIELD_BY_KEY[key].kind == "date":
        try:
            day = parse_date(text, date1904=date1904)
        except CellError:
            day = None
        if day is not None:
            value = excel_serial(day, date1904)
            if not is_date_style(package, style):  # a date shown as 46327 helps nobody
                style = str(ensure_xf(package, base=style, num_fmt="14"))
    elif numeric:
        with contextlib.suppress(ValueError):
            number = float(text)
            if cell_text(number) == text:  # 0755… keeps its 0: such a value stays text
                value = number
    xml.set_value(row, col, value, style)


def free_sheet_name(names: list[str], kind: SheetKind) -> str:
    """The name for a new 冲突 / 问题 sheet: the contract's, unless a sheet xlsync did not
    create already has it (sheet names compare case-insensitively, like Excel does)."""
    taken = {n.casefold() for n in names}
    base = SHEET_NAMES[kind]
    candidates = [base, f"{base} (xlsync)"] + [f"{base} (xlsync {i})" for i in range(2, 100)]
    return next(c for c in candidates if c.casefold() not in taken)


class _Layout:
    """Where the header row and each column of one data sheet are, growing as we add."""

    def __init__(self, data: SheetData, xml: SheetXml) -> None:
        self.data = data
        self.xml = xml
        self.header_row = data.header_row
        self.headers: dict[int, str] = {i: h for i, h in enumerate(data.headers) if h}
        self.keys = dict(data.columns)
        self.hint = data.hint_col if data.hint_col is not None else -1

    def headers_in_order(self) -> list[str]:
        return [
            h for _, h in sorted(self.headers.items()) if norm_label(h) != norm_label(HINT_HEADER)
        ]

    def all_columns(self) -> list[tuple[int, str]]:
        hint = norm_label(HINT_HEADER)
        return [(c, h) for c, h in sorted(self.headers.items()) if norm_label(h) != hint]

    def column(self, key: str) -> int:
        return self.keys[key]

    def column_of_header(self, header: str) -> int:
        wanted = norm_label(header)
        for col, text in self.headers.items():
            if norm_label(text) == wanted:
                return col
        key = match_header(header)
        if key is not None and key in self.keys:
            return self.keys[key]
        raise KeyError(header)

    def _next_free(self) -> int:
        return max(self.headers, default=-1) + 1

    def ensure_column(self, header: str, key: str | None = None) -> int:
        key = key or match_header(header)
        if key is not None and key in self.keys:
            return self.keys[key]
        try:
            return self.column_of_header(header)
        except KeyError:
            pass
        col = self._next_free()
        self.headers[col] = header
        if key is not None:
            self.keys[key] = col
        self.xml.set_text(self.header_row, col, header)
        return col

    def ensure_hint_column(self) -> None:
        if self.hint >= 0:
            return
        self.hint = self._next_free()
        self.headers[self.hint] = HINT_HEADER
        self.xml.set_text(self.header_row, self.hint, HINT_HEADER)
        # the header looks like the rep's own headers: the style of the header cell before it
        self.xml.copy_style(self.header_row, self.hint - 1, self.hint)
        _set_width(self.xml, self.hint, HINT_WIDTH)


def _hints_kept(plan: Plan, kind: SheetKind, old: dict[int, str], new: dict[int, str]) -> set[int]:
    """The rows of `kind` whose hint cell already says what the plan says, in a row no
    other edit moves: those rows are left as they are (the rep's own height and style
    too), and only the hints that change are written. Every hint is written again when
    the sheet's 合计 rows move down."""
    if kind in plan.shifts:
        return set()
    touched = {r.row for r in plan.restores if r.kind is kind}
    touched.update(m.source if kind is SheetKind.FOLLOWING else m.target for m in plan.moves)
    return {row for row, text in new.items() if old.get(row) == text and row not in touched}


def _colour_hints(package: Package, xml: SheetXml, layout: _Layout) -> None:
    letter = get_column_letter(layout.hint + 1)
    first = layout.header_row + 1
    last = max(xml.last_used_row(), first) + CF_ROWS
    sqref = f"A{first}:{letter}{last}"
    rules = []
    for prefix, rgb in HINT_COLOURS:
        dxf = ensure_fill_dxf(package, rgb)
        formula = f'LEFT(${letter}{first},{len(prefix)})="{prefix}"'
        rules.append((sqref, formula, dxf))
    xml.replace_conditional_formatting(HINT_MARKER, rules)


def _set_width(xml: SheetXml, col: int, width: float) -> None:
    cols = xml.root.find(q("cols"))
    if cols is None:
        cols = xml.insert(etree.Element(q("cols")))
    for c in cols:
        if int(c.get("min", "0")) <= col + 1 <= int(c.get("max", "0")):
            return  # the rep already set a width there
    element = etree.Element(q("col"))
    element.set("min", str(col + 1))
    element.set("max", str(col + 1))
    element.set("width", str(width))
    element.set("customWidth", "1")
    later = [c for c in cols if int(c.get("min", "0")) > col + 1]
    if later:
        later[0].addprevious(element)
    else:
        cols.append(element)


def _empty_sheet() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}"><sheetData/></worksheet>'
    ).encode()


@dataclass(frozen=True, slots=True)
class ToolStyles:
    """The cell formats of the 冲突 / 问题 sheets: a bold header, bordered cells that wrap,
    and a red fill for the rows of reps who must stop."""

    header: int
    body: int
    stop: int

    @classmethod
    def of(cls, package: Package) -> ToolStyles:
        return cls(
            ensure_bold_xf(package),
            ensure_xf(package, border=True, wrap=True),
            ensure_xf(package, border=True, wrap=True, fill="FFFFC7CE"),
        )


STOP_LABEL = VERDICT_LABELS[Verdict.MUST_STOP]


def tool_sheet_xml(
    grid: list[list[object]],
    styles: ToolStyles | int,
    *,
    stop: str | None = None,
    date_style: int = 0,
    date1904: bool = False,
) -> bytes:
    """A whole worksheet for 冲突 / 问题: frozen header, filter, widths, text as text,
    borders; rows holding `stop` (须停止跟进) are filled red. With a `date_style` (a
    cell format showing a date), a date value is written as a real date in it."""
    if isinstance(styles, int):
        styles = ToolStyles(styles, 0, 0)
    width = max((len(row) for row in grid), default=1)
    last = get_column_letter(width)
    widths = [max((_display_width(row[i]) for row in grid if i < len(row)), default=8)
              for i in range(width)]  # fmt: skip
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{NS_MAIN}">',
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
        f'<dimension ref="A1:{last}{max(len(grid), 1)}"/>',
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/><cols>',
    ]
    for i, w in enumerate(widths, start=1):
        out.append(f'<col min="{i}" max="{i}" width="{min(max(w + 2, 8), 60)}" customWidth="1"/>')
    out.append("</cols><sheetData>")
    for r, row in enumerate(grid, start=1):
        out.append(f'<row r="{r}">')
        if r == 1:
            index = styles.header
        else:
            index = styles.stop if stop is not None and stop in row else styles.body
        for c in range(width):
            value = row[c] if c < len(row) else None
            cell = ref(r, c)
            style = f' s="{index}"' if index else ""
            if isinstance(value, int) and not isinstance(value, bool):
                out.append(f'<c r="{cell}"{style}><v>{value}</v></c>')
            elif isinstance(value, dt.date) and date_style:
                serial = int(excel_serial(value, date1904))
                out.append(f'<c r="{cell}" s="{date_style}"><v>{serial}</v></c>')
            elif value not in (None, ""):
                text = escape(_xml_safe(str(value)))
                out.append(
                    f'<c r="{cell}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
                )
            elif style:
                out.append(f'<c r="{cell}"{style}/>')  # an empty cell keeps its border
        out.append("</row>")
    out.append("</sheetData>")
    out.append(f'<autoFilter ref="A1:{last}{max(len(grid), 1)}"/>')
    out.append(
        '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        # printed landscape, every column on the page width, as many pages down as it takes
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
    )
    out.append("</worksheet>")
    return "".join(out).encode("utf-8")


def _lines(text: str, width: float) -> int:
    """How many lines `text` takes in a column `width` characters wide (CJK counts two)."""
    return max(1, math.ceil(_display_width(text) / max(width - 2, 1)))


def _display_width(value: object) -> int:
    """Characters, a CJK one (past U+2E80) counting two."""
    text = str(value) if value is not None else ""
    return 2 * len(text) - len(_WIDE.sub("", text))


_WIDE = re.compile("[\u2e81-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters from pasted text)."""
    return _CONTROL.sub("", text)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
