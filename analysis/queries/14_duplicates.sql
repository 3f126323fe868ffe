-- Items that arrived in more than one file, and which version was kept.
SELECT d.doc_id, d.kind, d.versions, d.format AS kept_format, n.path AS kept_from
FROM documents d JOIN snapshots n USING (snapshot_id)
WHERE d.versions > 1
ORDER BY d.versions DESC, d.doc_id;
