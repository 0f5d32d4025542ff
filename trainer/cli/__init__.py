"""The command line: click commands and the screens they draw (review, status, stats, import)."""
