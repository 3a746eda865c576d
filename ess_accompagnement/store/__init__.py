"""How data is kept: engine and sessions, migrations, derived search tables, reference data."""
