"""alerts: rules over enriched articles, and the events the alerts fold into."""
