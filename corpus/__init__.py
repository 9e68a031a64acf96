"""corpus: read a policy document, clean it, parse it into citable items and clauses."""

from corpus.model import Clause, Document, Investment, Item, ParsedDocument, ParseWarning, Target
from corpus.parse import doc_id_from_path, parse_document, parse_file, parse_text
from corpus.read import DocumentError, DocumentTooLarge, UnsupportedFormat, read_bytes, read_path

__all__ = [
    "Clause",
    "Document",
    "DocumentError",
    "DocumentTooLarge",
    "UnsupportedFormat",
    "Investment",
    "Item",
    "ParseWarning",
    "ParsedDocument",
    "Target",
    "doc_id_from_path",
    "parse_document",
    "parse_file",
    "parse_text",
    "read_bytes",
    "read_path",
]


def bundled_sources() -> list:
    """Paths of the documents shipped with policyqa (corpus/sources)."""
    from importlib import resources

    folder = resources.files("corpus").joinpath("sources")
    return sorted(p for p in folder.iterdir() if p.name.endswith((".txt", ".md", ".html", ".docx", ".pdf")))
