"""The benchmark suite itself must keep working."""
