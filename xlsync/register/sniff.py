"""Decide, before any real parsing, whether a file can be a register at all.

Each refusal is one Chinese sentence that tells the rep what the file really is and what to
do, e.g. an old `.xls`, an encrypted workbook, a CSV renamed to `.xlsx`, a half-written zip.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from xlsync.errors import IncompleteFile, UnusableInput
from xlsync.xlsx.package import NS_MAIN, NS_MAIN_BETA, NS_MAIN_STRICT, part_key, resolve

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Refuse packages that would inflate beyond this (a zip bomb) before inflating anything.
DEFAULT_MAX_UNCOMPRESSED = 1 << 30  # 1 GiB
MAX_RATIO = 200  # no real sheet compresses better than this


def max_uncompressed() -> int:
    """The inflate limit: XLSYNC_MAX_INFLATE_MB in the environment, else 1 GiB."""
    value = os.environ.get("XLSYNC_MAX_INFLATE_MB", "")
    return int(float(value) * (1 << 20)) if value.strip() else DEFAULT_MAX_UNCOMPRESSED


def sniff(path: Path, *, limit: int | None = None) -> bool:
    """Raise UnusableInput unless `path` is an OOXML workbook; return its date1904 flag."""
    limit = max_uncompressed() if limit is None else limit
    if not path.exists():
        raise UnusableInput(path, "文件不存在")
    if path.is_dir():
        raise UnusableInput(path, "这是一个文件夹，不是 .xlsx 文件")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except PermissionError:
        raise UnusableInput(path, "没有读取权限（文件可能被锁定）") from None
    except OSError as exc:
        raise UnusableInput(path, f"无法读取文件：{exc.strerror or exc}") from None
    if not head:
        raise IncompleteFile(path, "文件是空的（可能正在保存，请稍后再试）")
    if head.startswith(OLE_MAGIC):
        if _ole_is_encrypted(path):
            raise UnusableInput(
                path, "工作簿设置了打开密码（已加密），无法读取；请在 Excel 中取消密码后再保存"
            )
        raise UnusableInput(path, "这是旧版 .xls 文件；请在 Excel 或 WPS 中“另存为” .xlsx 格式")
    if not head.startswith(ZIP_MAGIC):
        raise UnusableInput(path, f"不是 Excel 工作簿（.xlsx）：{_describe_text(head)}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            workbook = _workbook_part(zf, names)
            if workbook is None:
                raise UnusableInput(path, _describe_zip(zf, names))
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > limit or (total > 50_000_000 and total / packed > MAX_RATIO):
                raise UnusableInput(
                    path,
                    f"解压后过大（{total / 1e6:.0f} MB，压缩比 {total / packed:.0f}:1），"
                    "疑似压缩炸弹，已拒绝读取",
                )
            with zf.open(workbook) as fh:
                workbook_head = fh.read(8192)
            _check_namespace(path, workbook_head)
    except zipfile.BadZipFile:
        raise IncompleteFile(path, "文件不完整或已损坏（可能正在保存，或复制时被截断）") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise IncompleteFile(path, f"文件不完整或已损坏：{exc}") from None
    return bool(re.search(rb"date1904\s*=\s*[\"'](?:1|true)[\"']", workbook_head))


_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'(\w+)\s*=\s*["\']([^"\']*)["\']')


def _workbook_part(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part through `_rels/.rels` (officeDocument), as the standard says."""
    by_key = {part_key(n): n for n in names}
    rels = by_key.get(part_key("_rels/.rels"))
    if rels is not None:
        for match in _REL.finditer(zf.read(rels)[: 1 << 20]):
            attrs = {
                k.decode(): v.decode("utf-8", "replace") for k, v in _ATTR.findall(match.group(0))
            }
            if attrs.get("Type", "").endswith("/officeDocument"):
                found = by_key.get(part_key(resolve("", attrs.get("Target", ""))))
                if found is not None and found.lower().endswith(".xml"):
                    return found
    return by_key.get("xl/workbook.xml")


def _describe_zip(zf: zipfile.ZipFile, names: set[str]) -> str:
    """What a zip that holds no workbook part really is."""
    keys = {part_key(n) for n in names}
    if "mimetype" in keys:
        mimetype = zf.read(next(n for n in names if part_key(n) == "mimetype"))[:100]
        if b"opendocument.spreadsheet" in mimetype:
            return (
                "这是 OpenDocument 表格（.ods），只是扩展名改成了 .xlsx；"
                "请用 LibreOffice、WPS 或 Excel 打开后另存为 .xlsx"
            )
        return "这是 OpenDocument 文件（不是表格），只是扩展名改成了 .xlsx"
    if any(k.endswith(".bin") and k.startswith("xl/workbook") for k in keys):
        return (
            "这是 Excel 二进制工作簿（.xlsb），只是扩展名改成了 .xlsx；"
            "请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”"
        )
    if "word/document.xml" in keys:
        return "这是 Word 文档（.docx），不是 Excel 工作簿"
    if "ppt/presentation.xml" in keys:
        return "这是 PowerPoint 演示文稿（.pptx），不是 Excel 工作簿"
    return "是 zip 压缩包但不是 Excel 工作簿（找不到工作簿部件）"


def _check_namespace(path: Path, head: bytes) -> None:
    """Refuse workbooks in a namespace no reader here understands, with the true reason."""
    if NS_MAIN_STRICT.encode() in head and NS_MAIN.encode() not in head:
        raise UnusableInput(
            path,
            "工作簿是 Strict Open XML 格式（“严格”），xlsync 暂不支持；"
            "请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”",
        )
    if any(ns.encode() in head for ns in NS_MAIN_BETA) and NS_MAIN.encode() not in head:
        raise UnusableInput(
            path,
            "工作簿是 Excel 2007 测试版的格式，xlsync 无法读取；请在 Excel 中另存为 .xlsx",
        )


def _ole_is_encrypted(path: Path) -> bool:
    # An encrypted OOXML file is an OLE compound file holding an "EncryptedPackage" stream.
    try:
        data = path.read_bytes()[: 1 << 20]
    except OSError:
        return False
    return "EncryptedPackage".encode("utf-16-le") in data or b"EncryptionInfo" in data


def _describe_text(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return "这是一个网页（HTML）文件，只是扩展名改成了 .xlsx；请用 Excel 打开后另存为 .xlsx"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "这是一个 XML 文件（可能是“XML 电子表格 2003”）；请在 Excel 中另存为 .xlsx"
    if b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (
            "这是一个文本文件（可能是 CSV），只是扩展名改成了 .xlsx；请用 Excel 打开后另存为 .xlsx"
        )
    return "文件格式无法识别"
