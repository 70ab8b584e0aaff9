"""The plugin layer: the runtime contract (exit codes, -t, status line, JSON), shared option
groups, and each check's nagiosplugin Resource/Context/Summary classes.

The only package that may import argparse or nagiosplugin (besides ``plugins/check_*.py``);
it may import every other sub-package.
"""
