"""The delivery ledger: deployments tied to promotions and artifacts, and the metrics over them."""
