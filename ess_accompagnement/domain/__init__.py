"""What the app knows and does: entities, rules, use cases and queries. No Qt, no files, no network."""
