"""The ways a payload arrives. Each stores it through `inbox.pipeline.accept`.

- `webhooks` and `deliveries`: Meta and Google Pub/Sub pushes on the public host,
  stored as deliveries, then split per practice.
- `polling`: scheduled pulls (GBP, feeds, X, Yelp, Tripadvisor).
- `importing`: bulk files, stored in chunks.
The per-practice API push is `inbox.api`.
"""
