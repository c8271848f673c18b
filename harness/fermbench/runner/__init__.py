"""The runner step: the host<->runner protocol and the host implementation of the runner.

- protocol.py: `-e` argument builders, validation, the images file, runners per runtime, typed
  results, decode_result
- host.py: the runner in Python (run_instrumentation for a simulated phone, run_host for a baseline)
- instrument_output.py: the parser of what the runner prints through `am instrument -r` (the
  protocol's wire format), used by the device layer, the targets and the simulated phone
- engines.py: the runtimes host.py runs, PyTorch Lite (.ptl) and ExecuTorch (.pte), mirroring the
  APK's Engine

android-runner/PROTOCOL.md is the single source of truth for all of them and for the APK.
"""
