"""Small widgets shared by the screens (global search, long-task progress, labelled filters)."""
