"""The naive ingress ferrybot's is measured against: verify, produce (acks=all), answer 202."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json

from aiohttp import web
from aiokafka import AIOKafkaProducer


def main(port: int, bootstrap: str, secret: str, topic: str, compression: str) -> None:
    """Serve /webhooks/github on 127.0.0.1:port until killed."""
    producer: AIOKafkaProducer | None = None

    async def start(app: web.Application) -> None:
        nonlocal producer
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            compression_type=compression,
            max_batch_size=1024 * 1024,  # the same batch size as ferrybot's producer
            max_request_size=32 * 1024 * 1024,
            linger_ms=0,
        )
        await producer.start()

    async def stop(app: web.Application) -> None:
        assert producer is not None
        await producer.stop()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return web.json_response({"error": "bad signature"}, status=401)
        payload = json.loads(body)
        key = payload["repository"]["full_name"] + "#" + str(payload.get("number", ""))
        assert producer is not None
        await producer.send_and_wait(topic, body, key=key.encode())
        return web.json_response({"accepted": [request.headers["X-GitHub-Delivery"]]}, status=202)

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/webhooks/github", receive)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--topic", default="baseline.events")
    parser.add_argument("--compression", default="zstd")
    args = parser.parse_args()
    main(args.port, args.bootstrap, args.secret, args.topic, args.compression)
