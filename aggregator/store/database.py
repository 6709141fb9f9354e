"""The Store: one class over one database, composed of its methods grouped by concern.

It satisfies the Protocols of api.py (source states, post writing, publishing reads,
metrics, leases, subscriptions). Adds no method of its own: each lives in sources.py,
posts.py or reads.py, retag.py, nodes.py, history.py or subscriptions.py, and its
transactions in transactions.py.
"""

from __future__ import annotations

from aggregator.store.history import HistoryMethods
from aggregator.store.nodes import NodeMethods
from aggregator.store.posts import PostMethods
from aggregator.store.reads import CountMethods, ReadMethods
from aggregator.store.retag import RetagMethods
from aggregator.store.sources import SourceMethods
from aggregator.store.subscriptions import SubscriptionMethods

__all__ = ["Store"]


class Store(
    SourceMethods,
    PostMethods,
    ReadMethods,
    RetagMethods,
    CountMethods,
    NodeMethods,
    HistoryMethods,
    SubscriptionMethods,
):
    """Posts and source state in one database. Every method is one short transaction.

    Raises (every method):
        StoreError: the database refused the operation or could not be reached.
    """
