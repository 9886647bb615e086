"""File names of the pair-quality report folder (catalog.report)."""

REPORT_FILE = "index.html"  # the self-contained page
