"""``newswatch report``: one self-contained HTML page of events, places, stories, throughput and dead letters.

``build`` is pure (records in, HTML out, no Kafka); ``command`` reads the topics and Prometheus.
"""
