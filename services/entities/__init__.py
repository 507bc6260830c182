"""entities: spaCy entities, domain entities and the countries of places."""
