"""Item models of the list screens, fed by the domain's query services (ids first, rows on demand)."""
