"""The desktop interface (PySide6). Everything Qt lives under this package."""
