"""Where a benchmark runs, below both the session (bench/) and the runner APK's commands (apk/).

- target.py: the Target interface the session uses, what it records (Description, Environment),
  one runner call with a timeout (run_with_timeout), the host CPU's lock (HOST_CPU)
- host.py: the host CPU with the host runner
- android.py: a phone, an emulator or a simulated phone, through `fermbench.device`
"""

from .android import AndroidTarget, adb_port_from_env
from .host import HostTarget
from .target import HOST, HOST_CPU, Description, Environment, RunnerCall, Target, run_with_timeout

__all__ = [
    "HOST",
    "HOST_CPU",
    "AndroidTarget",
    "Description",
    "Environment",
    "HostTarget",
    "RunnerCall",
    "Target",
    "adb_port_from_env",
    "run_with_timeout",
]
