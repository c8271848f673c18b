"""Example models and data for the README's "Your own model" section (not part of the package)."""
