"""The development broker: the project's own single-node KRaft Kafka.

``make kafka`` and ``newswatch broker`` run ``python -m cli.broker start``; ``newswatch run`` and
the integration tests use :class:`LocalKafka` directly. How it works, the measured timings and the
pitfalls are in deploy/kafka/README.md. Topic creation and broker probes, which the workers need
too, are in ``shared.admin``.

One job per module: ``paths`` (where its files live), ``jars`` (fetching them with Maven),
``config`` (server.properties, the SASL_SSL listener), ``storage`` (the KRaft data dir),
``ports``, ``jvm`` (starting Java), ``process`` (:class:`LocalKafka`) and ``command`` (the
entry point). This package re-exports what other code imports.
"""

from cli.broker.command import cmd_broker, main
from cli.broker.config import SCRAM_MECHANISMS, SaslSslListener, render_server_properties
from cli.broker.jars import fetch_jars
from cli.broker.paths import DEFAULT_DATA_DIR, DEFAULT_LIB_DIR, DEFAULT_PORT, POM
from cli.broker.ports import free_port
from cli.broker.process import LocalKafka
from cli.broker.storage import new_cluster_id

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_LIB_DIR",
    "DEFAULT_PORT",
    "POM",
    "SCRAM_MECHANISMS",
    "LocalKafka",
    "SaslSslListener",
    "cmd_broker",
    "fetch_jars",
    "free_port",
    "main",
    "new_cluster_id",
    "render_server_properties",
]
