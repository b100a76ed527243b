-- TEXT is unbounded on this backend; the migration exists so every backend has the same list.
SELECT 1;
