"""fermbench: benchmark facial-expression-recognition models on Android phones over ADB.

The pipeline, one folder a step:
zoo -> training -> export -> device -> runner -> bench -> report
"""

__version__ = "0.1.0"
