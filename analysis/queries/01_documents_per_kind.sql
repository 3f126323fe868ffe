-- Documents and words per kind, with how many are the thinker's own words.
SELECT kind,
       count(*)                          AS documents,
       sum(word_count)                   AS words,
       count(*) FILTER (WHERE is_own)    AS own_documents,
       min(published_at)::DATE           AS first,
       max(published_at)::DATE           AS last
FROM documents
GROUP BY kind
ORDER BY words DESC;
