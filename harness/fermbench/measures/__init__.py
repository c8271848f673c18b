"""What a latency run measures, defined once: the metric table (metrics.py).

Imported by the runner protocol, the store and the report; it imports none of them, so the
arrows only point down to it.
"""
