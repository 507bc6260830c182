"""The whole pipeline end to end through Kafka, against bare spaCy."""
