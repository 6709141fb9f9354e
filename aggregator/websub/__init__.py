"""WebSub subscriptions, push in (W3C WebSub): this site as a subscriber to its sources' hubs.

    records.py     the `websub:` section, a Subscription, a Push (values only)
    plan.py        which subscriptions to request or renew, and when (pure)
    signature.py   X-Hub-Signature: an HMAC of a push's body checked (pure)
    routes.py      `serve`'s /websub/<id>: the hub's verification and its pushes, into the store
    subscriber.py  the daemon's side: subscribe and renew through fetch.subscribe, record it

A push is stored, then processed by the daemon exactly as a fetched body (the update stage).
Must NOT parse or store posts here, nor speak HTTP but through aggregator.fetch (the
requests to hubs) and the routes serve is given (the requests from hubs). Imports nothing
itself: types.py re-exports records.WebSub.
"""
