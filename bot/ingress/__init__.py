"""HTTP ingress: verify each webhook, put it on Kafka, then answer."""
