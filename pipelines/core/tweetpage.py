"""reports/tweets.html: every own tweet, searchable as you type, in one self-contained file.

Opened as a file, with no server and no network: the tweets are embedded as JSON (a data block the
browser never executes), searched by one inline script, styled by one inline style. The page's
Content-Security-Policy allows only those two, by their sha256 hashes (``default-src 'none'``), so
nothing else can run or load even if a tweet carried markup; the script only ever inserts tweet
text as text nodes. The script applies the project's one normalisation (textnorm.py) ported to
JavaScript. Filters: year, replies (included, left out, only). Retweets are not the thinker's words
and are left out; a tweet without a status id (a date-only dump) is shown without a link.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(script: str, style: str) -> str:
    """The page's policy: nothing but the inline script and style with these exact texts."""
    return (
        f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; "
        "base-uri 'none'; form-action 'none'"
    )


def embed_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' (they become \\u escapes)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def own_tweets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The thinker's own tweets, newest first: date (UTC, 'YYYY-MM-DD HH:MM'), text, url, reply."""
    rows = con.execute(
        """
        SELECT d.published_at, d.text, d.url, coalesce(t.is_reply, false)
        FROM documents d LEFT JOIN tweets t USING (doc_id)
        WHERE d.kind = 'tweet' AND coalesce(d.is_own, false) AND d.text IS NOT NULL
        ORDER BY d.published_at DESC NULLS LAST, d.doc_id
        """
    ).fetchall()
    out = []
    for published, text, url, reply in rows:
        when = published.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if published else "undated"
        out.append({"date": when, "text": text, "url": url, "reply": bool(reply)})
    return out


def render_tweet_page(
    con: duckdb.DuckDBPyConnection, *, thinker: str | None = None, state: str = "", generated_at: str | None = None
) -> str:
    tweets = own_tweets(con)
    js = (TEMPLATES / "tweets.js").read_text(encoding="utf-8")
    css = (TEMPLATES / "tweets.css").read_text(encoding="utf-8")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["num"] = lambda v: f"{v:,}"
    dated = [t["date"] for t in tweets if t["date"] != "undated"]
    return env.get_template("tweets.html.j2").render(
        csp=csp(js, css),
        css=css,
        js=js,
        data=embed_json({"tweets": tweets}),
        thinker=thinker,
        n=len(tweets),
        replies=sum(t["reply"] for t in tweets),
        first=min(dated)[:10] if dated else "–",
        last=max(dated)[:10] if dated else "–",
        state=state,
        generated_at=generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_tweet_page(con: duckdb.DuckDBPyConnection, out_dir: Path, *, thinker: str | None = None, state: str = "") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tweets.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_tweet_page(con, thinker=thinker, state=state), encoding="utf-8")
    tmp.replace(path)
    return path
