-- Words collected per catalog source against the profile's claimed figure.
SELECT s.source_id, s.kind, s.title, s.claimed_words,
       coalesce(sum(d.word_count), 0)                                   AS collected_words,
       round(coalesce(sum(d.word_count), 0) / nullif(s.claimed_words, 0), 2) AS ratio
FROM sources s LEFT JOIN documents d USING (source_id)
WHERE s.claimed_words IS NOT NULL
GROUP BY s.source_id, s.kind, s.title, s.claimed_words
ORDER BY s.kind, s.source_id;
