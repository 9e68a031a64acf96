"""Scanned pages and images through OCR: RapidOCR (PP-OCR models inside its wheel, on ONNX Runtime).

The engine runs offline and is loaded once, on the first page that needs it. Each page's text boxes
become paragraphs and tables (corpus.readers.positioned); the mean recognition confidence travels
with the document so that the parse report can say the text came from OCR and how sure it was.
"""

from __future__ import annotations

import io
import re
import statistics
import sys
import threading
from dataclasses import dataclass

from corpus.blocks import Block, BlockDocument, DocumentMeta
from corpus.errors import DocumentError
from corpus.readers.positioned import TextBox, page_blocks

_ENGINE = None
_LOCK = threading.Lock()
OCR_INSTALL = ("识别扫描件和图片需要 OCR 引擎：pip install rapidocr-onnxruntime"
               "（模型随安装包提供，离线可用）")


# what PP-OCR misreads in official documents' type: the radical 丶 for the enumeration comma, a middle dot
# for the full-width point after an item number ("1·" for "1．")
_CONFUSIONS = ((re.compile(r"丶"), "、"), (re.compile(r"^(\d{1,3})[·•・]"), r"\1．"))


def corrected(text: str) -> str:
    for pattern, repl in _CONFUSIONS:
        text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True)
class OcrPage:
    blocks: tuple[Block, ...]
    confidences: tuple[float, ...]


def _engine():
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise DocumentError(OCR_INSTALL) from exc
            _ENGINE = RapidOCR()
        return _ENGINE


def ocr_page(image, page: int) -> OcrPage:
    """One page image (PIL image or array) read into blocks, with each box's confidence."""
    import numpy as np

    result, _ = _engine()(np.asarray(image.convert("RGB")) if hasattr(image, "convert") else image)
    boxes, scores = [], []
    for points, text, score in result or ():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append(TextBox(min(xs), min(ys), max(xs), max(ys), corrected(text)))
        scores.append(float(score))
    return OcrPage(tuple(page_blocks(boxes, page)), tuple(scores))


def mean_confidence(pages: list[OcrPage]) -> float | None:
    scores = [s for p in pages for s in p.confidences]
    return round(statistics.fmean(scores), 3) if scores else None


def progress(pages: int, what: str):
    """A progress bar on stderr when a person watches (OCR takes seconds a page)."""
    from tqdm import tqdm

    return tqdm(total=pages, desc=what, unit="页", disable=not sys.stderr.isatty(), leave=False)


def read_image(data: bytes) -> BlockDocument:
    """A photographed or scanned page (.png, .jpg, .tif; every frame of a multi-page TIFF)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError) as exc:
        raise DocumentError(f"无法读取这张图片：{exc.__class__.__name__}") from exc
    pages: list[OcrPage] = []
    with progress(len(frames), "OCR") as bar:
        for number, frame in enumerate(frames, start=1):
            pages.append(ocr_page(frame, number))
            bar.update()
    blocks = tuple(b for p in pages for b in p.blocks)
    if not blocks:
        raise DocumentError("图片中没有识别出文字")
    return BlockDocument(blocks, "image", DocumentMeta(), pages=len(frames), ocr_pages=len(frames),
                         ocr_confidence=mean_confidence(pages))
