(function () {
  "use strict";
  // The project's one text normalisation (pipelines/core/textnorm.py), in JavaScript: letters and
  // digits lowered, apostrophes dropped, every other run of characters one space. map[i] is the
  // offset in the original text of the i-th normalised character (for marking matches).
  var APOS = "'\u2019\u2018`\u00b4\u02bc";
  var ALNUM = /[\p{L}\p{N}]/u;
  function normMap(text) {
    var out = [], map = [], sep = false, i = 0;
    for (var ch of text) {
      if (APOS.indexOf(ch) >= 0) { i += ch.length; continue; }
      if (ALNUM.test(ch)) {
        if (sep && out.length) { out.push(" "); map.push(i); }
        sep = false;
        var low = ch === "\u03a3" ? "\u03c3" : ch.toLowerCase();
        for (var c of low) { out.push(c); map.push(i); }
      } else {
        sep = true;
      }
      i += ch.length;
    }
    return { norm: out.join(""), map: map };
  }
  function norm(text) { return normMap(text).norm; }

  var data = JSON.parse(document.getElementById("tweets-data").textContent);
  var tweets = data.tweets.map(function (t) {
    var m = normMap(t.text);
    return { date: t.date, year: t.date.slice(0, 4), reply: t.reply, text: t.text, url: t.url, norm: " " + m.norm + " ", map: m.map };
  });
  var q = document.getElementById("q"), year = document.getElementById("year"), replies = document.getElementById("replies");
  var list = document.getElementById("results"), count = document.getElementById("count");
  var LIMIT = 200;

  // A query: words that must each start a word of the tweet (the last one may be unfinished), or,
  // between double quotes, a phrase that must occur as whole words.
  function matcher(raw) {
    var s = raw.trim(), phrase = s.length > 1 && s[0] === '"';
    var words = norm(s).split(" ").filter(Boolean);
    if (!words.length) { return null; }
    if (phrase) {
      var p = " " + words.join(" ") + " ";
      return function (t) {
        var spans = [], at = t.norm.indexOf(p);
        while (at >= 0) { spans.push([at, at + p.length - 2]); at = t.norm.indexOf(p, at + p.length - 1); }
        return spans.length ? spans : null;
      };
    }
    return function (t) {
      var spans = [];
      for (var w of words) {
        var at = t.norm.indexOf(" " + w), found = false;
        while (at >= 0) { spans.push([at, at + w.length]); found = true; at = t.norm.indexOf(" " + w, at + 1); }
        if (!found) { return null; }
      }
      return spans;
    };
  }

  // The tweet's text with the matched spans (in normalised offsets, +1 for the leading space) marked.
  function marked(t, spans) {
    var frag = document.createDocumentFragment(), last = 0;
    var orig = spans.map(function (s) { return [t.map[s[0]], t.map[s[1] - 1] + 1]; }).sort(function (a, b) { return a[0] - b[0]; });
    for (var s of orig) {
      if (s[0] < last) { continue; }
      frag.appendChild(document.createTextNode(t.text.slice(last, s[0])));
      var mk = document.createElement("mark");
      mk.textContent = t.text.slice(s[0], s[1]);
      frag.appendChild(mk);
      last = s[1];
    }
    frag.appendChild(document.createTextNode(t.text.slice(last)));
    return frag;
  }

  function render() {
    var match = matcher(q.value), y = year.value, r = replies.value, shown = 0, total = 0;
    list.textContent = "";
    for (var t of tweets) {
      if (y && t.year !== y) { continue; }
      if ((r === "exclude" && t.reply) || (r === "only" && !t.reply)) { continue; }
      var spans = match ? match(t) : [];
      if (spans === null) { continue; }
      total += 1;
      if (shown >= LIMIT) { continue; }
      shown += 1;
      var li = document.createElement("li");
      var head = document.createElement("div");
      head.className = "meta";
      var when = document.createElement("time");
      when.textContent = t.date;
      head.appendChild(when);
      if (t.reply) { var tag = document.createElement("span"); tag.className = "tag"; tag.textContent = "reply"; head.appendChild(tag); }
      if (t.url) {
        var a = document.createElement("a");
        a.href = t.url;
        a.rel = "noopener noreferrer";
        a.textContent = "open";
        head.appendChild(a);
      } else {
        var none = document.createElement("span"); none.className = "nolink"; none.textContent = "no status link"; head.appendChild(none);
      }
      var body = document.createElement("p");
      body.appendChild(match ? marked(t, spans) : document.createTextNode(t.text));
      li.appendChild(head);
      li.appendChild(body);
      list.appendChild(li);
    }
    count.textContent = total + (total === 1 ? " tweet" : " tweets") + (match ? " match" + (total === 1 ? "es" : "") : "") +
      (shown < total ? " (first " + shown + " shown)" : "");
    count.setAttribute("data-count", String(total));
  }

  var years = Array.from(new Set(tweets.map(function (t) { return t.year; }))).sort().reverse();
  for (var y of years) { var o = document.createElement("option"); o.value = y; o.textContent = y; year.appendChild(o); }
  document.getElementById("search").addEventListener("submit", function (e) { e.preventDefault(); });
  q.addEventListener("input", render);
  year.addEventListener("change", render);
  replies.addEventListener("change", render);
  document.getElementById("noscript-note").hidden = true;
  document.getElementById("search").hidden = false;
  render();
}());
