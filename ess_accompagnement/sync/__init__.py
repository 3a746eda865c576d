"""Offline copies that agree: change capture, merge, and signed sync bundles (see shared/design/sync.md)."""
