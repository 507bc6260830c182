"""The services: one package per service word (clean, dedup, entities, alerts) and the stage registry."""
