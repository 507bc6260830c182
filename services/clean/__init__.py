"""clean: raw JSON, text or HTML → a clean article per story."""
