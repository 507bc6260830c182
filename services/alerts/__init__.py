"""The alerts service: rules over enriched articles, and the events they report."""
