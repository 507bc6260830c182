"""Metadata from a story's text, one module per concern: str in, plain values out; pure.

- ``dates``: absolute and relative publication dates, date lines, never a date in the future;
- ``bylines``: author names from bylines;
- ``source``: the registered domain of a URL or host, the wire dateline at the start of a lede;
- ``language``: the language detector and the stop-word list of a language.

Nothing is re-exported here: import from the module that owns the concern.
"""
