"""Platform connectors: each translates between one platform and `Incoming` / `Reply`."""
