"""dedup: exact and near-duplicate articles dropped, seen sentences marked."""
