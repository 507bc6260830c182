"""Input formats of the clean stage, one module per format behind one interface (``base``).

``html`` (trafilatura), ``sgml`` (Reuters-21578 records) and ``text`` (plain text and pasted
dumps). ``core.EXTRACTORS`` orders them; nothing is re-exported here.
"""
