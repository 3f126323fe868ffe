-- Raw files and fetches that did not become documents, with the reason.
SELECT status, coalesce(path, origin) AS file, format, error
FROM snapshots
WHERE status NOT IN ('accepted', 'metadata')
ORDER BY status, file;
