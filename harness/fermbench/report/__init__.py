"""`fermbench report`: stored sessions -> tables, charts and comparisons.

results.py   load sessions (fermbench.store) and training runs into typed ModelResults
training.py  results/training/<run-id>/{metrics.csv, run.json}: curves and final numbers
tables.py    stable columns (csv/json) and per-device sections (terminal, markdown)
formats.py   cell formats and the four renderers
charts.py    the study's Charts 1-7, confusion matrices, latency against accuracy (PNG)
compare.py   session B against session A per model: ratio of medians, CI, verdict
commands.py  the click command
"""
