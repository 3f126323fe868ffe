"""Assembly rules that need no files: dates from the catalog, and what they must not apply to."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.core.assemble import assemble
from pipelines.core.config import Catalog, Source, Thinker
from pipelines.core.ingest import ParsedFile, Snapshot
from pipelines.core.records import ParsedDocument, ParseResult, TweetFields


def _file(path: str, docs: list[ParsedDocument]) -> ParsedFile:
    snap = Snapshot(snapshot_id=path, path=path, sha256="0" * 64, bytes=1, seen_at=datetime(2026, 1, 1, tzinfo=UTC),
                    origin=path, fetcher="inbox", format="test", status="accepted")
    return ParsedFile(snap, ParseResult(format="test", documents=docs))


def test_catalog_month_dates_a_video_but_never_an_undated_tweet() -> None:
    catalog = Catalog(
        thinker=Thinker(name="Ada", twitter="ada"),
        sources=[
            Source(id="tweets-ada", kind="tweet_archive", title="Tweets", date="2022-11"),
            Source(id="talk", kind="video", title="Talk", date="2023-05", youtube_id="AAAAAAAAAAA"),
        ],
    )
    tweet = ParsedDocument(kind="tweet", text="an undated post", external_id="42", tweet=TweetFields(tweet_id="42", created_at=None))
    video = ParsedDocument(kind="video", text="spoken words", external_id="AAAAAAAAAAA")
    tables = assemble(catalog, [_file("a.json", [tweet]), _file("b.vtt", [video])])
    by_id = {d["doc_id"]: d for d in tables.documents}
    assert by_id["tweet-42"]["published_at"] is None
    assert by_id["talk"]["published_at"] == datetime(2023, 5, 1, tzinfo=UTC)


def test_reuse_skips_documents_held_under_the_same_emission_key() -> None:
    """assemble_stream with Reuse: a document whose rows the caller holds under the same key is not
    read from its file again nor built; a change to what its row is built from (here the catalog's
    title, or the file's content) builds it again, and only it."""
    import dataclasses

    from pipelines.core.assemble import Reuse, assemble_stream

    def catalog(talk_title: str) -> Catalog:
        return Catalog(thinker=Thinker(name="Ada", twitter="ada"), sources=[
            Source(id="talk", kind="video", title=talk_title, date="2023-05", youtube_id="AAAAAAAAAAA"),
            Source(id="essay", kind="blog_post", title="Essay", date="2024-01", url="https://ada.example/essay"),
        ])

    files = [_file("a.vtt", [ParsedDocument(kind="video", text="spoken words here", external_id="AAAAAAAAAAA")]),
             _file("b.md", [ParsedDocument(kind="blog_post", text="written words there", url="https://ada.example/essay")])]

    def run(cat: Catalog, parsed: list[ParsedFile], held: dict[str, str]) -> tuple[list[str], list[str], dict[str, str], list[str]]:
        loads: list[str] = []
        built: list[str] = []
        reused: list[str] = []
        keys: dict[str, str] = {}
        by_snap = {pf.snapshot.snapshot_id: pf.result for pf in parsed}

        def load(snap: Snapshot) -> ParseResult | None:
            loads.append(snap.path or "")
            return by_snap[snap.snapshot_id]

        def emit(table: str, row: dict) -> None:
            if table == "documents":
                built.append(row["doc_id"])
            elif table == "reused":
                reused.append(row["doc_id"])
                keys[row["doc_id"]] = row["key"]
            elif table == "keys":
                keys[row["doc_id"]] = row["key"]

        assemble_stream(cat, [pf.snapshot for pf in parsed], load, emit,
                        Reuse(lambda s: f"{s.sha256}:{s.format}", lambda d, k: held.get(d) == k))
        return sorted(built), sorted(reused), keys, sorted(loads)

    built, reused, keys, loads = run(catalog("Talk"), files, {})
    assert (built, reused, loads) == (["essay", "talk"], [], ["a.vtt", "a.vtt", "b.md", "b.md"])
    built, reused, again, loads = run(catalog("Talk"), files, keys)
    assert (built, reused, loads) == ([], ["essay", "talk"], ["a.vtt", "b.md"])  # each file read once, to match
    assert again == keys
    built, reused, renamed, _ = run(catalog("Talk, revised"), files, keys)
    assert (built, reused) == (["talk"], ["essay"]) and renamed["talk"] != keys["talk"]
    changed = [files[0], dataclasses.replace(files[1], snapshot=dataclasses.replace(files[1].snapshot, sha256="1" * 64))]
    built, reused, _, _ = run(catalog("Talk"), changed, keys)
    assert (built, reused) == (["essay"], ["talk"])


def test_the_documents_check_counts_texts_of_spaces_bad_kinds_and_twice_used_ids() -> None:
    """documents_are_well_formed's query: NULL, empty and all-space texts have no text (a text of
    a newline or a tab, which trim() keeps, has); a kind outside the list and a repeated doc_id are
    counted too."""
    import duckdb

    from pipelines.defs.warehouse import DOCUMENT_PROBLEMS_SQL

    con = duckdb.connect()
    con.execute("CREATE TABLE documents (doc_id VARCHAR, kind VARCHAR, text VARCHAR)")
    con.executemany("INSERT INTO documents VALUES (?, ?, ?)", [
        ("a", "tweet", None), ("b", "tweet", ""), ("c", "tweet", "   "), ("d", "tweet", "\n"), ("e", "tweet", " x "),
        ("f", "poem", "text"), ("f", "tweet", "again"),
    ])
    assert con.execute(DOCUMENT_PROBLEMS_SQL, [["tweet", "video"]]).fetchone() == (3, 1, 1)
    assert con.execute("SELECT count(*) FROM documents WHERE text IS NULL OR length(trim(text)) = 0").fetchone() == (3,)
