"""reports/profile.html: the profile's own text, section by section, with every checked claim
marked where it stands and coloured by its verdict.

The profile is read from the path claims.yaml names (never copied into the repository). Each
claim's ``quote`` (the profile's words) is located in the text with the one text normalisation
(``pipelines.core.textnorm``): case, quotes, dashes and whitespace do not matter, and a quote
written with "..." is located by its first part. Claims sharing a passage share one mark. Clicking
a mark opens a panel: measured against expected, the explanation, the quote class and the
evidence links. A bar at the top counts the verdicts; a filter shows only the contradicted claims.

The page is self-contained and offline: one inline stylesheet, one inline script allowed by its
hash in the Content-Security-Policy, and the claims as JSON in a data block. Every piece of text
(profile, explanations, snippets, links) is escaped; links are only http(s).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.core.claims.spec import VERDICT_SEVERITY, VERDICTS
from pipelines.core.textnorm import norm_map, normalize_quote_text

# A line is a heading when it is short and does not read as a sentence.
_HEADING = re.compile(r"^[^.!?:;]{2,70}$")
_SEVERITY = {v: i for i, v in enumerate(VERDICT_SEVERITY)}


@dataclass
class Mark:
    start: int
    end: int
    claim_ids: list[str] = field(default_factory=list)


def locate(profile: str, quote: str, norm: tuple[str, Any] | None = None) -> tuple[int, int] | None:
    """(start, end) of the quote's words in the profile's text, or None."""
    hay, idx = norm or norm_map(profile)
    for part in [p for p in re.split(r"\.\.\.|…", quote) if normalize_quote_text(p)][:1] or [quote]:
        needle = normalize_quote_text(part)
        if not needle:
            continue
        at = (" " + hay + " ").find(" " + needle + " ")
        if at == -1:
            continue
        a, b = at, at + len(needle)  # offsets in ``hay`` (the leading space cancels the -1)
        return int(idx[a]), int(idx[min(b, len(idx)) - 1]) + 1
    return None


def marks_for(profile: str, claims: Sequence[dict[str, Any]]) -> tuple[list[Mark], list[str]]:
    """Non-overlapping marks over the profile (claims of one passage share a mark) and the ids of
    claims whose words the profile does not hold as written."""
    norm = norm_map(profile)
    spans: dict[tuple[int, int], Mark] = {}
    missing: list[str] = []
    for c in claims:
        where = locate(profile, c.get("quote") or "", norm)
        if where is None:
            missing.append(c["claim_id"])
            continue
        spans.setdefault(where, Mark(*where)).claim_ids.append(c["claim_id"])
    marks: list[Mark] = []
    for m in sorted(spans.values(), key=lambda m: (m.start, -m.end)):
        if marks and m.start < marks[-1].end:  # overlapping: the claims join the enclosing mark
            marks[-1].claim_ids += m.claim_ids
            marks[-1].end = max(marks[-1].end, m.end)
            continue
        marks.append(m)
    return marks, missing


def _worst(verdicts: Sequence[str]) -> str:
    return min(verdicts, key=lambda v: _SEVERITY.get(v, 9)) if verdicts else "not_checkable"


def _safe_link(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _paragraphs(profile: str, marks: list[Mark], verdict_of: dict[str, str]) -> str:
    """The profile as HTML: headings and paragraphs, marks inserted at their offsets, all escaped."""
    out: list[str] = []
    pos = 0
    mi = 0
    for line in profile.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        text = line.rstrip("\n")
        if not text.strip():
            continue
        parts: list[str] = []
        cur = start
        while mi < len(marks) and marks[mi].start < start + len(text):
            m = marks[mi]
            if m.end <= cur:
                mi += 1
                continue
            a, b = max(m.start, cur), min(m.end, start + len(text))
            parts.append(html.escape(profile[cur:a]))
            ids = " ".join(m.claim_ids)
            worst = _worst([verdict_of.get(i, "not_checkable") for i in m.claim_ids])
            parts.append(
                f'<mark class="v-{worst}" tabindex="0" role="button" data-claims="{html.escape(ids)}">'
                f"{html.escape(profile[a:b])}</mark>"
            )
            cur = b
            if m.end <= start + len(text):
                mi += 1
            else:
                break
        parts.append(html.escape(profile[cur : start + len(text)]))
        body = "".join(parts)
        if _HEADING.match(text.strip()) and len(text.split()) <= 9:
            out.append(f"<h2>{body}</h2>")
        else:
            out.append(f"<p>{body}</p>")
    return "\n".join(out)


_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('claims-data').textContent);
  var panel = document.getElementById('panel');
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function show(ids) {
    panel.replaceChildren();
    ids.split(' ').forEach(function (id) {
      var c = data[id]; if (!c) return;
      var box = el('div', 'claim');
      box.appendChild(el('span', 'badge v-' + c.verdict, c.verdict));
      box.appendChild(el('b', null, ' ' + id));
      box.appendChild(el('div', 'meta', 'measured ' + (c.measured || '-') + ' / expected ' + (c.expected || '-') + (c.quote_class ? ' · quote: ' + c.quote_class : '')));
      box.appendChild(el('p', null, c.explanation || ''));
      (c.evidence || []).forEach(function (e) {
        var row = el('div', 'ev');
        if (e.link) { var a = el('a', null, e.title || e.doc_id); a.href = e.link; a.rel = 'noopener noreferrer'; row.appendChild(a); }
        else { row.appendChild(el('span', null, (e.title || e.doc_id) + ' (no link)')); }
        row.appendChild(el('div', 'snip', e.snippet || ''));
        box.appendChild(row);
      });
      panel.appendChild(box);
    });
    panel.hidden = false;
  }
  document.querySelectorAll('mark[data-claims]').forEach(function (m) {
    m.addEventListener('click', function () { show(m.dataset.claims); });
    m.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') show(m.dataset.claims); });
  });
  document.getElementById('only-contradicted').addEventListener('change', function (ev) {
    document.body.classList.toggle('only-contradicted', ev.target.checked);
  });
})();
"""

