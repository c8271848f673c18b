"""Facts about the runner APK itself, read from the file (no device needed).

- elf.py: the LOAD-segment alignment of every native library, and whether it loads on 16 KB-page
  devices (Android 15+).
"""
