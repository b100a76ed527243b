DELETE FROM cluster_lease;
