"""newswatch shared package: message schemas, topic registry, settings, metrics and Kafka helpers."""