_STYLE = """
body{font:15px/1.55 system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;background:#fafafa;border-bottom:1px solid #ddd;padding:.6em 1.2em;z-index:2}
main{max-width:46em;margin:1em auto;padding:0 1.2em}
h1{font-size:1.3em;margin:.2em 0} h2{font-size:1.05em;margin:1.4em 0 .3em}
mark{cursor:pointer;border-radius:3px;padding:0 .1em}
.v-supported{background:#d6f5d6}.v-contradicted{background:#ffc9c9}.v-lower_bound{background:#ffe8b3}
.v-not_checkable{background:#e6e6e6}.v-inconsistent{background:#e9d3ff}
body.only-contradicted mark:not(.v-contradicted){background:none;cursor:default}
.badge{display:inline-block;padding:0 .4em;border-radius:3px;font-size:.85em}
#panel{position:fixed;right:1em;top:7.5em;width:28em;max-height:75vh;overflow:auto;background:#fff;border:1px solid #bbb;
box-shadow:0 2px 8px #0002;padding:.8em;font-size:.9em}
.meta{color:#666;font-size:.9em}.ev{margin:.4em 0;padding-top:.3em;border-top:1px solid #eee}.snip{color:#444}
.counts span{margin-right:.8em}
"""


def render(profile: str, claims: Sequence[dict[str, Any]], evidence: dict[str, list[dict[str, Any]]],
           *, title: str, source: str) -> str:
    verdict_of = {c["claim_id"]: c["verdict"] for c in claims}
    marks, missing = marks_for(profile, claims)
    counts: dict[str, int] = defaultdict(int)
    for c in claims:
        counts[c["verdict"]] += 1
    payload = {
        c["claim_id"]: {
            "verdict": c["verdict"], "measured": c.get("measured"), "expected": c.get("expected"),
            "explanation": c.get("explanation"), "quote_class": c.get("quote_class"),
            "evidence": [
                {"doc_id": e.get("doc_id"), "title": e.get("title"), "link": _safe_link(e.get("link")),
                 "snippet": e.get("snippet")}
                for e in evidence.get(c["claim_id"], [])[:5]
            ],
        }
        for c in claims
    }
    # JSON inside a script element: "<" escaped so no text can close the element
    data = json.dumps(payload, ensure_ascii=False).replace("<", "\\u003c")
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    count_html = " ".join(
        f'<span><span class="badge v-{v}">{v}</span> {counts.get(v, 0)}</span>' for v in VERDICTS if counts.get(v)
    )
    unplaced = ""
    if missing:
        items = "".join(
            f'<li><mark class="v-{html.escape(verdict_of[i])}" tabindex="0" role="button" data-claims="{html.escape(i)}">'
            f"{html.escape(i)}</mark></li>"
            for i in missing
        )
        unplaced = (f"<h2>Claims whose words the profile does not hold as written</h2>"
                    f'<ul class="unplaced">{items}</ul>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<header><h1>{html.escape(title)}</h1>
<div class="counts">{count_html} <label><input type="checkbox" id="only-contradicted"> only contradicted</label>
· <a href="index.html">the report</a></div>
<div class="meta">The profile's own text ({html.escape(source)}), with {len(claims)} checked claims marked where they stand. Click a mark.</div></header>
<main>
{_paragraphs(profile, marks, verdict_of)}
{unplaced}
</main>
<aside id="panel" hidden></aside>
<script type="application/json" id="claims-data">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def write_profile_page(profile_path: Path, claims: Sequence[dict[str, Any]],
                       evidence: dict[str, list[dict[str, Any]]], out: Path, *, thinker: str | None = None) -> dict[str, Any]:
    """Write reports/profile.html; returns how many claims were placed in the text."""
    profile = profile_path.read_text(encoding="utf-8", errors="replace")
    title = f"{thinker}: the profile, annotated" if thinker else "The profile, annotated"
    page = render(profile, claims, evidence, title=title, source=profile_path.name)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    _, missing = marks_for(profile, claims)
    return {"path": str(out), "placed": len(claims) - len(missing), "unplaced": len(missing)}
