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
