"""The runtime: what turns the layers below into one running process (settings built once,
connectors assembled from a registry, the one web application, the instance lock, signals)."""
