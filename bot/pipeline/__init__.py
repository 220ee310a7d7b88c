"""The Kafka pipeline: bus, embedded broker, worker, dispatch, dedupe, retry, replay, runtime."""
