"""The path of a mention, one module per step, each importing only the steps after it.

1. `accept`    store the payload raw, claim it, run the steps below; retries
2. `parse`     per platform, into `NormalisedMention`s (`chunks`: imported files)
3. `store`     de-duplicate on (platform, external id) and insert; edits and removals
4. `listen`    listening rules: brand names, aliases, exclusions
5. `analyse`   language, sentiment, category, severity (`reputation.analysis`)
6. `route`     owner, status and deadline (`deadlines`), alerts (`alerts`)

Every source (`inbox.sources`: webhooks, polls, imports; and the API's push) hands its
payload to `accept.raw_payload_accept`.
"""
