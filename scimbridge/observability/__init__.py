"""What an operator sees of the running bridge: metrics, logs, health."""
