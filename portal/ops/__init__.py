"""Operating the portal: health, metrics, structured logs, production settings, replicas."""
