-- The lease exists from the start, free (expired, held by nobody), so taking it is always an UPDATE.
INSERT INTO cluster_lease (id, holder, epoch, expires_ms) VALUES (1, '', 0, 0);
