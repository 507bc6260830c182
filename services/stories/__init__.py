"""stories: every unique article joins the story it tells (online clustering over sentence embeddings, entities and time)."""
