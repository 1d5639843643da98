"""The package's version, in a module of its own.

It lives below everything (layer 0) so that any module can state the version (the pytest
plugin's report header, the cli's ``--version``) without importing the package's ``__init__``,
which sits at the top of the layer map (``shared/ARCHITECTURE.md``).
"""

__version__ = "0.1.0"
