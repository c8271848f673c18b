"""The runner step: the host<->runner protocol and the host implementation of the runner.

- protocol.py: `-e` argument builders, validation, the images file, runners per runtime, typed
  results, decode_result
- host.py: the runner in Python (run_instrumentation for a simulated phone, run_host for a baseline)
- engines.py: the runtimes host.py runs, PyTorch Lite (.ptl) and ExecuTorch (.pte), mirroring the
  APK's Engine

android-runner/PROTOCOL.md is the single source of truth for all of them and for the APK. The
`am instrument -r` output format belongs to adb's side: device/instrument_output.py parses it.
"""
