"""Where the development broker's files live: deploy/kafka and .cache/kafka."""

from __future__ import annotations

from pathlib import Path

from shared.settings import DEFAULT_BOOTSTRAP

REPO = Path(__file__).resolve().parents[2]
KAFKA_DEPLOY_DIR = REPO / "deploy" / "kafka"
POM = KAFKA_DEPLOY_DIR / "pom.xml"
SERVER_PROPERTIES_TEMPLATE = KAFKA_DEPLOY_DIR / "server.properties"
LOG4J_PROPERTIES = KAFKA_DEPLOY_DIR / "log4j.properties"
DEFAULT_LIB_DIR = REPO / ".cache" / "kafka" / "lib"
DEFAULT_DATA_DIR = REPO / ".cache" / "kafka" / "data"
# The services' default bootstrap is this broker's default listener.
DEFAULT_PORT = int(DEFAULT_BOOTSTRAP.rpartition(":")[2])
