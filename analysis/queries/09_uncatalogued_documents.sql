-- Documents found in raw/ that match no catalog source (candidates to add to catalog.yaml).
SELECT d.kind, d.title, d.url, d.word_count, d.published_at::DATE AS date
FROM documents d JOIN sources s USING (source_id)
WHERE NOT s.in_catalog AND d.kind <> 'tweet'
ORDER BY d.kind, d.word_count DESC;
