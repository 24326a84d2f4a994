"""Reference data with no database and no rules: code tables both layers read."""
