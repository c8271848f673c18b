"""The study's training protocol (config.py), its loop (trainer.py), and `fermbench train/evaluate`."""
