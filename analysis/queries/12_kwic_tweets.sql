-- Keyword in context over the author's own tweets.
-- param word: the word to find, a regular expression (default scratch)
-- In the DuckDB CLI set it first:  SET VARIABLE word = 'factorio';
SELECT t.created_at::DATE AS date, d.url,
       regexp_extract(d.text, '(?i)(.{0,60})\b' || coalesce(getvariable('word'), 'scratch') || '\b(.{0,60})', 0) AS context
FROM tweets t JOIN documents d USING (doc_id)
WHERE d.is_own AND regexp_matches(d.text, '(?i)\b' || coalesce(getvariable('word'), 'scratch') || '\b')
ORDER BY t.created_at;
