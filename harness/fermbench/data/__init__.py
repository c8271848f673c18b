"""FER-2013 and real-world photos: loading, validation, caching, and `fermbench data`.

Import what you need from its module (`from fermbench.data.fer2013 import load_split`); nothing
here imports OpenCV at package import time.
"""
