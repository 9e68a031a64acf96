"""Old Word (.doc), WPS (.wps, .et), RTF and OpenDocument through LibreOffice in headless mode.

LibreOffice converts the file to .docx (or .xlsx for a spreadsheet), which the reader for that format
then reads. Each conversion gets a private LibreOffice profile, so that conversions can run side by
side and never touch the user's own settings.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from corpus.errors import DocumentError

INSTALL = ("读取 .doc、.wps 等旧格式需要安装 LibreOffice（Debian/Ubuntu：apt install libreoffice-writer-nogui；"
           "表格另需 libreoffice-calc-nogui），或者先用 Word/WPS 将文件另存为 .docx 或 .xlsx 再上传")


def office_binary() -> str | None:
    """The LibreOffice command on this machine, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, suffix: str, target: str, timeout: float = 180) -> bytes:
    """The file converted by LibreOffice to `target` ("docx", "xlsx", "pdf")."""
    binary = office_binary()
    if binary is None:
        raise DocumentError(INSTALL)
    with tempfile.TemporaryDirectory(prefix="policyqa-office-") as tmp:
        work = Path(tmp)
        source = work / f"input{suffix}"
        source.write_bytes(data)
        out = work / "out"
        command = [binary, f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--norestore",
                   "--nologo", "--convert-to", target, "--outdir", str(out), str(source)]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                           stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise DocumentError(f"LibreOffice 转换超时（超过 {timeout:.0f} 秒）") from exc
        result = out / f"input.{target}"
        if not result.is_file() or result.stat().st_size == 0:
            raise DocumentError(f"LibreOffice 无法转换这个文件（{suffix}）：文件可能已损坏或加密")
        return result.read_bytes()
