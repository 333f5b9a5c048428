"""Alert rules over logferry's own store: rules are queries (``query/``), evaluated on a schedule in
event time, their state kept across restarts, notifications delivered to Alertmanager and webhooks.

``config`` (the ``[alerts]`` models), ``rules`` (a rule compiled to the measures a backend answers),
``state`` (pending → firing → resolved, a pure function of the measures), ``store`` (where the state,
the history and the evaluator's lease live: the data dir or an Elasticsearch index), ``notify``
(receivers, retried with backoff on threads of their own), ``evaluator`` (the schedule, and the
backtest over stored history). Builds on ``query/`` and ``core/``, never on ``ingest/``.
"""
