"""The web page over the query API: search, histogram, fields, context, live tail, stats, saved searches.

Server-rendered (Jinja2) with htmx for the parts that change in place and uPlot for the charts, both
vendored under ``ui/static/vendor`` with their licences. It builds on ``query/`` (the same backend
functions and filters as the JSON API) and ``core/``; nothing below the roof imports it.
"""
