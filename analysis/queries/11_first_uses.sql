-- When each tracked phrase first appears in the author's own words, and where.
SELECT phrase_id, first_seen::DATE AS first_seen, kind, doc_id, url
FROM first_uses
ORDER BY first_seen;
