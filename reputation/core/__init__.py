"""The ground floor: helpers that every app may import.

Task plumbing (`tasks`), API plumbing (`api`), Postgres text helpers (`pg`), errors
(`errors`) and domain events (`events`). Nothing here imports from `tenants`, `inbox`
or `escalation`: `make lint` checks it (import-linter contracts in `.importlinter`).
The audit trail's model and writer are the `reputation.audit` app, on the same floor.
"""
